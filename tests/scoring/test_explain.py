"""Reasons: phrased from the lead's own values, signed as the model's contributions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scoring.explain import RowView, column_arrays, family_of, phrase, signal_of, top_reasons


def _row(**values: object) -> RowView:
    frame = pd.DataFrame({k: [v] for k, v in values.items()})
    return RowView(column_arrays(frame), 0)


@pytest.mark.parametrize(
    ("feature", "values", "expected"),
    [
        (
            "eng_pricing_page_view_7d",
            {"eng_pricing_page_view_7d": 3.0},
            "Viewed the pricing page 3 times in the last 7 days",
        ),
        (
            "eng_pricing_page_view_7d",
            {"eng_pricing_page_view_7d": 1.0},
            "Viewed the pricing page 1 time in the last 7 days",
        ),
        (
            "eng_demo_request_30d",
            {"eng_demo_request_30d": 0.0},
            "No demo requested in the last 30 days",
        ),
        (
            "eng_meeting_count",
            {"eng_meeting_count": 2.0},
            "Had 2 meetings since the lead was created",
        ),
        ("eng_days_since_last", {"eng_days_since_last": 45.2}, "No activity for 45 days"),
        (
            "eng_pricing_page_view_decay_7d",
            {"eng_pricing_page_view_decay_7d": 2.4},
            "Viewed the pricing page 2 times recently",
        ),
        ("eng_meeting_decay_30d", {"eng_meeting_decay_30d": 0.1}, "No meetings recently"),
        ("eng_days_since_last", {"eng_days_since_last": 0.3}, "Last activity today"),
        ("eng_days_since_last", {"eng_days_since_last": float("nan")}, "No activity yet"),
        (
            "bant_authority_seniority",
            {
                "bant_authority_seniority": "vp",
                "bant_authority_decision_maker": 1.0,
                "job_title": "VP Sales",
            },
            "Decision maker: VP Sales (vp)",
        ),
        ("bant_budget", {"bant_budget": 25000.0}, "Budget stated: 25,000"),
        ("bant_budget_missing", {"bant_budget_missing": 1.0}, "No budget stated"),
        (
            "bant_timing_days_past",
            {"bant_timing_days_past": 120.0, "purchase_timeframe": "0-1m"},
            "Stated timeframe (0-1m) passed 120 days ago",
        ),
        ("fit_free_mail", {"fit_free_mail": 1.0}, "Uses a free-mail address"),
        ("fit_industry", {"fit_industry": "software"}, "Industry: software"),
        (
            "stage_stagnant",
            {"stage_stagnant": 1.0, "stage_current": "proposal"},
            "Stuck in proposal past its threshold",
        ),
        ("stage_backward_moves", {"stage_backward_moves": 1.0}, "Moved back in the funnel 1 time"),
    ],
)
def test_phrases(feature: str, values: dict[str, object], expected: str) -> None:
    assert phrase(feature, _row(**values)) == expected


def test_signals_group_features_of_one_business_signal() -> None:
    assert (
        signal_of("eng_pricing_page_view_7d")
        == signal_of("eng_pricing_page_view_count")
        == "activity:pricing_page_view"
    )
    assert signal_of("eng_pricing_page_view_decay_7d") == "activity:pricing_page_view"
    assert signal_of("eng_high_intent_decay_7d") == "high_intent"
    assert (
        signal_of("bant_authority_seniority")
        == signal_of("bant_authority_decision_maker")
        == "authority"
    )
    assert signal_of("fit_employees") == signal_of("fit_annual_revenue") == "company_size"
    assert family_of("eng_total_30d") == "engagement" and family_of("bant_need_strength") == "need"


def test_reason_signs_agree_with_contributions(
    trained: dict[str, str], small_crm: dict[str, pd.DataFrame]
) -> None:
    import mlflow

    from models import booster_of
    from pipelines.features.frame import build_feature_frame, model_input
    from pipelines.features.snapshots import build_snapshots
    from scoring.explain import contributions

    mlflow.set_tracking_uri(trained["tracking"])
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
    reasons = [json.loads(r) for r in top_reasons(contrib, Xt, X, k=5, min_abs=0.0)]
    features = [c for c in contrib.columns if c != "bias"]
    sums = contrib[features].T.groupby([signal_of(f) for f in features]).sum().T
    for row, items in enumerate(reasons):
        expected = sums.iloc[row].reindex(
            sums.iloc[row].abs().sort_values(ascending=False, kind="stable").index
        )
        signs = ["+" if v > 0 else "-" for v in expected.head(len(items))]
        assert [item[0] for item in items] == signs
        assert 1 <= len(items) <= 5
