"""A flat table into model inputs, label, ids and folds: at random, or by time.

A flat table has no event history, so nothing point-in-time protects it. When its rows
carry a time (``--time-column``) or come in time order (``--ordered``), the folds follow
time: train on the earliest rows, calibrate on the next, test on the latest, so the
holdout shows what the shift between periods does to each model. Otherwise the split is
random, stratified by the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from models.errors import InsufficientDataError
from models.flat.features import FlatConfig
from pipelines import to_boolean, utc_times
from pipelines.ingest import as_text

FOLD_NAMES = ("train", "calibration", "test")


class FlatInputError(ValueError):
    """The flat table does not fit the options (no such label, id or excluded column)."""


@dataclass
class FlatData:
    """Model inputs (every column but label, id, time and the excluded ones) and the label.

    ``order`` holds, when the rows have a time, the row positions from earliest to latest.
    """

    X: pd.DataFrame
    y: np.ndarray
    ids: pd.Series
    label: str
    id_column: str | None
    excluded: list[str]
    rows_without_label: int
    order: np.ndarray | None = None
    time_column: str | None = None
    rows_without_time: int = 0

    @property
    def split(self) -> str:
        """How the folds are made, in words."""
        if self.order is None:
            return "stratified random (not point-in-time)"
        by = f"by {self.time_column}" if self.time_column else "in row order"
        return f"by time, {by} (earliest rows train, latest test)"


def flat_input(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as trimmed text or None: one dtype at fit, at predict and in MLflow."""
    return pd.DataFrame({c: as_text(frame[c]) for c in frame.columns}, index=frame.index)


def parse_label(values: pd.Series, name: str) -> pd.Series:
    """1.0 / 0.0 from 1/0, true/false or yes/no; NaN where empty.

    Raises:
        FlatInputError: a present value is none of those.
    """
    parsed = to_boolean(as_text(values))
    bad = parsed.isna() & as_text(values).notna()
    if bad.any():
        examples = ", ".join(map(repr, values[bad].astype(str).unique()[:3]))
        raise FlatInputError(
            f"--label {name!r}: values must be 1/0, true/false or yes/no; found {examples}"
        )
    return parsed.astype("float64")


def _check_options(
    frame: pd.DataFrame, names: list[tuple[str, str | None]], id_column: str | None, pii: str
) -> None:
    columns = list(frame.columns)
    shown = ", ".join(map(str, columns[:15])) + (" ..." if len(columns) > 15 else "")
    for option, name in names:
        if name is not None and name not in frame.columns:
            raise FlatInputError(f"{option}: no column {name!r} in the table (columns: {shown})")
    if id_column is not None and re.search(pii, id_column, re.IGNORECASE):
        raise FlatInputError(f"--id: {id_column!r} is personal data; choose a record id column")


def _times(values: pd.Series, name: str) -> pd.Series:
    """The time column parsed (naive times are UTC); unparseable values are NaT."""
    parsed = pd.to_datetime(as_text(values), errors="coerce", utc=True, format="mixed")
    if parsed.notna().sum() == 0:
        raise FlatInputError(f"--time-column {name!r}: no value parses as a date or time")
    return utc_times(parsed)


def prepare_flat(
    frame: pd.DataFrame,
    label: str,
    id_column: str | None = None,
    exclude: tuple[str, ...] = (),
    pii_pattern: str = FlatConfig().pii_pattern,
    time_column: str | None = None,
    ordered: bool = False,
) -> FlatData:
    """Splits a flat table into model inputs, label, row ids and (with a time) their order.

    Rows without a label go; with ``time_column``, rows without a readable time go too.

    Raises:
        FlatInputError: a named column is not in the table, or the id is personal data.
    """
    names = [("--label", label), ("--id", id_column), ("--time-column", time_column)]
    _check_options(frame, [*names, *[("--exclude", c) for c in exclude]], id_column, pii_pattern)
    y = parse_label(frame[label], label)
    keep = y.notna()
    times = _times(frame[time_column], time_column) if time_column else None
    if times is not None:
        keep &= times.notna()
    kept = frame[keep].reset_index(drop=True)
    positions = np.flatnonzero(keep.to_numpy())
    ids = (
        as_text(kept[id_column]).fillna("")
        if id_column
        else pd.Series([f"row {i + 1}" for i in positions], dtype=object)
    )
    order = None
    if times is not None:
        order = np.argsort(times[keep].to_numpy(), kind="stable")
    elif ordered:
        order = np.arange(len(kept))
    inputs = [c for c in frame.columns if c not in {label, id_column, time_column, *exclude}]
    return FlatData(
        X=flat_input(kept[inputs]),
        y=y[keep].to_numpy(dtype="int64"),
        ids=ids,
        label=label,
        id_column=id_column,
        excluded=list(exclude),
        rows_without_label=int(y.isna().sum()),
        order=order,
        time_column=time_column,
        rows_without_time=int((y.notna() & ~keep).sum()),
    )


def split_rows(y: np.ndarray, cfg: FlatConfig, seed: int) -> dict[str, np.ndarray]:
    """Row positions of train / calibration / test, stratified by the label."""
    rows = np.arange(len(y))
    _check_classes(y)
    rest, test = train_test_split(rows, test_size=cfg.test_size, stratify=y, random_state=seed)
    if cfg.calibration_size == 0:
        return {"train": np.sort(rest), "calibration": np.array([], int), "test": np.sort(test)}
    share = cfg.calibration_size / (1 - cfg.test_size)
    train, cal = train_test_split(rest, test_size=share, stratify=y[rest], random_state=seed)
    return {"train": np.sort(train), "calibration": np.sort(cal), "test": np.sort(test)}


def split_by_time(y: np.ndarray, order: np.ndarray, cfg: FlatConfig) -> dict[str, np.ndarray]:
    """Row positions of train / calibration / test: the earliest rows, the next, the latest.

    Raises:
        InsufficientDataError: a fold has a single class (nothing to fit or to measure).
    """
    _check_classes(y)
    n = len(order)
    n_test = max(1, int(round(n * cfg.test_size)))
    n_cal = int(round(n * cfg.calibration_size))
    bounds = {"train": (0, n - n_test - n_cal), "calibration": (n - n_test - n_cal, n - n_test)}
    bounds["test"] = (n - n_test, n)
    folds = {name: np.sort(order[a:b]) for name, (a, b) in bounds.items()}
    for name in ("train", "test"):
        if len(np.unique(y[folds[name]])) < 2:
            raise InsufficientDataError(
                f"the {name} rows of the time split hold a single class; a time split needs "
                "conversions in the earliest and the latest rows"
            )
    return folds


def folds_of(data: FlatData, cfg: FlatConfig, seed: int) -> dict[str, np.ndarray]:
    """The folds of ``data``: by time when its rows have an order, else at random."""
    if data.order is not None:
        return split_by_time(data.y, data.order, cfg)
    return split_rows(data.y, cfg, seed)


def _check_classes(y: np.ndarray) -> None:
    if np.bincount(y, minlength=2).min() < 10:
        raise InsufficientDataError(
            f"the label has {int(y.sum())} positives of {len(y)} rows: too few to split"
        )
