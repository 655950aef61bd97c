"""Time-based folds over snapshot dates: train, calibration, test, with purge gaps.

The test fold is the latest labelled period. Each earlier fold ends one purge gap (by
default the label horizon) before the next one starts, so no training label window
overlaps a later fold's.

The configured lengths (``configs/train.yaml``: ``split``) suit a CRM with more than a
year of history. When they do not fit the labelled snapshots at hand (too short a history,
or too few leads or conversions in a fold), :func:`choose_folds` derives the folds from the
span of labelled dates instead: test = the latest ~20% of the snapshot dates, calibration
= the ~15% before it, purge gaps kept (shortened if the span cannot hold two of them),
each fold at least one snapshot date.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from models.config import SplitSettings, TrainConfig
from models.errors import InsufficientDataError
from pipelines.features import NON_FEATURE_COLUMNS, model_input

TEST_SHARE = 0.20
CALIBRATION_SHARE = 0.15
MIN_TRAIN_SHARE = 0.30
FOLDS = ("train", "calibration", "test")


class FoldError(InsufficientDataError):
    """Even folds fitted to the data cannot hold the minimum leads and conversions."""


@dataclass(frozen=True)
class TimeFolds:
    train_end: pd.Timestamp
    calibration_start: pd.Timestamp | None
    calibration_end: pd.Timestamp | None
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    purge_days: int = 0
    adapted: str = ""  # why the folds were fitted to the data ("" when configured)

    def describe(self) -> dict[str, str]:
        dates = ("train_end", "calibration_start", "calibration_end", "test_start", "test_end")
        out = {
            k: (getattr(self, k).date().isoformat() if getattr(self, k) is not None else "-")
            for k in dates
        }
        return out | {"purge_days": str(self.purge_days), "adapted": self.adapted or "-"}


def plan_folds(last_labelled: pd.Timestamp, horizon_days: int, cfg: SplitSettings) -> TimeFolds:
    """Fold boundaries (inclusive snapshot times) ending at ``last_labelled``, as configured."""
    purge_days = cfg.purge_days if cfg.purge_days is not None else horizon_days
    purge = pd.Timedelta(days=purge_days)
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
    return TimeFolds(
        train_end, calibration_start, calibration_end, test_start, last_labelled, purge_days
    )


def fit_folds(dates: list[pd.Timestamp], horizon_days: int, cfg: SplitSettings) -> TimeFolds:
    """Folds derived from the span of the snapshot ``dates`` (see the module doc)."""
    first, last = dates[0], dates[-1]
    span = max((last - first).days, 1)
    with_calibration = cfg.calibration_days > 0
    wanted = cfg.purge_days if cfg.purge_days is not None else horizon_days
    gaps = 2 if with_calibration else 1
    spare = span * (
        1 - TEST_SHARE - (CALIBRATION_SHARE if with_calibration else 0) - MIN_TRAIN_SHARE
    )
    purge = int(min(wanted, max(0.0, spare / gaps)))
    n_test = max(1, round(len(dates) * TEST_SHARE))
    test_start = dates[-n_test]
    if with_calibration:
        cal_end = _before(dates, test_start - pd.Timedelta(days=purge))
        n_cal = max(1, round(len(dates) * CALIBRATION_SHARE))
        cal_start = dates[max(0, dates.index(cal_end) - n_cal + 1)]
        train_end = _before(dates, cal_start - pd.Timedelta(days=purge))
    else:
        cal_start = cal_end = None
        train_end = _before(dates, test_start - pd.Timedelta(days=purge))
    return TimeFolds(train_end, cal_start, cal_end, test_start, last, purge)


def _before(dates: list[pd.Timestamp], limit: pd.Timestamp) -> pd.Timestamp:
    """The latest snapshot date strictly before ``limit`` (the first date if none is)."""
    earlier = [d for d in dates if d < limit]
    return earlier[-1] if earlier else dates[0]


def assign_folds(snapshot_at: pd.Series, folds: TimeFolds) -> pd.Series:
    """'train', 'calibration', 'test' or 'purged' per snapshot time."""
    fold = pd.Series("purged", index=snapshot_at.index, dtype="object")
    fold[snapshot_at <= folds.train_end] = "train"
    if folds.calibration_start is not None:
        in_cal = (snapshot_at >= folds.calibration_start) & (snapshot_at <= folds.calibration_end)
        fold[in_cal] = "calibration"
    fold[(snapshot_at >= folds.test_start) & (snapshot_at <= folds.test_end)] = "test"
    return fold


def fold_counts(snapshots: pd.DataFrame, folds: TimeFolds) -> pd.DataFrame:
    """Per fold: first and last snapshot date, rows, distinct leads and conversions."""
    fold = assign_folds(snapshots["snapshot_at"], folds)
    rows = []
    for name in FOLDS:
        part = snapshots[fold == name]
        rows.append(
            {
                "fold": name,
                "first": part["snapshot_at"].min() if len(part) else pd.NaT,
                "last": part["snapshot_at"].max() if len(part) else pd.NaT,
                "rows": len(part),
                "leads": int(part["lead_id"].nunique()),
                "conversions": int(part["label"].sum()),
            }
        )
    return pd.DataFrame(rows).set_index("fold")


def _shortfall(counts: pd.DataFrame, folds: TimeFolds, cfg: TrainConfig) -> str:
    """What a fold lacks ('' when every fold can be used)."""
    train = counts.loc["train"]
    if train["leads"] < cfg.min_leads or train["conversions"] < cfg.min_conversions:
        return (
            f"found {train['leads']} leads and {train['conversions']} conversions in the "
            f"training fold, need at least {cfg.min_leads} leads and {cfg.min_conversions} "
            "conversions"
        )
    test = counts.loc["test"]
    if test["conversions"] == 0 or test["conversions"] == test["rows"]:
        return f"the test fold has {test['rows']} rows and {test['conversions']} conversions"
    cal = counts.loc["calibration"]
    if folds.calibration_start is not None and cal["conversions"] in (0, cal["rows"]):
        return f"the calibration fold has {cal['rows']} rows and {cal['conversions']} conversions"
    return ""


def choose_folds(
    snapshots: pd.DataFrame, dates: list[pd.Timestamp], horizon_days: int, cfg: TrainConfig
) -> TimeFolds:
    """The configured folds when they fit the labelled snapshots, else folds fitted to them.

    Raises:
        FoldError: neither fits; the message names the dates, the counts and the settings.
    """
    configured = plan_folds(dates[-1], horizon_days, cfg.split)
    problem = _shortfall(fold_counts(snapshots, configured), configured, cfg)
    if not problem:
        return configured
    fitted = fit_folds(dates, horizon_days, cfg.split)
    why = f"configured folds do not fit ({problem}): fitted to {len(dates)} snapshot dates"
    fitted = replace(fitted, adapted=why)
    counts = fold_counts(snapshots, fitted)
    remaining = _shortfall(counts, fitted, cfg)
    if remaining:
        found = "; ".join(
            f"{name} {_span(row)}: {row['leads']} leads, {row['conversions']} conversions"
            for name, row in counts.iterrows()
        )
        raise FoldError(
            f"not enough labelled history to train: {remaining}. Snapshot dates "
            f"{dates[0].date()}..{dates[-1].date()} ({len(dates)} dates); fitted folds: {found}. "
            "Load more history, or lower min_leads / min_conversions or snapshots.warmup_days "
            "in configs/train.yaml"
        )
    return fitted


def _span(row: pd.Series) -> str:
    if pd.isna(row["first"]):
        return "(no dates)"
    return f"{row['first'].date()}..{row['last'].date()}"


@dataclass
class Folds:
    """The labelled frame split by fold, as model input.

    ``inputs`` is the model input of every row, in the frame's order, built once; each
    fold's ``X`` is a slice of it (a view where the fold's rows are contiguous, as
    :func:`build_training_frame` lays them out), so the folds and the refit on every row
    share one copy. ``frame`` keeps only the keys, label, fold and weight of each row.
    """

    frame: pd.DataFrame
    X: dict[str, pd.DataFrame]
    y: dict[str, np.ndarray]
    inputs: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Folds:
        inputs = model_input(frame)
        keys = frame[[c for c in frame.columns if c in NON_FEATURE_COLUMNS]].copy()
        fold, label = keys["fold"].to_numpy(), keys["label"].to_numpy()
        X, y = {}, {}
        for name in FOLDS:
            rows = np.flatnonzero(fold == name)
            X[name], y[name] = _rows_of(inputs, rows), label[rows]
        return cls(keys, X, y, inputs)

    def weights(self, fold: str) -> np.ndarray | None:
        part = self.frame[self.frame["fold"] == fold]
        return part["sample_weight"].to_numpy() if "sample_weight" in part else None

    def counts(self) -> pd.DataFrame:
        """Per fold: first and last snapshot date, rows, leads and conversions."""
        rows = []
        for name in FOLDS:
            part = self.frame[self.frame["fold"] == name]
            rows.append(
                {
                    "fold": name,
                    "first": part["snapshot_at"].min(),
                    "last": part["snapshot_at"].max(),
                    "rows": len(part),
                    "leads": int(part["lead_id"].nunique()),
                    "conversions": int(part["label"].sum()),
                }
            )
        return pd.DataFrame(rows).set_index("fold")


def _rows_of(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows]``, without a copy when ``rows`` is a run of consecutive positions."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0] : rows[-1] + 1]
    return frame.iloc[rows]
