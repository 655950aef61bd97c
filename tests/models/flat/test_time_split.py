"""Flat mode across time: a time-ordered split, and the best model on it as the champion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.config import TrainConfig
from models.flat import FlatConfig, prepare_flat
from models.flat.split import folds_of
from scoring.cli import EXIT_BAD_INPUT, app

runner = CliRunner()


def _drifting_table(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Rows in time order; the driver drifts upward, so the latest rows lie beyond the range
    the earliest rows cover: a tree cannot extrapolate, a linear model can."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    intensity = t / n * 3 + rng.normal(0, 0.3, n)
    p = 1 / (1 + np.exp(-(2.5 * (intensity - 2.2) + rng.normal(0, 0.5, n))))
    return pd.DataFrame(
        {
            "Row": [f"r{i}" for i in t],
            "Month": pd.Timestamp("2025-01-01") + pd.to_timedelta(t // 10, unit="D"),
            "Intensity": np.round(intensity, 3),
            "Segment": rng.choice(["a", "b", "c"], n),
            "Won": (rng.random(n) < p).astype(int),
        }
    )


def test_ordered_and_time_column_folds_follow_time() -> None:
    frame = _drifting_table()
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    by_time = prepare_flat(shuffled, "Won", "Row", time_column="Month")
    folds = folds_of(by_time, FlatConfig(), 0)
    months = shuffled["Month"].to_numpy()
    assert months[folds["train"]].max() <= months[folds["test"]].min()
    in_order = prepare_flat(frame, "Won", "Row", ordered=True)
    folds = folds_of(in_order, FlatConfig(), 0)
    assert folds["test"].min() > folds["train"].max()
    assert len(folds["test"]) == round(len(frame) * FlatConfig().test_size)
    assert "Month" not in by_time.X.columns  # the time itself is not a feature


def test_the_champion_is_the_best_model_on_the_time_holdout(tmp_path: Path) -> None:
    frame = _drifting_table()
    path = tmp_path / "ordered.csv"
    frame.drop(columns="Month").to_csv(path, index=False)
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    common = ["--tracking-uri", tracking, "--store", f"duckdb:///{tmp_path / 's.duckdb'}"]
    result = runner.invoke(
        app, ["train", "--flat", str(path), "--label", "Won", "--id", "Row", "--ordered", *common]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "split by time, in row order" in out and "NOT point-in-time: a random" not in out
    assert "logistic wins on the holdout" in out, out  # LightGBM cannot extrapolate the drift
    from mlflow import MlflowClient

    from models import configure, get_champion

    configure(tracking)
    champion = get_champion("lead-conversion-flat")
    assert MlflowClient().get_run(champion.run_id).data.tags["model_type"] == "logistic"
    scores = tmp_path / "scores.csv"
    scored = runner.invoke(app, ["score", "--flat", str(path), "--out", str(scores), *common])
    assert scored.exit_code == 0, scored.output
    reasons = [str(r).split(" | ") for r in pd.read_csv(scores)["top_reasons"]]
    assert all(r and r[0][:2] in ("▲ ", "▼ ") for r in reasons)
    assert any("Intensity" in item for r in reasons for item in r)


def test_time_options_are_checked(tmp_path: Path) -> None:
    frame = _drifting_table(200)
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    both = ["--flat", str(path), "--label", "Won", "--ordered", "--time-column", "Month"]
    result = runner.invoke(app, ["train", *both])
    assert result.exit_code == EXIT_BAD_INPUT and "give one" in result.output
    result = runner.invoke(app, ["train", "--ordered"])
    assert result.exit_code == EXIT_BAD_INPUT and "go with --flat" in result.output
    with pytest.raises(Exception, match="no value parses"):
        prepare_flat(frame.assign(Month="soon"), "Won", time_column="Month")
    assert TrainConfig().leakage.fill_gap > 0
