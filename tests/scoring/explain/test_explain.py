"""Reasons: phrased from the lead's own values, in words that agree with their sign."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scoring.explain import RowView, column_arrays, family_of, phrase, signal_of, top_reasons
from tests.scoring.explain.lead_rows import NAN, engagement, lead
from tests.scoring.explain.reason_checks import assert_strongest_possible, possible_reasons

UP, DOWN = 1, -1
QUIET = {"email_open": 24, "meeting": 2}


def said(feature: str, sign: int, **values: object) -> str | None:
    """What ``feature``'s signal says for a lead with ``values`` and a contribution of ``sign``."""
    frame = pd.DataFrame([lead(**values)])
    return phrase(feature, RowView(column_arrays(frame), 0), sign)


ENGAGEMENT = [
    # One sentence for recency, frequency, types and silence; high-intent actions first.
    (
        engagement({"pricing_page_view": 3, "meeting": 1, "email_open": 5}),
        UP,
        "Active recently: a meeting, 3 pricing-page views and 5 email opens in the last 30 days",
    ),
    (engagement({"pricing_page_view": 3, "meeting": 1}), DOWN, None),
    (engagement({"email_open": 2}), UP, "Active recently: 2 email opens in the last 30 days"),
    (
        engagement({"email_open": 2}),
        DOWN,
        "Low-intent activity only: 2 email opens in the last 30 days",
    ),
    (
        engagement({"web_visit": 1, "email_open": 4, "email_click": 2, "content_download": 1}),
        UP,
        "Active recently: 4 email opens, 2 email clicks, a content download and 1 more activity"
        " in the last 30 days",
    ),
    (engagement(earlier=QUIET), DOWN, "Gone quiet: no activity for 190 days"),
    (
        engagement(earlier=QUIET),
        UP,
        "Engaged earlier: 2 meetings and 24 email opens, the last 190 days ago",
    ),
    (engagement(), DOWN, "No activity yet (lead created 51 days ago)"),
    (engagement(), UP, None),  # an absence never raises the score
]


@pytest.mark.parametrize(("values", "sign", "expected"), ENGAGEMENT)
def test_engagement_speaks_with_one_voice(
    values: dict[str, float], sign: int, expected: str | None
) -> None:
    for feature in ("eng_total_30d", "eng_days_since_last", "eng_meeting_decay_7d", "eng_trend"):
        assert said(feature, sign, **values) == expected


@pytest.mark.parametrize(
    ("feature", "values", "sign", "expected"),
    [
        # need: absent, strong, vague, weak
        ("bant_need_present", {"bant_need_present": 0.0}, DOWN, "No need stated"),
        (
            "bant_need_present",
            {"bant_need_present": 0.0, "bant_need_strength": NAN},
            UP,
            "Has not stated a need: leads that state a vague need convert less",
        ),
        ("bant_need_strength", {}, UP, "Stated need resembles those of converting leads"),
        ("bant_need_strength", {}, DOWN, None),
        (
            "bant_need_strength",
            {"bant_need_strength": 0.03, "bant_need_words": 1.0},
            DOWN,
            "Stated need gives little sign of buying",
        ),
        (
            "bant_need_words",
            {"bant_need_strength": 0.03, "bant_need_words": 1.0},
            UP,
            "States a need (1 word)",
        ),
        (
            "bant_need_strength",
            {"bant_need_strength": -0.8},
            DOWN,
            "Stated need resembles those of leads that did not convert",
        ),
        ("bant_need_strength", {"bant_need_strength": -0.8}, UP, "States a need (4 words)"),
        # budget
        ("bant_budget_missing", {"bant_budget": NAN}, DOWN, "No budget stated"),
        ("bant_budget_missing", {"bant_budget": NAN}, UP, None),
        ("bant_budget", {}, UP, "Budget of $25,000"),
        ("bant_budget_per_employee", {}, DOWN, "Budget of $25,000"),
        # timing: absent, passed, later, soon
        (
            "bant_timing_missing",
            {"purchase_timeframe": None, "bant_timing_days_past": NAN},
            DOWN,
            "No purchase timeframe stated",
        ),
        (
            "bant_timing_missing",
            {"purchase_timeframe": None, "bant_timing_days_past": NAN},
            UP,
            "No timeframe stated: leads whose timeframe has passed convert less",
        ),
        (
            "bant_timing_days_past",
            {"purchase_timeframe": "0-1m", "bant_timing_days_past": 120.4},
            DOWN,
            "Stated timeframe (within a month) passed 120 days ago",
        ),
        ("bant_timing_days_past", {"bant_timing_days_past": 120.4}, UP, None),
        (
            "bant_timing_months",
            {"purchase_timeframe": "12m+", "bant_timing_days_past": -200.0},
            DOWN,
            "Plans to buy in a year or more: later than most buyers",
        ),
        (
            "bant_timing_months",
            {"purchase_timeframe": "12m+"},
            UP,
            "Plans to buy in a year or more",
        ),
        ("bant_timing_months", {}, UP, "Plans to buy in 1–3 months"),
        ("bant_timing_months", {}, DOWN, None),  # a near timeframe never lowers the score
    ],
)
def test_bant_need_budget_timing(
    feature: str, values: dict[str, object], sign: int, expected: str | None
) -> None:
    assert said(feature, sign, **values) == expected


