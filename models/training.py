"""Training: point-in-time snapshots → time folds → calibrated LightGBM → MLflow registry.

Every run is compared, on the same latest holdout, with three baselines (rule points,
naive Bayes on field values, logistic regression) and with the current champion; it is
registered as a new version and becomes ``@champion`` only through the promotion gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.baselines import build_baselines
from models.config import TrainConfig
from models.estimator import (
    build_pipeline,
    drop_leaking_features,
    fit_calibrated,
    monotone_constraints,
)
from models.grades import GradeThresholds
from models.publishing import Candidate, flatten, publish
from models.splits import TimeFolds, assign_folds, plan_folds
from pipelines import FeaturesConfig, TrainingTables
from pipelines.features import (
    FeatureBuilder,
    build_feature_frame,
    build_snapshots,
    cap_per_lead,
    model_input,
    sample_negatives,
    snapshot_dates,
)

log = logging.getLogger(__name__)


class InsufficientDataError(ValueError):
    """Too few leads or conversions to train a trustworthy model."""


@dataclass
class TrainingResult:
    run_id: str
    model_name: str
    version: str
    metrics: dict[str, float]
    folds: TimeFolds
    calibration: str
    promoted: bool
    fold_sizes: dict[str, int] = field(default_factory=dict)
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    leakage: pd.DataFrame = field(default_factory=pd.DataFrame)
    reason: str = ""


def build_training_frame(
    tables: TrainingTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    as_of: pd.Timestamp | None = None,
    build_features: FeatureBuilder = build_feature_frame,
) -> tuple[pd.DataFrame, TimeFolds]:
    """Labelled feature rows over the snapshot history, each tagged with its fold."""
    horizon = features_cfg.horizon_days
    data_end = as_of if as_of is not None else tables.data_end()
    last_labelled = (data_end - pd.Timedelta(days=horizon)).normalize()
    first = tables.leads["created_at"].min().normalize() + pd.Timedelta(
        days=train_cfg.snapshots.warmup_days
    )
    dates = snapshot_dates(first, last_labelled, train_cfg.snapshots.cadence)
    if not dates:
        raise InsufficientDataError(
            f"no snapshot date fits between {first.date()} and {last_labelled.date()}: "
            f"the history must be longer than warm-up + horizon ({horizon} days)"
        )
    folds = plan_folds(dates[-1], horizon, train_cfg.split)
    snapshots = build_snapshots(tables.leads, dates, horizon)
    snapshots["fold"] = assign_folds(snapshots["snapshot_at"], folds).to_numpy()
    snapshots = snapshots[snapshots["fold"] != "purged"]
    caps: dict[str, int | None] = {
        "train": train_cfg.snapshots.max_per_lead,
        "calibration": train_cfg.snapshots.max_per_lead_eval,
        "test": train_cfg.snapshots.max_per_lead_eval,
    }
    rate = train_cfg.snapshots.negative_rate
    parts = []
    for fold, part in snapshots.groupby("fold", sort=True):
        cap = caps[str(fold)]
        part = part if cap is None else cap_per_lead(part, cap, train_cfg.seed)
        if fold == "train" and rate < 1:  # before the features: the point is to build fewer
            part = sample_negatives(part, rate, train_cfg.seed)
        parts.append(part)
    snapshots = pd.concat(parts, ignore_index=True)
    frame = build_features(
        tables.leads, tables.activities, tables.stage_history, snapshots, features_cfg
    )
    return frame, folds


def check_enough_data(train: pd.DataFrame, cfg: TrainConfig) -> None:
    leads = train["lead_id"].nunique()
    conversions = int(train["label"].sum())
    if leads < cfg.min_leads or conversions < cfg.min_conversions:
        raise InsufficientDataError(
            f"not enough training data: found {leads} leads and {conversions} conversions in the "
            f"training period, need at least {cfg.min_leads} leads and {cfg.min_conversions} conversions "
            "(configs/train.yaml: min_leads, min_conversions)"
        )


def fit_lightgbm(
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_cal: pd.DataFrame | None,
    y_cal: np.ndarray | None,
    sample_weight: np.ndarray | None = None,
) -> tuple[Any, str, pd.DataFrame]:
    """Leakage check on the training fold, then the calibrated LightGBM pipeline.

    ``sample_weight`` (from down-sampled negatives) weighs the training rows in LightGBM's
    fit; the calibration fold is unweighted and unsampled.
    """
    pipeline = build_pipeline(train_cfg, features_cfg)
    report, Xt_train = drop_leaking_features(pipeline, X_train, y_train, train_cfg.leakage)
    if train_cfg.monotone_engagement:
        dropped = set(pipeline.named_steps["select"].columns)
        kept = [c for c in Xt_train.columns if c not in dropped]
        pipeline.set_params(model__monotone_constraints=monotone_constraints(kept, features_cfg))
    fitted, method = fit_calibrated(
        pipeline, X_train, y_train, X_cal, y_cal, train_cfg.calibration, sample_weight
    )
    return fitted, method, report


def train_model(
    tables: TrainingTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    tracking: str,
    as_of: pd.Timestamp | None = None,
    grades: GradeThresholds | None = None,
    build_features: FeatureBuilder = build_feature_frame,
) -> TrainingResult:
    """Trains, evaluates against baselines and the champion, logs to MLflow, registers, gates.

    ``build_features`` computes the feature frame of the snapshots (default: DuckDB, here).
    """
    frame, folds = build_training_frame(tables, train_cfg, features_cfg, as_of, build_features)
    train = frame[frame["fold"] == "train"]
    check_enough_data(train, train_cfg)
    cal = frame[frame["fold"] == "calibration"]
    test = frame[frame["fold"] == "test"]
    if test.empty or test["label"].nunique() < 2:
        raise InsufficientDataError(
            "the test period has no conversions or no leads; cannot evaluate"
        )
    X_train, y_train = model_input(train), train["label"].to_numpy()
    weights = train["sample_weight"].to_numpy() if "sample_weight" in train else None
    X_cal, y_cal = (model_input(cal), cal["label"].to_numpy()) if len(cal) else (None, None)
    X_test, y_test = model_input(test), test["label"].to_numpy()
    log.info("training on %d rows (%d conversions)", len(train), int(y_train.sum()))
    pipeline, method, report = fit_lightgbm(
        train_cfg, features_cfg, X_train, y_train, X_cal, y_cal, weights
    )
    probabilities = {"lightgbm": pipeline.predict_proba(X_test)[:, 1]}
    for name, baseline in build_baselines(
        train_cfg.baselines, features_cfg, train_cfg.families
    ).items():
        fitted, _ = fit_calibrated(baseline, X_train, y_train, X_cal, y_cal, train_cfg.calibration)
        probabilities[name] = fitted.predict_proba(X_test)[:, 1]
    sizes = {name: int((frame["fold"] == name).sum()) for name in ("train", "calibration", "test")}
    candidate = Candidate(pipeline, X_train, X_test, y_test, probabilities, report, sizes)
    params = flatten("train", train_cfg.model_dump()) | flatten(
        "features", features_cfg.model_dump()
    )
    params |= {f"fold.{k}": v for k, v in folds.describe().items()} | {"calibration_method": method}
    published = publish(
        candidate,
        train_cfg.model_name,
        tracking,
        train_cfg.promotion,
        params,
        grades=grades,
        seed=train_cfg.seed,
    )
    return TrainingResult(
        published.run_id,
        train_cfg.model_name,
        published.version,
        published.metrics,
        folds,
        method,
        published.promoted,
        sizes,
        published.evaluation,
        report,
        published.reason,
    )
