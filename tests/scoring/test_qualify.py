"""BANT checklist, qualification rules and trend on hand-built rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from scoring.config import BantRules, ScoringConfig, TrendSettings
from scoring.qualify import bant_checklist, bant_json, qualify, trend

NAN = float("nan")


def _features(**columns: list) -> pd.DataFrame:
    base = {
        "bant_need_present": [1.0, 0.0, 1.0],
        "bant_need_words": [6.0, NAN, 2.0],
        "bant_budget": [20_000.0, NAN, 100.0],
        "bant_budget_missing": [0.0, 1.0, 0.0],
        "bant_budget_per_employee": [200.0, NAN, 1.0],
        "bant_authority_level": [5.0, NAN, 1.0],
        "bant_authority_decision_maker": [1.0, NAN, 0.0],
        "bant_authority_seniority": pd.Categorical(["vp", "unknown", "student_intern"]),
        "bant_timing_months": [1.0, NAN, 12.0],
        "bant_timing_missing": [0.0, 1.0, 0.0],
        "bant_timing_days_past": [-10.0, NAN, 100.0],
        "eng_unsubscribe_count": [0.0, 0.0, 0.0],
        "eng_email_bounce_count": [0.0, 0.0, 0.0],
        "eng_days_since_last": [2.0, NAN, 90.0],
        "eng_total_30d": [5.0, 0.0, 0.0],
        "stage_stagnant": [0.0, NAN, 1.0],
        "stage_lead_age_days": [20.0, 100.0, 200.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_bant_met_unmet_and_unknown() -> None:
    checklist = bant_checklist(_features(), BantRules())
    assert checklist.to_dict(orient="records") == [
        {"need": True, "budget": True, "authority": True, "timing": True},
        {"need": None, "budget": None, "authority": None, "timing": None},
        {"need": False, "budget": False, "authority": False, "timing": False},
    ]
    assert json.loads(bant_json(checklist)[1]) == {
        "need": None,
        "budget": None,
        "authority": None,
        "timing": None,
    }


def _context(grades: list[str], **columns: list) -> pd.DataFrame:
    features = _features(**columns)
    checklist = bant_checklist(features, BantRules())
    return features.assign(
        grade=grades, score=[60.0, 30.0, 5.0], bant_met=checklist.eq(True).sum(axis=1)
    )


def test_qualification_rules_in_order() -> None:
    cfg = ScoringConfig()
    decided = qualify(_context(["A", "C", "D"]), cfg.qualification, cfg.default_qualification)
    # row 0: grade A → SQL; row 1: silent for 100 days → recycle; row 2: a student → disqualified
    assert decided.tolist() == ["sales_qualified", "recycle", "disqualified"]


def test_unsubscribe_disqualifies_even_an_a_lead() -> None:
    cfg = ScoringConfig()
    context = _context(
        ["A", "B", "B"],
        eng_unsubscribe_count=[1.0, 0.0, 0.0],
        stage_lead_age_days=[20.0, 10.0, 20.0],
    )
    decided = qualify(context, cfg.qualification, cfg.default_qualification)
    assert decided[0] == "disqualified"
    # row 1: grade B, BANT unknown, no activity but young → marketing qualified
    assert decided[1] == "marketing_qualified"


def test_default_when_no_rule_matches() -> None:
    cfg = ScoringConfig()
    context = _context(
        ["D", "D", "D"],
        bant_authority_seniority=pd.Categorical(["vp", "vp", "vp"]),
        stage_lead_age_days=[5.0, 5.0, 5.0],
        eng_days_since_last=[1.0, 1.0, 1.0],
        stage_stagnant=[0.0, 0.0, 0.0],
    )
    assert qualify(context, cfg.qualification, "nurture").tolist() == ["nurture"] * 3


def test_trend_against_previous_run() -> None:
    score = pd.Series([50.0, 50.0, 50.0, 50.0], index=["a", "b", "c", "d"])
    previous = pd.Series([40.0, 58.0, 52.0], index=["a", "b", "c"])
    assert trend(score, previous, TrendSettings(min_change=5)).tolist() == [
        "improving",
        "declining",
        "steady",
        "new",
    ]
    assert np.all(trend(score, pd.Series(dtype="float64"), TrendSettings()) == "new")
