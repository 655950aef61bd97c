"""Whatever a lead's values and contributions, its reasons never contradict each other."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.explain import RowView, column_arrays, top_reasons
from tests.scoring.explain.lead_rows import NAN, contributions_for, engagement, frames, lead
from tests.scoring.explain.reason_checks import (
    absences_as_plus,
    assert_strongest_possible,
    contradicts_itself,
    engagement_sentences,
    possible_reasons,
    strengths_as_minus,
)

ACTIVE = ("email_open", "web_visit", "pricing_page_view", "meeting", "demo_request", "call")
TITLES = (
    (None, "unknown"),
    ("n/a", "unknown"),
    ("cio", "c_level"),
    ("VP Sales", "vp"),
    ("Marketing Intern", "student_intern"),
    ("Gerente de ventas", "unknown"),
    ("SOFTWARE ENGINEER", "individual"),
)


def maybe(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(NAN), values)


@st.composite
def leads(draw: st.DrawFn) -> dict[str, object]:
    """A lead with any mix of present and missing values and any engagement history."""
    counts = st.dictionaries(st.sampled_from(ACTIVE), st.integers(1, 12), max_size=3)
    opt_out = st.dictionaries(st.sampled_from(("unsubscribe", "email_bounce")), st.integers(1, 2))
    activity = engagement(draw(counts), {**draw(counts), **draw(opt_out)}, draw(st.floats(0, 6)))
    title, seniority = draw(st.sampled_from(TITLES))
    timeframe = draw(st.sampled_from((None, "0-1m", "1-3m", "3-6m", "6-12m", "12m+")))
    age = draw(st.floats(0, 700))
    months = {None: NAN, "0-1m": 1, "1-3m": 3, "3-6m": 6, "6-12m": 12, "12m+": 18}[timeframe]
    need = draw(st.sampled_from((NAN, -1.5, -0.05, 0.05, 0.7, None)))
    stage = draw(st.sampled_from((None, "new", "contacted", "qualified", "proposal")))
    email = draw(st.sampled_from(((0.0, NAN), (1.0, 0.0), (1.0, 1.0))))
    return lead(
        **activity,
        job_title=title,
        bant_authority_seniority=seniority,
        bant_authority_decision_maker=draw(st.sampled_from((NAN, 0.0, 1.0))),
        bant_need_present=0.0 if need is None else 1.0,
        bant_need_strength=NAN if need is None else need,
        purchase_timeframe=timeframe,
        bant_timing_days_past=age - months * 30.44,
        stage_lead_age_days=age,
        bant_budget=draw(maybe(st.floats(100, 1e6))),
        fit_employees=draw(maybe(st.integers(1, 20_000).map(float))),
        fit_annual_revenue=draw(maybe(st.floats(1e4, 5e9))),
        fit_email_present=email[0],
        fit_free_mail=email[1],
        fit_phone_present=float(draw(st.booleans())),
        industry=draw(st.sampled_from((None, "software", "financial_services"))),
        country=draw(st.sampled_from((None, "IN", "DE", "XX"))),
        stage_current=stage,
        stage_stagnant=draw(st.sampled_from((0.0, 1.0))),
        stage_backward_moves=draw(st.sampled_from((0.0, 0.0, 1.0))),
        stage_days_in_stage=draw(st.floats(0, 400)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(leads(), min_size=1, max_size=6), st.integers(0, 2**31 - 1), st.floats(0.05, 2))
def test_reasons_never_contradict_each_other(
    rows: list[dict[str, object]], seed: int, scale: float
) -> None:
    Xt, X = frames(rows)
    contrib = contributions_for(len(rows), seed, scale)
    columns = column_arrays(Xt, X)
    for row, value in enumerate(top_reasons(contrib, Xt, X)):
        reasons = json.loads(value)
        assert len(reasons) <= 5 and all(r[:2] in ("+ ", "- ") for r in reasons)
        assert absences_as_plus(reasons) == []
        assert strengths_as_minus(reasons) == []
        assert len(engagement_sentences(reasons)) <= 1
        assert not contradicts_itself(reasons)
        # Signs are those of the summed contributions; the strongest possible reasons win.
        assert_strongest_possible(reasons, possible_reasons(contrib, RowView(columns, row), row))


def test_the_checks_catch_the_old_reasons() -> None:
    """The checks above fail on reasons the old phrasing gave (so they can fail)."""
    old = [
        "+ No need stated",
        "+ Engaged recently",
        "- No activity for 190 days",
        "- Opened 24 emails since the lead was created",
        "- Within the stated timeframe (12m+)",
    ]
    assert absences_as_plus(old) == ["+ No need stated"]
    assert strengths_as_minus(old) == old[3:]
    assert contradicts_itself(old)
    assert len(engagement_sentences(["+ Active recently: a call", "- Gone quiet: x"])) == 2
