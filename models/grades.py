"""Scores and grades: the probability in percent, and A–D by configurable thresholds.

Training reports conversion per grade and scoring grades every lead: both use these.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from pipelines import Frozen


class GradeThresholds(Frozen):
    """Minimum score (0–100) for each grade; anything below C is D."""

    A: float = Field(50.0, ge=0, le=100)
    B: float = Field(25.0, ge=0, le=100)
    C: float = Field(10.0, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> GradeThresholds:
        if not self.A >= self.B >= self.C:
            raise ValueError("grade thresholds must satisfy A >= B >= C")
        return self


def to_score(probability: np.ndarray) -> np.ndarray:
    """The probability in percent, one decimal: a score of 37.5 means a 37.5% chance."""
    return np.round(np.clip(probability, 0.0, 1.0) * 100.0, 1)


def to_grade(score: np.ndarray, thresholds: GradeThresholds) -> np.ndarray:
    """A, B, C or D per score."""
    return np.select(
        [score >= thresholds.A, score >= thresholds.B, score >= thresholds.C],
        ["A", "B", "C"],
        default="D",
    )
