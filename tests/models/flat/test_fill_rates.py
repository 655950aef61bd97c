"""Flat mode (issue 16): a column filled in only once the outcome is known is flagged,
left out of LightGBM and of the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.config import TrainConfig
from models.flat import FlatConfig, prepare_flat, train_flat


def _table(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.poisson(4, n)
    won = rng.random(n) < 1 / (1 + np.exp(-(visits - 5) / 1.5))
    return pd.DataFrame(
        {
            "Row": [f"r{i}" for i in range(n)],
            "Visits": visits.astype(str),
            "Source": rng.choice(["web", "partner", "event"], n),
            # Planted: sales fill the account size in when a deal is won, rarely before.
            "Account Size": np.where(
                won | (rng.random(n) < 0.2), rng.choice(["small", "mid", "large"], n), ""
            ),
            "Won": won.astype(int),
        }
    ).astype(object)


def _train(frame: pd.DataFrame, tmp_path, name: str):  # noqa: ANN001, ANN202
    from models import configure

    tracking = f"sqlite:///{tmp_path / f'{name}.db'}"
    configure(tracking)
    data = prepare_flat(frame, "Won", id_column="Row")
    return train_flat(data, FlatConfig(), TrainConfig(), tracking, model_name=f"flat-{name}")


def test_a_field_filled_with_the_outcome_is_left_out_of_every_model(tmp_path) -> None:  # noqa: ANN001
    frame = _table()
    planted = _train(frame, tmp_path, "planted")
    flagged = planted.fill_rates[planted.fill_rates["action"] != "ok"]
    assert "Account Size" in set(flagged["column"])
    clean = _train(frame.drop(columns="Account Size"), tmp_path, "clean")
    # Given or missing, the field alone would rank the holdout almost perfectly; blanked,
    # every model (LightGBM and the baselines) scores as it does without the column.
    auc = {r.model: r.roc_auc for r in planted.evaluation.itertuples()}
    auc_clean = {r.model: r.roc_auc for r in clean.evaluation.itertuples()}
    assert set(auc) >= {"lightgbm", "logistic", "naive_bayes"}
    for model, value in auc.items():
        assert abs(value - auc_clean[model]) < 0.02, (model, value, auc_clean[model])
