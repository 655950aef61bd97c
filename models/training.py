"""Training: point-in-time snapshots → time folds → calibrated LightGBM → MLflow registry.

Every run is compared, on the same latest holdout, with three baselines (rule points,
naive Bayes on field values, logistic regression) and with the current champion; it is
registered as a new version and becomes ``@champion`` only through the promotion gate.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.baselines import build_baselines
from models.comparison import evaluation_table
from models.config import PromotionSettings, TrainConfig
from models.estimator import booster_of, build_pipeline, fit_calibrated, monotone_constraints
from models.evaluation import classification_metrics, rate_by_group
from models.leakage import leakage_report
from models.registry import (
    CHAMPION,
    NoChampionError,
    configure,
    get_champion,
    load_pipeline,
    set_champion,
)
from models.splits import TimeFolds, assign_folds, plan_folds
from pipelines.config import FeaturesConfig
from pipelines.features import build_feature_frame, model_input
from pipelines.inputs import CrmTables
from pipelines.snapshots import build_snapshots, cap_per_lead, sample_negatives, snapshot_dates

log = logging.getLogger(__name__)
REFERENCE_ROWS = 5000
DEFAULT_GRADES = {"A": 50.0, "B": 25.0, "C": 10.0}


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


FeatureBuilder = Callable[..., pd.DataFrame]
"""``build_feature_frame`` or an engine's equivalent with its signature (e.g. on Spark)."""