@pytest.mark.parametrize(
    ("values", "sign", "expected"),
    [
        (
            {"job_title": "cio", "bant_authority_seniority": "c_level",
             "bant_authority_decision_maker": 1.0},
            UP,
            "Decision maker: CIO (C-level)",
        ),
        ({"job_title": "Cio", "bant_authority_seniority": "c_level"}, UP, "Job title: CIO (C-level)"),
        ({"job_title": "vp of sales"}, UP, "Job title: VP of Sales"),
        ({"job_title": "EVP, Revenue"}, DOWN, "Job title: EVP, Revenue (VP)"),
        (
            {"job_title": "SOFTWARE ENGINEER", "bant_authority_seniority": "individual",
             "bant_authority_decision_maker": 0.0},
            DOWN,
            "Not the decision maker: Software Engineer (individual contributor)",
        ),
        (
            {"job_title": "Gerente de ventas", "bant_authority_seniority": "unknown"},
            DOWN,
            "Job title shows no seniority: Gerente de ventas",
        ),
        ({"job_title": None, "bant_authority_seniority": "unknown"}, DOWN, "No job title given"),
        ({"job_title": "n/a", "bant_authority_seniority": "unknown"}, DOWN, "No job title given"),
        ({"job_title": None, "bant_authority_seniority": "unknown"}, UP, None),
        (
            {"job_title": None, "bant_authority_seniority": "unknown",
             "bant_authority_decision_maker": 1.0},
            UP,
            "Declared decision maker",
        ),
    ],
)  # fmt: skip
def test_authority_names_the_title_as_a_rep_writes_it(
    values: dict[str, object], sign: int, expected: str | None
) -> None:
    assert said("bant_authority_seniority", sign, **values) == expected


@pytest.mark.parametrize(
    ("feature", "values", "sign", "expected"),
    [
        ("fit_employees", {"fit_employees": 12.0}, UP, "Company of 12 employees"),
        ("fit_employees_band", {"fit_employees": 1.0}, DOWN, "Company of 1 employee"),
        ("fit_employees", {"fit_employees": 1200.0}, UP, "Company of 1,200 employees"),
        ("fit_employees", {"fit_employees": NAN}, DOWN, "Company size unknown"),
        ("fit_employees", {"fit_employees": NAN}, UP, None),
        ("fit_annual_revenue_band", {}, UP, "Company revenue $1M–$10M"),
        ("fit_annual_revenue", {"fit_annual_revenue": 2e9}, DOWN, "Company revenue over $1B"),
        ("fit_annual_revenue", {"fit_annual_revenue": 4e5}, DOWN, "Company revenue under $1M"),
        ("fit_annual_revenue", {"fit_annual_revenue": NAN}, DOWN, "Company revenue unknown"),
        ("fit_annual_revenue", {"fit_annual_revenue": NAN}, UP, None),
        ("fit_free_mail", {"fit_free_mail": 1.0}, DOWN, "Uses a free-mail address"),
        ("fit_free_mail", {"fit_free_mail": 1.0}, UP, None),
        ("fit_free_mail", {}, UP, "Uses a company email address"),
        ("fit_free_mail", {}, DOWN, None),
        ("fit_email_present", {"fit_email_present": 0.0, "fit_free_mail": NAN}, DOWN,
         "No email address given"),
        ("fit_email_present", {"fit_email_present": 0.0, "fit_free_mail": NAN}, UP, None),
        ("fit_phone_present", {}, UP, "Phone number given"),
        ("fit_phone_present", {"fit_phone_present": 0.0}, DOWN, "No phone number given"),
        ("fit_phone_present", {"fit_phone_present": 0.0}, UP, None),
        ("fit_industry", {"industry": "financial_services"}, UP, "Industry: financial services"),
        ("fit_industry", {"industry": None}, DOWN, "Industry unknown"),
        ("fit_industry", {"industry": None}, UP, None),
        ("fit_country", {"country": "IN"}, DOWN, "Based in India"),
        ("fit_country", {"country": "XX"}, DOWN, "Based in XX"),
        ("fit_source", {"source": "paid_search"}, DOWN, "Lead source: paid search"),
    ],
)  # fmt: skip
def test_firmographics_carry_units_and_names(
    feature: str, values: dict[str, object], sign: int, expected: str | None
) -> None:
    assert said(feature, sign, **values) == expected


