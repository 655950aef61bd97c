"""Training: point-in-time snapshots → time folds → calibrated LightGBM → MLflow registry.

Every run is compared, on the same latest holdout, with three baselines (rule points,
naive Bayes on field values, logistic regression) and with the current champion; it is
registered as a new version and becomes ``@champion`` only through the promotion gate.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.baselines import build_baselines
from models.config import TrainConfig
from models.errors import InsufficientDataError, require_leads
from models.estimator import (
    build_pipeline,
    drop_leaking_features,
    fit_calibrated,
    monotone_constraints,
)
from models.exclusions import blanking, feature_sources, inputs_of, model_input_columns
from models.grades import GradeThresholds
from models.publishing import Candidate, flatten, publish
from models.refit import Refit, refit_on_all
from models.sampling import automatic_negative_rate, fit_sample, weigh_per_lead
from models.segments import add_segments, check_segment_column, segment_summary
from models.splits import FOLDS, Folds, TimeFolds, assign_folds, choose_folds
from models.tuning import tune
from pipelines import (
    FeaturesConfig,
    TrainingTables,
    fill_rate_report,
    leaking_columns,
    release_unused_memory,
)
from pipelines.features import (
    FeatureBuilder,
    build_feature_frame,
    build_snapshots,
    cap_per_lead,
    sample_negatives,
    snapshot_dates,
)

log = logging.getLogger(__name__)


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
    fold_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    fill_rates: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: tuple[str, ...] = ()
    trained_through: pd.Timestamp | None = None
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)


def build_training_frame(
    tables: TrainingTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    as_of: pd.Timestamp | None = None,
    build_features: FeatureBuilder = build_feature_frame,
) -> tuple[pd.DataFrame, TimeFolds]:
    """Labelled feature rows over the snapshot history, each tagged with its fold."""
    require_leads(tables)
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
    snapshots = build_snapshots(tables.leads, dates, horizon)
    folds = choose_folds(snapshots, dates, horizon, train_cfg)
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
        if fold == "train":  # before the features: the point is to build fewer
            settings = train_cfg.snapshots
            kept = rate or automatic_negative_rate(part["label"], settings.sample_above_rows)
            if kept < 1:
                part = sample_negatives(part, kept, train_cfg.seed)
        if fold == "train" and train_cfg.snapshots.per_lead_weight:
            part = weigh_per_lead(part)
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
    excluded: tuple[str, ...] = (),
) -> tuple[Any, str, pd.DataFrame]:
    """Leakage check on the training fold, then the calibrated LightGBM pipeline.

    ``excluded`` model-input columns are blanked at fit and at predict. ``sample_weight``
    (from down-sampled negatives) weighs the training rows in LightGBM's fit; the
    calibration fold is unweighted and unsampled.
    """
    pipeline = build_pipeline(train_cfg, features_cfg, excluded)
    report, Xt_train = drop_leaking_features(pipeline, X_train, y_train, train_cfg.leakage)
    if train_cfg.monotone_engagement:
        dropped = set(pipeline.named_steps["select"].columns)
        kept = [c for c in Xt_train.columns if c not in dropped]
        pipeline.set_params(model__monotone_constraints=monotone_constraints(kept, features_cfg))
    fitted, method = fit_calibrated(
        pipeline, X_train, y_train, X_cal, y_cal, train_cfg.calibration, sample_weight, Xt_train
    )
    return fitted, method, report


def excluded_inputs(
    names: tuple[str, ...], fills: pd.DataFrame, columns: pd.Index
) -> tuple[str, ...]:
    """Model-input columns to blank: ``--exclude`` names, then the fill-rate leaks."""
    leaking = [c for c in leaking_columns(fills) if c not in names]
    for column in leaking:
        log.warning("excluding %s: it is filled in when leads close (fill-rate check)", column)
    return model_input_columns([*names, *leaking], columns)


def fit_baselines(
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    folds: Folds,
    blank: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Holdout probabilities of the calibrated baselines, which never see ``blank``."""
    X, y = folds.X, folds.y
    X_cal, y_cal = (X["calibration"], y["calibration"]) if len(y["calibration"]) else (None, None)
    out = {}
    baselines = build_baselines(train_cfg.baselines, features_cfg, train_cfg.families)
    sample = fit_sample(len(y["train"]), train_cfg.baselines.fit_rows, train_cfg.seed)
    X_fit = X["train"] if sample is None else X["train"].iloc[sample]
    y_fit = y["train"] if sample is None else y["train"][sample]
    for name, baseline in baselines.items():
        with warnings.catch_warnings():  # a blanked input has no value to impute: expected
            warnings.filterwarnings("ignore", "Skipping features without any observed values")
            fitted, _ = fit_calibrated(
                blanking(baseline, blank),
                X_fit,
                y_fit,
                X_cal,
                y_cal,
                train_cfg.calibration,
            )
            out[name] = fitted.predict_proba(X["test"])[:, 1]
    return out


def baseline_blanks(
    pipeline: Any, X_train: pd.DataFrame, excluded: tuple[str, ...]
) -> tuple[str, ...]:
    """``excluded`` and the inputs of the features the leakage check dropped."""
    dropped = tuple(pipeline.named_steps["select"].columns)
    if not dropped:
        return excluded
    before = pipeline[: pipeline.steps.index(("features", pipeline.named_steps["features"]))]
    sources = feature_sources(pipeline.named_steps["features"], before.transform(X_train))
    return tuple(dict.fromkeys([*excluded, *inputs_of(dropped, sources)]))


