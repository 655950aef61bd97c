"""Models: estimators, time-based training, evaluation, calibration, MLflow registry."""

from models.config import TrainConfig
from models.registry import (
    ChampionRef,
    NoChampionError,
    champion_history,
    configure,
    get_champion,
    list_versions,
    load_pipeline,
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
    "champion_history",
    "configure",
    "get_champion",
    "list_versions",
    "load_pipeline",
    "set_champion",
    "tracking_uri",
    "train_model",
]
