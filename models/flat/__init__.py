"""Flat mode: one table with a label and no history (a random split, NOT point-in-time)."""

from models.flat.features import FlatConfig, FlatFeatures, clean_values
from models.flat.training import (
    FlatData,
    FlatInputError,
    FlatTrainingResult,
    flat_input,
    prepare_flat,
    train_flat,
)

__all__ = [
    "FlatConfig",
    "FlatData",
    "FlatFeatures",
    "FlatInputError",
    "FlatTrainingResult",
    "clean_values",
    "flat_input",
    "prepare_flat",
    "train_flat",
]
