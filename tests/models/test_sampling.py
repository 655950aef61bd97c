"""Sampling by default above a size: negatives of a big training fold, rows for the checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import TrainConfig
from models.sampling import automatic_negative_rate, fit_sample
from models.training import build_training_frame
from pipelines.config import FeaturesConfig
from pipelines.inputs import validate_inputs


def test_the_automatic_rate_keeps_every_positive_and_about_the_cap() -> None:
    labels = np.array([1] * 100 + [0] * 9_900)
    assert automatic_negative_rate(labels, 10_000) == 1.0
    rate = automatic_negative_rate(labels, 2_000)
    assert rate == 1_900 / 9_900
    assert fit_sample(10, 10) is None
    sample = fit_sample(1_000, 300, seed=2)
    assert sample is not None and len(np.unique(sample)) == 300
    assert (np.diff(sample) > 0).all() and np.array_equal(sample, fit_sample(1_000, 300, seed=2))


def test_a_training_fold_above_the_cap_is_sampled_by_default(small_crm: dict) -> None:
    tables = validate_inputs(dict(small_crm))
    whole, _ = build_training_frame(tables, TrainConfig(), FeaturesConfig())
    train = whole[whole["fold"] == "train"]
    assert "sample_weight" not in whole  # below the cap: every row, as before
    cap = len(train) // 3
    snapshots = TrainConfig().snapshots.model_copy(update={"sample_above_rows": cap})
    sampled, _ = build_training_frame(tables, TrainConfig(snapshots=snapshots), FeaturesConfig())
    kept = sampled[sampled["fold"] == "train"]
    assert abs(len(kept) - cap) < 0.05 * cap
    assert (kept["label"] == 1).sum() == (train["label"] == 1).sum()
    held = sampled[sampled["fold"] != "train"].drop(columns="sample_weight")
    pd.testing.assert_frame_equal(
        held.reset_index(drop=True), whole[whole["fold"] != "train"].reset_index(drop=True)
    )
