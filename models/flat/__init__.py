"""Flat mode: one table with a label and no history (split at random or by time)."""

from models.flat.explain import flat_contributions, flat_features_of
from models.flat.features import FlatConfig, FlatFeatures, clean_values
from models.flat.split import FlatData, FlatInputError, flat_input, prepare_flat
from models.flat.training import FlatTrainingResult, train_flat

__all__ = [
    "FlatConfig",
    "FlatData",
    "FlatFeatures",
    "FlatInputError",
    "FlatTrainingResult",
    "clean_values",
    "flat_contributions",
    "flat_features_of",
    "flat_input",
    "prepare_flat",
    "train_flat",
]
