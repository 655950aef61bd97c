"""Models: estimators, time-based training, evaluation, calibration, MLflow registry."""

from models.config import TrainConfig
from models.estimator import booster_of
from models.registry import (
    ChampionRef,
    NoChampionError,
    champion_history,
    configure,
    get_champion,
    list_versions,
    load_pipeline,
    load_reference,
    set_champion,
    tracking_uri,
)
from models.training import InsufficientDataError, TrainingResult, train_model

__all__ = [
    "ChampionRef",
    "InsufficientDataError",
    "NoChampionError",
    "TrainConfig",
    "TrainingResult",
    "booster_of",
    "champion_history",
    "configure",
    "get_champion",
    "list_versions",
    "load_pipeline",
    "load_reference",
    "set_champion",
    "tracking_uri",
    "train_model",
]
