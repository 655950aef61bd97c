"""Training configuration (``configs/train.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.config import Frozen


class SnapshotSettings(Frozen):
    cadence: Literal["weekly", "monthly"] = "weekly"
    warmup_days: int = Field(28, ge=0, description="first snapshot this long after the first lead")
    max_per_lead: int | None = Field(8, ge=1)


class SplitSettings(Frozen):
    test_days: int = Field(91, gt=0, description="latest labelled period held out for testing")
    calibration_days: int = Field(56, ge=0, description="0 disables calibration")
    purge_days: int | None = Field(
        None, ge=0, description="gap between folds; default: the horizon"
    )


class LightGBMSettings(Frozen):
    n_estimators: int = Field(300, gt=0)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, gt=1)
    min_child_samples: int = Field(50, gt=0)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = 1
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    n_jobs: int = Field(1, description="LightGBM threads; 1 is fastest on a shared 2-core box")


class TrainConfig(Frozen):
    model_name: str = "lead-conversion"
    seed: int = 0
    snapshots: SnapshotSettings = SnapshotSettings()
    split: SplitSettings = SplitSettings()
    lightgbm: LightGBMSettings = LightGBMSettings()
    calibration: Literal["isotonic", "sigmoid", "auto"] = "auto"
    min_leads: int = Field(200, ge=1)
    min_conversions: int = Field(30, ge=1)
    families: tuple[str, ...] = (
        "authority",
        "need",
        "budget",
        "timing",
        "fit",
        "engagement",
        "stage",
    )