def evaluate_lightgbm(
    train_cfg: TrainConfig, features_cfg: FeaturesConfig, folds: Folds, excluded: tuple[str, ...]
) -> tuple[Any, str, pd.DataFrame, dict[str, np.ndarray]]:
    """LightGBM fitted on the training fold, calibrated, and scored on the holdout beside
    the baselines: (pipeline, calibration method, leakage report, probabilities)."""
    X, y = folds.X, folds.y
    log.info("training on %d rows (%d conversions)", len(y["train"]), int(y["train"].sum()))
    X_cal, y_cal = (X["calibration"], y["calibration"]) if len(y["calibration"]) else (None, None)
    pipeline, method, report = fit_lightgbm(
        train_cfg,
        features_cfg,
        X["train"],
        y["train"],
        X_cal,
        y_cal,
        folds.weights("train"),
        excluded,
    )
    probabilities = {"lightgbm": pipeline.predict_proba(X["test"])[:, 1]}
    blank = baseline_blanks(pipeline, X["train"], excluded)
    probabilities |= fit_baselines(train_cfg, features_cfg, folds, blank)
    return pipeline, method, report, probabilities


def train_model(
    tables: TrainingTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    tracking: str,
    as_of: pd.Timestamp | None = None,
    grades: GradeThresholds | None = None,
    build_features: FeatureBuilder = build_feature_frame,
    provenance: dict[str, str] | None = None,
    segment_by: str | None = None,
) -> TrainingResult:
    """Trains, evaluates against baselines and the champion, refits on every labelled
    snapshot, logs to MLflow, registers the refit and gates it.

    ``build_features`` computes the feature frame of the snapshots (default: DuckDB, here);
    ``provenance`` (store, data fingerprint) is tagged on the registered version.
    ``segment_by`` (a model-input column) adds per-segment models (:mod:`models.segments`).
    """
    frame, time_folds = build_training_frame(tables, train_cfg, features_cfg, as_of, build_features)
    folds = Folds.of(frame)
    frame = folds.frame  # keys, labels, folds, weights: the inputs are in folds.inputs now
    release_unused_memory()  # what building the frame freed, before the long fits
    check_segment_column(segment_by, folds.X["train"].columns)
    check_enough_data(frame[frame["fold"] == "train"], train_cfg)
    if len(folds.y["test"]) == 0 or len(np.unique(folds.y["test"])) < 2:
        raise InsufficientDataError(
            "the test period has no conversions or no leads; cannot evaluate"
        )
    leak = train_cfg.leakage
    fills = fill_rate_report(tables.leads, leak.fill_outcome_min, leak.fill_gap, leak.fill_warn_gap)
    excluded = excluded_inputs(train_cfg.exclude, fills, folds.X["train"].columns)
    train_cfg, trials = tune(
        train_cfg, features_cfg, folds.X["train"], folds.y["train"],
        frame.loc[frame["fold"] == "train", "snapshot_at"], time_folds.purge_days,
        fit_lightgbm, folds.weights("train"),
    )  # fmt: skip
    pipeline, method, report, probabilities = evaluate_lightgbm(
        train_cfg, features_cfg, folds, excluded
    )
    release_unused_memory()
    refit = _refit(pipeline, folds, method)
    sizes = {name: len(folds.y[name]) for name in FOLDS}
    candidate = Candidate(
        refit.pipeline,
        folds.X["train"],
        folds.X["test"],
        folds.y["test"],
        probabilities,
        report,
        sizes,
        evaluated=pipeline,
    )
    tags = {"trained_through": refit.trained_through.date().isoformat()}
    segments = _add_extras(candidate, tags, trials, segment_by, folds, method, train_cfg)
    params = _params(train_cfg, features_cfg, time_folds) | {
        "calibration_method": method,
        "excluded_inputs": ", ".join(excluded) or "-",
    }
    published = publish(
        candidate, train_cfg.model_name, tracking, train_cfg.promotion, params, tags, grades,
        train_cfg.seed, provenance,
    )  # fmt: skip
    return TrainingResult(
        published.run_id,
        train_cfg.model_name,
        published.version,
        published.metrics,
        time_folds,
        method,
        published.promoted,
        sizes,
        published.evaluation,
        report,
        published.reason,
        fold_counts=folds.counts(),
        fill_rates=fills,
        excluded=excluded,
        trained_through=refit.trained_through,
        segments=segments,
    )


def _add_extras(
    candidate: Candidate,
    tags: dict[str, str],
    trials: pd.DataFrame,
    segment_by: str | None,
    folds: Folds,
    method: str,
    train_cfg: TrainConfig,
) -> pd.DataFrame:
    """The tuning trials and per-segment models (the candidate may become a routing
    model); returns the per-segment table, empty without ``segment_by``."""
    if not trials.empty:
        candidate.tables["tuning.csv"] = trials
    if segment_by is None:
        return pd.DataFrame()
    segments = add_segments(candidate, segment_by, folds.frame, method, train_cfg, folds.inputs)
    tags |= {"segment_by": segment_by, "segments": segment_summary(segments)}
    return segments


def _params(
    train_cfg: TrainConfig, features_cfg: FeaturesConfig, folds: TimeFolds
) -> dict[str, Any]:
    """The run's parameters: the resolved configs and the folds."""
    params = flatten("train", train_cfg.model_dump()) | flatten(
        "features", features_cfg.model_dump()
    )
    return params | {f"fold.{k}": v for k, v in folds.describe().items()}


def _refit(pipeline: Any, folds: Folds, method: str) -> Refit:
    """The evaluated pipeline fitted again on every labelled snapshot (:mod:`models.refit`)."""
    frame = folds.frame
    weights = frame["sample_weight"].fillna(1.0).to_numpy() if "sample_weight" in frame else None
    return refit_on_all(
        pipeline,
        folds.inputs,
        frame["label"].to_numpy(),
        frame["snapshot_at"],
        frame["fold"] != "train",
        method,
        weights,
    )
