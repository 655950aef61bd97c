"""Scoring configuration (``configs/scoring.yaml``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipelines.config import Frozen


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


class ScoringConfig(Frozen):
    model_name: str = "lead-conversion"
    grades: GradeThresholds = GradeThresholds()
    chunk_size: int = Field(200_000, gt=0, description="leads scored per chunk (bounds memory)")
    default_deal_value: float = Field(10_000.0, ge=0, description="used when no deal was ever won")
