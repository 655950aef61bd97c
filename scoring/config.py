"""Scoring configuration (``configs/scoring.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from models import GradeThresholds
from pipelines import Frozen
from scoring.explain import ReasonSettings  # the reasons' words live beside their code


class BantRules(Frozen):
    """When each BANT item counts as met: pandas expressions over the transformed features."""

    need: str = "bant_need_present == 1 and bant_need_words >= 4"
    budget: str = "bant_budget >= 5000 or bant_budget_per_employee >= 20"
    authority: str = "bant_authority_level >= 4 or bant_authority_decision_maker == 1"
    timing: str = "bant_timing_months <= 3 and bant_timing_days_past <= 30"


class QualificationRule(Frozen):
    name: Literal["sales_qualified", "marketing_qualified", "nurture", "recycle", "disqualified"]
    when: str


DEFAULT_QUALIFICATION = (
    QualificationRule(
        name="disqualified",
        when="eng_unsubscribe_count > 0 or eng_email_bounce_count > 0 or bant_authority_seniority == 'student_intern'",
    ),
    QualificationRule(
        name="sales_qualified", when="grade == 'A' or (grade == 'B' and bant_met >= 3)"
    ),
    QualificationRule(
        name="recycle",
        when="stage_stagnant == 1 or eng_days_since_last > 60 or (eng_days_since_last != eng_days_since_last and stage_lead_age_days > 60)",
    ),
    QualificationRule(
        name="marketing_qualified", when="grade == 'B' or (grade == 'C' and eng_total_30d >= 3)"
    ),
)


class TrendSettings(Frozen):
    min_change: float = Field(5.0, gt=0, description="score points that count as a move")


class ScoringConfig(Frozen):
    model_name: str = "lead-conversion"
    grades: GradeThresholds = GradeThresholds()
    bant: BantRules = BantRules()
    qualification: tuple[QualificationRule, ...] = DEFAULT_QUALIFICATION
    default_qualification: Literal["nurture", "marketing_qualified", "recycle"] = "nurture"
    trend: TrendSettings = TrendSettings()
    reasons: ReasonSettings = ReasonSettings()
    partition_size: int = Field(
        250_000, gt=0, description="leads read from the store per slice (bounds memory)"
    )
    chunk_size: int = Field(50_000, gt=0, description="leads scored per chunk (bounds memory)")
    staging_memory_limit: str = Field(
        "512MB", description="DuckDB memory for ranking the run's rows (spills to disk beyond)"
    )
    default_deal_value: float = Field(10_000.0, ge=0, description="used when no deal was ever won")