def build_training_frame(
    tables: CrmTables,
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


def should_promote(
    challenger: dict[str, float], champion: dict[str, float] | None, gate: PromotionSettings
) -> tuple[bool, str]:
    """The gate: no champion, or a better AUC by the margin without a (much) worse Brier."""
    if champion is None:
        return True, "first model: no champion yet"
    verdict = (
        f"AUC {challenger['roc_auc']:.4f} vs champion {champion['roc_auc']:.4f} (margin {gate.min_auc_gain}), "
        f"Brier {challenger['brier']:.4f} vs {champion['brier']:.4f}"
    )
    passed = (
        challenger["roc_auc"] >= champion["roc_auc"] + gate.min_auc_gain
        and challenger["brier"] <= champion["brier"] + gate.max_brier_increase
    )
    return passed, ("gate passed: " if passed else "gate failed: ") + verdict


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
    Xt_train = pipeline[:2].fit_transform(X_train, y_train)
    leak = train_cfg.leakage
    report = leakage_report(Xt_train, y_train, leak.drop_auc, leak.drop_correlation, leak.warn_auc)
    dropped = tuple(report.loc[report["action"] == "drop", "feature"])
    for name in dropped:
        log.warning("dropping feature %s: it predicts the label suspiciously well on its own", name)
    pipeline.set_params(select__columns=dropped)
    if train_cfg.monotone_engagement:
        kept = [c for c in Xt_train.columns if c not in dropped]
        pipeline.set_params(model__monotone_constraints=monotone_constraints(kept, features_cfg))
    fitted, method = fit_calibrated(
        pipeline, X_train, y_train, X_cal, y_cal, train_cfg.calibration, sample_weight
    )
    return fitted, method, report


def _champion_probabilities(name: str, X: pd.DataFrame) -> np.ndarray | None:
    """The current champion's probabilities on this holdout, or None when there is none."""
    try:
        champion = get_champion(name)
    except NoChampionError:
        return None
    return load_pipeline(champion).predict_proba(X)[:, 1]


def _grade(p: np.ndarray, thresholds: dict[str, float]) -> pd.Series:
    score = p * 100.0
    return pd.Series(
        np.select(
            [score >= thresholds["A"], score >= thresholds["B"], score >= thresholds["C"]],
            ["A", "B", "C"],
            "D",
        )
    )


def _log_artifacts(
    y: np.ndarray,
    probabilities: dict[str, np.ndarray],
    pipeline: Any,
    X_test: pd.DataFrame,
    table: pd.DataFrame,
    report: pd.DataFrame,
    grades: pd.DataFrame,
    reference: pd.DataFrame,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    from models.plots import (
        calibration_curve_figure,
        feature_importance_figure,
        gain_importance,
        gains_lift_figure,
        mean_abs_contributions,
        score_distribution_figure,
    )

    booster = booster_of(pipeline)
    Xt = pipeline[:-1].transform(X_test)
    figures = {
        "calibration.png": calibration_curve_figure(y, probabilities),
        "gains_lift.png": gains_lift_figure(y, probabilities),
        "score_distribution.png": score_distribution_figure(y, probabilities["lightgbm"]),
        "feature_importance.png": feature_importance_figure(
            gain_importance(booster), mean_abs_contributions(booster, Xt)
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, figure in figures.items():
            figure.savefig(Path(tmp) / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
        table.to_csv(Path(tmp) / "evaluation.csv", index=False)
        report.to_csv(Path(tmp) / "leakage.csv", index=False)
        grades.to_csv(Path(tmp) / "conversion_by_grade.csv", index=False)
        reference.to_parquet(Path(tmp) / "reference.parquet", index=False)
        mlflow.log_artifacts(tmp)


def train_model(
    tables: CrmTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    tracking: str,
    as_of: pd.Timestamp | None = None,
    grades: dict[str, float] | None = None,
    build_features: FeatureBuilder = build_feature_frame,
) -> TrainingResult:
    """Trains, evaluates against baselines and the champion, logs to MLflow, registers, gates.

    ``build_features`` computes the feature frame of the snapshots (default: DuckDB, here).
    """
    import mlflow
    from mlflow.models import infer_signature

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
    configure(tracking)
    champion_p = _champion_probabilities(train_cfg.model_name, X_test)
    if champion_p is not None:
        probabilities["champion"] = champion_p
    table = evaluation_table(y_test, probabilities)
    metrics = classification_metrics(y_test, probabilities["lightgbm"])
    champion_metrics = (
        classification_metrics(y_test, champion_p) if champion_p is not None else None
    )
    promoted, reason = should_promote(metrics, champion_metrics, train_cfg.promotion)
    by_grade = rate_by_group(y_test, _grade(probabilities["lightgbm"], grades or DEFAULT_GRADES))
    sizes = {name: int((frame["fold"] == name).sum()) for name in ("train", "calibration", "test")}
    # A sample of the training population (model inputs and probability) for drift (PSI).
    reference = X_train.sample(min(REFERENCE_ROWS, len(X_train)), random_state=train_cfg.seed)
    reference = reference.assign(probability=pipeline.predict_proba(reference)[:, 1])
    with mlflow.start_run() as run:
        mlflow.log_params(
            _flatten("train", train_cfg.model_dump())
            | _flatten("features", features_cfg.model_dump())
        )
        mlflow.log_params(
            {f"fold.{k}": v for k, v in folds.describe().items()} | {"calibration_method": method}
        )
        log_evaluation(metrics, sizes, table)
        _log_artifacts(y_test, probabilities, pipeline, X_test, table, report, by_grade, reference)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(X_test.head(100), pipeline.predict_proba(X_test.head(100))),
            input_example=X_test.head(5),
            pyfunc_predict_fn="predict_proba",
            registered_model_name=train_cfg.model_name,
            serialization_format="cloudpickle",
            pip_requirements=_requirements(),
        )
        version = str(info.registered_model_version)
        mlflow.set_tags({"promoted": str(promoted).lower(), "gate": reason})
    if promoted:
        set_champion(train_cfg.model_name, version, reason)
    log.info("registered %s version %s (%s=%s)", train_cfg.model_name, version, CHAMPION, promoted)
    return TrainingResult(
        run.info.run_id,
        train_cfg.model_name,
        version,
        metrics,
        folds,
        method,
        promoted,
        sizes,
        table,
        report,
        reason,
    )


def log_evaluation(metrics: dict[str, float], sizes: dict[str, int], table: pd.DataFrame) -> None:
    """Logs the holdout metrics, fold sizes and every other model's metrics to the active run."""
    import mlflow

    mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items() if np.isfinite(v)})
    mlflow.log_metrics({f"rows_{k}": v for k, v in sizes.items()})
    for row in table.to_dict(orient="records"):
        if row["model"] != "lightgbm":
            others = {
                f"{row['model']}_test_{k}": v
                for k, v in row.items()
                if k != "model" and np.isfinite(v)
            }
            mlflow.log_metrics(others)


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return out
    return {prefix: value}


def _requirements() -> list[str]:
    from importlib.metadata import version

    packages = (
        "lightgbm",
        "scikit-learn",
        "pandas",
        "numpy",
        "mlflow",
        "pydantic",
        "pyyaml",
        "duckdb",
    )
    # The leadscore package itself must be installed where the model is served (README).
    return [f"{p}=={version(p)}" for p in packages]
