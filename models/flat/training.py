"""Flat-mode training: one table with a label, a stratified random split, the same checks.

There is no time here, so nothing keeps a field filled in after the outcome out of the
features: the split is random (train / calibration / test, stratified by the label) and
*not* point-in-time, and the leakage report (single-column AUC on the training rows) is the
only guard. Evaluation, baselines, calibration, MLflow logging, registration and the
promotion gate are those of :mod:`models.training`, under the flat model's own name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from models.config import TrainConfig
from models.estimator import drop_leaking_features, fit_calibrated
from models.flat.features import FlatConfig, FlatFeatures, build_flat_baselines, build_flat_pipeline
from models.grades import GradeThresholds
from models.publishing import Candidate, flatten, publish
from models.training import InsufficientDataError, check_enough_data
from pipelines import to_boolean
from pipelines.ingest import as_text

log = logging.getLogger(__name__)
NOT_POINT_IN_TIME = "NOT point-in-time: a random split; time cannot protect against leakage here"
RULE_POINTS_NOTE = "rule_points: not applicable to flat data (no activities or BANT fields)"


class FlatInputError(ValueError):
    """The flat table does not fit the options (no such label, id or excluded column)."""


@dataclass
class FlatData:
    """Model inputs (every column but label, id and the excluded ones) and the label."""

    X: pd.DataFrame
    y: np.ndarray
    ids: pd.Series
    label: str
    id_column: str | None
    excluded: list[str]
    rows_without_label: int


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


def prepare_flat(
    frame: pd.DataFrame,
    label: str,
    id_column: str | None = None,
    exclude: tuple[str, ...] = (),
    pii_pattern: str = FlatConfig().pii_pattern,
) -> FlatData:
    """Splits a flat table into model inputs, label and row ids; rows without a label go.

    Raises:
        FlatInputError: a named column is not in the table, or the id is personal data.
    """
    columns = list(frame.columns)
    shown = ", ".join(map(str, columns[:15])) + (" ..." if len(columns) > 15 else "")
    for option, name in [
        ("--label", label),
        ("--id", id_column),
        *[("--exclude", c) for c in exclude],
    ]:
        if name is not None and name not in frame.columns:
            raise FlatInputError(f"{option}: no column {name!r} in the table (columns: {shown})")
    if id_column is not None and re.search(pii_pattern, id_column, re.IGNORECASE):
        raise FlatInputError(f"--id: {id_column!r} is personal data; choose a record id column")
    y = parse_label(frame[label], label)
    kept = frame[y.notna()].reset_index(drop=True)
    ids = (
        as_text(kept[id_column]).fillna("")
        if id_column
        else pd.Series([f"row {i + 1}" for i in np.flatnonzero(y.notna())], dtype=object)
    )
    inputs = [c for c in columns if c not in {label, id_column, *exclude}]
    return FlatData(
        X=flat_input(kept[inputs]),
        y=y.dropna().to_numpy(dtype="int64"),
        ids=ids,
        label=label,
        id_column=id_column,
        excluded=list(exclude),
        rows_without_label=int(y.isna().sum()),
    )


def split_rows(y: np.ndarray, cfg: FlatConfig, seed: int) -> dict[str, np.ndarray]:
    """Row positions of train / calibration / test, stratified by the label."""
    rows = np.arange(len(y))
    if np.bincount(y, minlength=2).min() < 10:
        raise InsufficientDataError(
            f"the label has {int(y.sum())} positives of {len(y)} rows: too few to split"
        )
    rest, test = train_test_split(rows, test_size=cfg.test_size, stratify=y, random_state=seed)
    if cfg.calibration_size == 0:
        return {"train": np.sort(rest), "calibration": np.array([], int), "test": np.sort(test)}
    share = cfg.calibration_size / (1 - cfg.test_size)
    train, cal = train_test_split(rest, test_size=share, stratify=y[rest], random_state=seed)
    return {"train": np.sort(train), "calibration": np.sort(cal), "test": np.sort(test)}


@dataclass
class FlatTrainingResult:
    run_id: str
    model_name: str
    version: str
    metrics: dict[str, float]
    calibration: str
    promoted: bool
    reason: str
    sizes: dict[str, int]
    evaluation: pd.DataFrame
    leakage: pd.DataFrame
    kinds: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _fit_baselines(
    cfg: FlatConfig,
    train_cfg: TrainConfig,
    parts: dict[str, tuple[pd.DataFrame | None, np.ndarray | None]],
    kinds: dict[str, str],
    dropped_columns: list[str],
) -> dict[str, np.ndarray]:
    """Calibrated baselines on the same inputs as LightGBM (dropped leaks left out too)."""
    categories = sum(1 for c, k in kinds.items() if k == "category" and c not in dropped_columns)
    (X_train, y_train), (X_cal, y_cal), (X_test, _) = (
        parts["train"],
        parts["calibration"],
        parts["test"],
    )

    assert X_train is not None and y_train is not None and X_test is not None

    def keep(X: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if X is None else X.drop(columns=dropped_columns)

    out = {}
    for name, baseline in build_flat_baselines(cfg, train_cfg, categories).items():
        fitted, _ = fit_calibrated(
            baseline,
            X_train.drop(columns=dropped_columns),
            y_train,
            keep(X_cal),
            y_cal,
            train_cfg.calibration,
        )
        out[name] = fitted.predict_proba(keep(X_test))[:, 1]
    return out


def train_flat(
    data: FlatData,
    cfg: FlatConfig,
    train_cfg: TrainConfig,
    tracking: str,
    model_name: str | None = None,
    grades: GradeThresholds | None = None,
) -> FlatTrainingResult:
    """Trains on a flat table, evaluates against baselines and the champion, logs, registers, gates."""
    name = model_name or cfg.model_name
    rows = split_rows(data.y, cfg, train_cfg.seed)
    sizes = {k: len(v) for k, v in rows.items()}
    parts = {
        k: ((data.X.iloc[v].reset_index(drop=True), data.y[v]) if len(v) else (None, None))
        for k, v in rows.items()
    }
    (X_train, y_train), (X_cal, y_cal), (X_test, y_test) = (
        parts[k] for k in ("train", "calibration", "test")
    )
    assert X_train is not None and y_train is not None and X_test is not None and y_test is not None
    check_enough_data(
        pd.DataFrame({"lead_id": data.ids.iloc[rows["train"]], "label": y_train}), train_cfg
    )
    pipeline = build_flat_pipeline(cfg, train_cfg)
    report, _ = drop_leaking_features(pipeline, X_train, y_train, train_cfg.leakage)
    features: FlatFeatures = pipeline.named_steps["features"]
    report.insert(0, "column", report["feature"].map(features.sources()))
    kinds = dict(features.kinds_)
    dropped = report.loc[report["action"] == "drop"]
    fitted, method = fit_calibrated(pipeline, X_train, y_train, X_cal, y_cal, train_cfg.calibration)
    probabilities = {"lightgbm": fitted.predict_proba(X_test)[:, 1]}
    probabilities |= _fit_baselines(cfg, train_cfg, parts, kinds, sorted(set(dropped["column"])))
    notes = [NOT_POINT_IN_TIME, RULE_POINTS_NOTE]
    if "naive_bayes" not in probabilities:
        notes.append("naive_bayes: not applicable (no categorical columns)")
    # Personal data never reaches MLflow: blanked in the example, left out of the reference.
    personal = tuple(c for c, kind in kinds.items() if kind in ("email", "pii"))
    candidate = Candidate(fitted, X_train, X_test, y_test, probabilities, report, sizes, personal)
    tags = {"point_in_time": "false", "mode": "flat"}
    published = publish(
        candidate,
        name,
        tracking,
        train_cfg.promotion,
        _params(data, cfg, train_cfg, method),
        tags,
        grades,
        train_cfg.seed,
    )
    return FlatTrainingResult(
        published.run_id,
        name,
        published.version,
        published.metrics,
        method,
        published.promoted,
        published.reason,
        sizes,
        published.evaluation,
        report,
        kinds,
        notes + published.notes,
    )


def _params(
    data: FlatData, cfg: FlatConfig, train_cfg: TrainConfig, method: str
) -> dict[str, object]:
    """The run's parameters: the flat and training settings, the split and the columns."""
    params = flatten("flat", cfg.model_dump(exclude={"placeholders", "free_mail_domains"}))
    params |= flatten(
        "train",
        train_cfg.model_dump(include={"seed", "lightgbm", "calibration", "leakage", "promotion"}),
    )
    return params | {
        "mode": "flat",
        "split": "stratified random (not point-in-time)",
        "label": data.label,
        "id_column": str(data.id_column),
        "excluded": ", ".join(data.excluded)[:5000] or "-",
        "calibration_method": method,
    }
