"""Time-based folds over snapshot dates: train, calibration, test, with purge gaps.

The test fold is the latest labelled period. Each earlier fold ends one purge gap (by
default the label horizon) before the next one starts, so no training label window
overlaps a later fold's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.config import SplitSettings


@dataclass(frozen=True)
class TimeFolds:
    train_end: pd.Timestamp
    calibration_start: pd.Timestamp | None
    calibration_end: pd.Timestamp | None
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    def describe(self) -> dict[str, str]:
        return {
            k: (v.date().isoformat() if v is not None else "-") for k, v in self.__dict__.items()
        }


def plan_folds(last_labelled: pd.Timestamp, horizon_days: int, cfg: SplitSettings) -> TimeFolds:
    """Fold boundaries (inclusive snapshot times) ending at ``last_labelled``."""
    purge = pd.Timedelta(days=cfg.purge_days if cfg.purge_days is not None else horizon_days)
    test_start = last_labelled - pd.Timedelta(days=cfg.test_days) + pd.Timedelta(days=1)
    if cfg.calibration_days:
        calibration_end = test_start - purge
        calibration_start = (
            calibration_end - pd.Timedelta(days=cfg.calibration_days) + pd.Timedelta(days=1)
        )
        train_end = calibration_start - purge
    else:
        calibration_start = calibration_end = None
        train_end = test_start - purge
    return TimeFolds(train_end, calibration_start, calibration_end, test_start, last_labelled)


def assign_folds(snapshot_at: pd.Series, folds: TimeFolds) -> pd.Series:
    """'train', 'calibration', 'test' or 'purged' per snapshot time."""
    fold = pd.Series("purged", index=snapshot_at.index, dtype="object")
    fold[snapshot_at <= folds.train_end] = "train"
    if folds.calibration_start is not None:
        in_cal = (snapshot_at >= folds.calibration_start) & (snapshot_at <= folds.calibration_end)
        fold[in_cal] = "calibration"
    fold[(snapshot_at >= folds.test_start) & (snapshot_at <= folds.test_end)] = "test"
    return fold
