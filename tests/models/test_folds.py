"""Folds: one model-input copy shared by the folds (and the refit), the raw frame let go."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.splits import Folds
from pipelines.features import model_input


def _frame(folds: list[str]) -> pd.DataFrame:
    n = len(folds)
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "snapshot_at": pd.Timestamp("2026-01-05", tz="UTC")
            + pd.to_timedelta(np.arange(n), "D"),
            "label": rng.integers(0, 2, n).astype("int8"),
            "fold": folds,
            "sample_weight": np.ones(n),
            "employees": rng.random(n),
            "industry": pd.Series(["saas", None] * (n // 2), dtype="str"),
            "eng_web_visit_30d": rng.integers(0, 5, n).astype("float64"),
        }
    )


@pytest.mark.parametrize(
    "layout",
    [
        ["calibration"] * 3 + ["test"] * 4 + ["train"] * 5,  # as build_training_frame lays out
        ["train", "test", "calibration"] * 4,  # interleaved: still right, by copies
    ],
)
def test_each_fold_is_the_model_input_of_its_rows(layout: list[str]) -> None:
    frame = _frame(layout)
    folds = Folds.of(frame)
    pd.testing.assert_frame_equal(folds.inputs, model_input(frame))
    for name in ("train", "calibration", "test"):
        part = frame[frame["fold"] == name]
        pd.testing.assert_frame_equal(folds.X[name], model_input(part))
        np.testing.assert_array_equal(folds.y[name], part["label"].to_numpy())
    assert list(folds.frame.columns) == ["lead_id", "snapshot_at", "label", "fold", "sample_weight"]
    np.testing.assert_array_equal(folds.weights("train"), np.ones(layout.count("train")))
    assert folds.counts().loc["test", "rows"] == layout.count("test")


def test_contiguous_folds_share_the_inputs_memory() -> None:
    folds = Folds.of(_frame(["calibration"] * 3 + ["test"] * 4 + ["train"] * 5))
    train = folds.X["train"]["employees"].to_numpy()
    assert np.shares_memory(train, folds.inputs["employees"].to_numpy())
