"""The project's own point-in-time path, for tests that hold a model against the oracle.

Weekly snapshots, the feature frame, ``build_pipeline`` and ``fit_calibrated`` with
``TrainConfig()``: training and calibration label windows end before the evaluation time.
"""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline

from models.config import TrainConfig
from models.estimator import build_pipeline, fit_calibrated
from pipelines.config import FeaturesConfig
from pipelines.features import (
    build_feature_frame,
    build_snapshots,
    model_input,
    open_at,
    snapshot_dates,
    snapshots_at,
)

DAY = pd.Timedelta(days=1)


def fit_before(crm: dict[str, pd.DataFrame], at: pd.Timestamp) -> Pipeline:
    """A calibrated LightGBM whose label windows all end by ``at``."""
    leads, activities, stages = crm["leads"], crm["activities"], crm["stage_history"]
    cfg, features = TrainConfig(), FeaturesConfig()
    horizon = features.horizon_days
    calibration_end = at - horizon * DAY
    calibration_start = calibration_end - (cfg.split.calibration_days - 1) * DAY
    train_end = calibration_start - horizon * DAY
    first = leads["created_at"].min().normalize() + cfg.snapshots.warmup_days * DAY

    def frame(start: pd.Timestamp, end: pd.Timestamp, cap: int | None) -> pd.DataFrame:
        snapshots = build_snapshots(leads, snapshot_dates(start, end), horizon, cap, cfg.seed)
        return build_feature_frame(leads, activities, stages, snapshots, features, threads=1)

    train = frame(first, train_end, cfg.snapshots.max_per_lead)
    calibration = frame(calibration_start, calibration_end, cfg.snapshots.max_per_lead_eval)
    pipeline, _ = fit_calibrated(
        build_pipeline(cfg, features),
        model_input(train),
        train["label"].to_numpy(),
        model_input(calibration),
        calibration["label"].to_numpy(),
        cfg.calibration,
    )
    return pipeline


def predict_open(crm: dict[str, pd.DataFrame], pipeline: Pipeline, at: pd.Timestamp) -> pd.Series:
    """The pipeline's probabilities for the leads open at ``at``, indexed by lead_id."""
    leads = crm["leads"]
    ids = leads.loc[open_at(leads, at), "lead_id"]
    frame = build_feature_frame(
        leads, crm["activities"], crm["stage_history"], snapshots_at(ids, at), FeaturesConfig(),
        threads=1,
    )  # fmt: skip
    probability = pipeline.predict_proba(model_input(frame))[:, 1]
    return pd.Series(probability, index=frame["lead_id"].to_numpy())
