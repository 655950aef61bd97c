"""Models: estimators, time-based training, evaluation, calibration, MLflow registry.

- ``models.training``: point-in-time training; ``models.flat``: one table with a label;
- ``models.publishing``: what both end with (gate, log, register, champion);
- ``models.grades``: scores and grades, shared with the scorer;
- ``models.contributions``: exact TreeSHAP from compiled tables (``pred_contrib``'s values).
"""

from models.config import LeakageSettings, PromotionSettings, TrainConfig
from models.contributions import METHODS as CONTRIBUTION_METHODS
from models.contributions import compiled_tables, tree_contributions
from models.errors import InsufficientDataError
from models.estimator import booster_of, scoring_frames
from models.grades import GradeThresholds, to_grade, to_score
from models.registry import (
    CHAMPION,
    ChampionRef,
    ModelNotFound,
    NoChampionError,
    champion_history,
    configure,
    get_champion,
    get_version,
    list_versions,
    load_pipeline,
    load_reference,
    local_registry,
    resolve_model,
    set_champion,
    tracking_uri,
    version_tags,
)
from models.training import TrainingResult, train_model

__all__ = [
    "CHAMPION",
    "CONTRIBUTION_METHODS",
    "ChampionRef",
    "GradeThresholds",
    "InsufficientDataError",
    "LeakageSettings",
    "ModelNotFound",
    "NoChampionError",
    "PromotionSettings",
    "TrainConfig",
    "TrainingResult",
    "booster_of",
    "scoring_frames",
    "champion_history",
    "compiled_tables",
    "configure",
    "get_champion",
    "get_version",
    "list_versions",
    "load_pipeline",
    "load_reference",
    "local_registry",
    "resolve_model",
    "set_champion",
    "to_grade",
    "to_score",
    "tracking_uri",
    "train_model",
    "tree_contributions",
    "version_tags",
]