@pytest.mark.parametrize(
    ("feature", "values", "sign", "expected"),
    [
        ("stage_stagnant", {"stage_stagnant": 1.0, "stage_days_in_stage": 200.2}, DOWN,
         "Stuck in the contacted stage for 200 days"),
        ("stage_stagnant", {"stage_stagnant": 1.0, "stage_days_in_stage": 200.2}, UP,
         "In the contacted stage for 200 days"),
        ("stage_backward_moves", {"stage_backward_moves": 1.0, "stage_current": "qualified"},
         DOWN, "Moved back in the funnel, now in the qualified stage"),
        ("stage_current", {"stage_current": None}, DOWN, "No funnel stage recorded"),
        ("stage_current", {"stage_current": None}, UP, None),
        ("stage_lead_age_days", {"stage_lead_age_days": 0.3}, UP, "Lead created today"),
        ("stage_lead_age_days", {"stage_lead_age_days": 1.5}, DOWN, "Lead created 1 day ago"),
        ("eng_unsubscribe_count", engagement(earlier={"unsubscribe": 1}), DOWN,
         "Unsubscribed from emails"),
        ("eng_unsubscribe_count", engagement(earlier={"unsubscribe": 1}), UP, None),
        ("eng_email_bounce_30d", engagement({"email_bounce": 2}), DOWN, "Emails bounced 2 times"),
        ("eng_negative_count", {}, UP, "Still subscribed to emails"),
        ("eng_negative_count", {}, DOWN, None),
        ("fit_custom_score", {"fit_custom_score": 0.25}, UP, "Custom score: 0.25"),
        ("fit_custom_score", {"fit_custom_score": NAN}, DOWN, "Custom score unknown"),
        ("fit_custom_score", {"fit_custom_score": NAN}, UP, None),
        ("attr_product", {"attr_product": "Business"}, UP, "Product: Business"),
        ("attr_landing_page_words", {"attr_landing_page_words": 3.0}, DOWN, "Landing page words: 3"),
    ],
)  # fmt: skip
def test_stage_opt_out_and_other_features(
    feature: str, values: dict[str, object], sign: int, expected: str | None
) -> None:
    assert said(feature, sign, **values) == expected


def test_signals_group_features_of_one_business_signal() -> None:
    engagement_features = (
        "eng_pricing_page_view_7d",
        "eng_pricing_page_view_decay_7d",
        "eng_high_intent_decay_7d",
        "eng_days_since_last",
        "eng_days_since_high_intent",
        "eng_total_30d",
        "eng_trend",
    )
    assert {signal_of(f) for f in engagement_features} == {"engagement"}
    assert signal_of("eng_unsubscribe_count") == signal_of("eng_negative_count") == "opt_out"
    assert (
        signal_of("bant_authority_seniority")
        == signal_of("bant_authority_decision_maker")
        == "authority"
    )
    assert signal_of("fit_employees") == signal_of("fit_employees_band") == "company_size"
    assert signal_of("fit_annual_revenue") == signal_of("fit_annual_revenue_band") == "revenue"
    assert family_of("eng_total_30d") == "engagement" and family_of("bant_need_strength") == "need"
    assert family_of("attr_product") == "attributes"


def test_reason_signs_agree_with_contributions(
    trained: dict[str, str], small_crm: dict[str, pd.DataFrame]
) -> None:
    import mlflow

    from models import booster_of, configure
    from pipelines.features.frame import build_feature_frame, model_input
    from pipelines.features.snapshots import build_snapshots
    from scoring.explain import contributions

    configure(trained["tracking"])  # tracking and registry (a global set by earlier tests)
    pipeline = mlflow.sklearn.load_model("models:/lead-conversion@champion")
    at = pd.Timestamp("2026-09-01", tz="UTC")
    snapshots = build_snapshots(small_crm["leads"], [at], 90).head(300)
    X = model_input(
        build_feature_frame(
            small_crm["leads"], small_crm["activities"], small_crm["stage_history"], snapshots
        )
    )
    Xt = pipeline[:-1].transform(X)
    contrib = contributions(booster_of(pipeline).booster_, Xt)
    # Contributions add up to the booster's raw score.
    raw = booster_of(pipeline).booster_.predict(Xt, raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, rtol=1e-6, atol=1e-6)
    reasons = [json.loads(r) for r in top_reasons(contrib, Xt, X)]
    columns = column_arrays(Xt, X)
    for row, items in enumerate(reasons):
        assert 1 <= len(items) <= 5
        # Each reason is the sentence of one signal, with the sign of that signal's sum.
        assert_strongest_possible(items, possible_reasons(contrib, RowView(columns, row), row))
