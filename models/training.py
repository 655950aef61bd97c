"""Training: point-in-time snapshots → time folds → calibrated LightGBM → MLflow registry."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.config import TrainConfig
from models.estimator import build_pipeline, fit_calibrated
from models.evaluation import classification_metrics
from models.registry import CHAMPION, NoChampionError, configure, get_champion, set_champion
from models.splits import TimeFolds, assign_folds, plan_folds
from pipelines.config import FeaturesConfig
from pipelines.features import build_feature_frame, model_input
from pipelines.inputs import CrmTables
from pipelines.snapshots import build_snapshots, cap_per_lead, snapshot_dates

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


def build_training_frame(
    tables: CrmTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    as_of: pd.Timestamp | None = None,
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
    cap = train_cfg.snapshots.max_per_lead
    if cap is not None:
        train = cap_per_lead(snapshots[snapshots["fold"] == "train"], cap, train_cfg.seed)
        snapshots = pd.concat([train, snapshots[snapshots["fold"] != "train"]], ignore_index=True)
    frame = build_feature_frame(
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


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return out
    return {prefix: value}


def _champion_metrics(name: str, X: pd.DataFrame, y: np.ndarray) -> dict[str, float] | None:
    """The current champion re-scored on this holdout, or None when there is none."""
    import mlflow

    try:
        champion = get_champion(name)
    except NoChampionError:
        return None
    model = mlflow.sklearn.load_model(champion.uri)
    return classification_metrics(y, model.predict_proba(X)[:, 1])


def should_promote(
    challenger: dict[str, float], champion: dict[str, float] | None, min_auc_gain: float
) -> bool:
    """The gate: no champion, or a better AUC by the margin without a worse Brier score."""
    if champion is None:
        return True
    return (
        challenger["roc_auc"] >= champion["roc_auc"] + min_auc_gain
        and challenger["brier"] <= champion["brier"]
    )


def train_model(
    tables: CrmTables,
    train_cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    tracking: str,
    as_of: pd.Timestamp | None = None,
    min_auc_gain: float = 0.0,
) -> TrainingResult:
    """Trains, evaluates on the latest period, logs to MLflow, registers, and applies the gate."""
    import mlflow
    from mlflow.models import infer_signature

    frame, folds = build_training_frame(tables, train_cfg, features_cfg, as_of)
    train = frame[frame["fold"] == "train"]
    check_enough_data(train, train_cfg)
    cal = frame[frame["fold"] == "calibration"]
    test = frame[frame["fold"] == "test"]
    if test.empty or test["label"].nunique() < 2:
        raise InsufficientDataError(
            "the test period has no conversions or no leads; cannot evaluate"
        )
    X_train, y_train = model_input(train), train["label"].to_numpy()
    X_test, y_test = model_input(test), test["label"].to_numpy()
    log.info("training on %d rows (%d conversions)", len(train), int(y_train.sum()))
    pipeline, method = fit_calibrated(
        build_pipeline(train_cfg, features_cfg),
        X_train,
        y_train,
        model_input(cal) if len(cal) else None,
        cal["label"].to_numpy() if len(cal) else None,
        train_cfg.calibration,
    )
    proba_test = pipeline.predict_proba(X_test)
    metrics = classification_metrics(y_test, proba_test[:, 1])
    configure(tracking)
    champion_metrics = _champion_metrics(train_cfg.model_name, X_test, y_test)
    sizes = {name: int((frame["fold"] == name).sum()) for name in ("train", "calibration", "test")}
    with mlflow.start_run() as run:
        mlflow.log_params(
            _flatten("train", train_cfg.model_dump())
            | _flatten("features", features_cfg.model_dump())
        )
        mlflow.log_params(
            {f"fold.{k}": v for k, v in folds.describe().items()} | {"calibration_method": method}
        )
        mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.log_metrics({f"rows_{k}": v for k, v in sizes.items()})
        if champion_metrics is not None:
            mlflow.log_metrics(
                {f"champion_test_{k}": v for k, v in champion_metrics.items() if np.isfinite(v)}
            )
        with tempfile.TemporaryDirectory() as tmp:
            table = pd.DataFrame(
                [metrics | {"model": "challenger"}]
                + ([champion_metrics | {"model": "champion"}] if champion_metrics else [])
            )
            path = Path(tmp) / "evaluation.csv"
            table.to_csv(path, index=False)
            mlflow.log_artifact(str(path))
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(X_test.head(100), proba_test[:100]),
            input_example=X_test.head(5),
            pyfunc_predict_fn="predict_proba",
            registered_model_name=train_cfg.model_name,
            serialization_format="cloudpickle",
            pip_requirements=_requirements(),
        )
        version = str(info.registered_model_version)
        promoted = should_promote(metrics, champion_metrics, min_auc_gain)
        mlflow.set_tag("promoted", str(promoted).lower())
    if promoted:
        reason = (
            "first model"
            if champion_metrics is None
            else (
                f"gate passed: AUC {metrics['roc_auc']:.4f} vs {champion_metrics['roc_auc']:.4f}, "
                f"Brier {metrics['brier']:.4f} vs {champion_metrics['brier']:.4f}"
            )
        )
        set_champion(train_cfg.model_name, version, reason)
    log.info("registered %s version %s (%s=%s)", train_cfg.model_name, version, CHAMPION, promoted)
    return TrainingResult(
        run.info.run_id, train_cfg.model_name, version, metrics, folds, method, promoted, sizes
    )


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
