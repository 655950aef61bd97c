"""The evaluation table and the AUC-gain interval."""

from __future__ import annotations

import numpy as np
import pytest

from models.comparison import auc_gain_interval, evaluation_table
from models.evaluation import classification_metrics


@pytest.fixture(scope="module")
def holdout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    signal = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * signal - 2)))).astype(int)
    return y, 1 / (1 + np.exp(-(2 * signal - 2))), rng.random(2000)


def test_one_row_per_model_with_the_classification_metrics(holdout) -> None:
    y, good, noise = holdout
    table = evaluation_table(y, {"lightgbm": good, "random": noise})
    assert list(table["model"]) == ["lightgbm", "random"]
    assert list(table.columns) == ["model", *classification_metrics(y, good)]
    row = table.set_index("model").loc["lightgbm"].to_dict()
    assert row == pytest.approx(classification_metrics(y, good))
    assert table.loc[0, "roc_auc"] > table.loc[1, "roc_auc"]


def test_empty_and_mismatched_inputs(holdout) -> None:
    y, good, _ = holdout
    empty = evaluation_table(y, {})
    assert empty.empty and list(empty.columns)[:2] == ["model", "n"]
    with pytest.raises(ValueError, match="'short'"):
        evaluation_table(y, {"short": good[:10]})


def test_auc_gain_of_a_model_over_itself_is_exactly_zero(holdout) -> None:
    y, good, _ = holdout
    assert auc_gain_interval(y, good, good, n_boot=50) == (0.0, 0.0, 0.0)


def test_auc_gain_over_noise_is_positive_and_its_interval_excludes_zero(holdout) -> None:
    y, good, noise = holdout
    gain, low, high = auc_gain_interval(y, good, noise, n_boot=200)
    assert low < gain < high
    assert low > 0.2
    assert gain == pytest.approx(
        classification_metrics(y, good)["roc_auc"] - classification_metrics(y, noise)["roc_auc"]
    )


def test_resampling_by_group_widens_the_interval_when_rows_repeat(holdout) -> None:
    y, good, noise = holdout
    # Every lead appears five times: row-wise resampling overstates the evidence.
    y5, good5, noise5 = (np.repeat(a[:400], 5) for a in (y, good, noise))
    groups = np.repeat(np.arange(400), 5)
    _, row_low, row_high = auc_gain_interval(y5, good5, noise5, n_boot=200, seed=1)
    _, lead_low, lead_high = auc_gain_interval(y5, good5, noise5, groups, n_boot=200, seed=1)
    assert (lead_high - lead_low) > 1.5 * (row_high - row_low)
