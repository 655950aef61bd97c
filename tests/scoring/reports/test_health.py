"""Pipeline and score metrics on a hand-built CRM whose answers are worked out by hand.

The CRM, as of 2026-03-01 (stage order new → contacted → qualified → demo → proposal →
negotiation → won; lost is an exit):

| lead | created    | stages entered                                              | outcome          |
|------|------------|-------------------------------------------------------------|------------------|
| L1   | 2026-01-01 | new 01-01, contacted 01-03, qualified 01-10, proposal 01-20 | won 02-01, 1,000 |
| L2   | 2026-01-05 | new 01-05, contacted 01-08, qualified 01-12                  | lost 01-25       |
| L3   | 2026-01-10 | new 01-10, contacted 01-15                                   | open             |
| L4   | 2025-11-15 | new 11-15                                                    | open             |
| L5   | 2026-01-20 | new 01-20, contacted 01-21, qualified 02-03, demo 02-05      | open             |
| L6   | 2026-02-20 | (none)                                                       | open             |
| L7   | 2024-12-01 | new 2024-12-01                                               | won 2025-01-15   |
| L8   | 2026-01-02 | new 01-02                                                    | lost 01-05       |

L7 lies outside a 365-day window (created and won before 2025-03-01).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipelines.config import StageConfig
from pipelines.contracts import empty_table
from scoring.reports import health
from scoring.reports import metrics as score_metrics

AS_OF = pd.Timestamp("2026-03-01", tz="UTC")
STAGES = StageConfig()


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def _leads() -> pd.DataFrame:
    rows = [
        # lead, created, converted, lost, deal, owner, source, industry
        ("L1", "2026-01-01", "2026-02-01", None, 1000.0, "r1", "web", "software"),
        ("L2", "2026-01-05", None, "2026-01-25", None, "r1", "web", "retail"),
        ("L3", "2026-01-10", None, None, None, "r2", "event", "software"),
        ("L4", "2025-11-15", None, None, None, None, None, None),
        ("L5", "2026-01-20", None, None, None, "r1", "event", "software"),
        ("L6", "2026-02-20", None, None, None, "r2", "web", "retail"),
        ("L7", "2024-12-01", "2025-01-15", None, 5000.0, "r1", "web", "software"),
        ("L8", "2026-01-02", None, "2026-01-05", None, "r2", "partner", "retail"),
    ]
    frame = empty_table("leads")
    columns = ["lead_id", "created_at", "converted_at", "lost_at", "deal_value"]
    columns += ["owner_id", "source", "industry"]
    built = pd.DataFrame(rows, columns=columns)
    for column in ("created_at", "converted_at", "lost_at"):
        built[column] = pd.to_datetime(built[column], utc=True).astype("datetime64[us, UTC]")
    return pd.concat([frame, built], ignore_index=True)[list(frame.columns)]


def _stage_history() -> pd.DataFrame:
    entries = {
        "L1": [("new", "01-01"), ("contacted", "01-03"), ("qualified", "01-10")]
        + [("proposal", "01-20"), ("won", "02-01")],
        "L2": [("new", "01-05"), ("contacted", "01-08"), ("qualified", "01-12"), ("lost", "01-25")],
        "L3": [("new", "01-10"), ("contacted", "01-15")],
        "L5": [("new", "01-20"), ("contacted", "01-21"), ("qualified", "02-03"), ("demo", "02-05")],
        "L8": [("new", "01-02"), ("lost", "01-05")],
    }
    rows = [(lead, stage, f"2026-{day}") for lead, steps in entries.items() for stage, day in steps]
    rows += [("L4", "new", "2025-11-15"), ("L7", "new", "2024-12-01"), ("L7", "won", "2025-01-15")]
    rows += [("L3", "qualified", "2026-03-02")]  # after as_of: not known yet
    frame = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    frame["entered_at"] = pd.to_datetime(frame["entered_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    return frame


def _activities() -> pd.DataFrame:
    rows = [
        ("L3", "2026-01-20", "web_visit"),
        ("L3", "2026-02-28", "unsubscribe"),  # not engagement: L3 stays idle since 01-20
        ("L4", "2026-03-05", "meeting"),  # after as_of
        ("L5", "2026-02-25", "meeting"),
        ("L6", "2026-02-21", "email_open"),
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "occurred_at", "type"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    frame["value"] = np.nan
    return frame


def _scores(as_of: str, rows: list[tuple[str, str | None, float, str]]) -> pd.DataFrame:
    """lead_scores rows: (lead, owner, probability, qualification) with expected value p × 1000."""
    frame = pd.DataFrame(rows, columns=["lead_id", "owner_id", "probability", "qualification"])
    frame["as_of"] = ts(as_of)
    frame["score"] = (frame["probability"] * 100).round(1)
    frame["grade"] = np.select(
        [frame["score"] >= 50, frame["score"] >= 25, frame["score"] >= 10], ["A", "B", "C"], "D"
    )
    frame["expected_value"] = frame["probability"] * 1000
    return frame


@pytest.fixture
def crm() -> dict[str, pd.DataFrame]:
    return {"leads": _leads(), "stage_history": _stage_history(), "activities": _activities()}


def test_funnel_counts_the_cohort_and_todays_stages(crm: dict[str, pd.DataFrame]) -> None:
    table = health.funnel(crm["leads"], crm["stage_history"], AS_OF, STAGES).set_index("stage")
    steps = ["new", "contacted", "qualified", "demo", "proposal", "negotiation", "won"]
    assert list(table.index) == steps
    # Cohort L1-L6, L8 (7 leads). L1 skipped demo and negotiation: they count as passed.
    assert table["reached"].tolist() == [7, 4, 3, 2, 1, 1, 1]
    expected = [4 / 7, 3 / 4, 2 / 3, 1 / 2, 1.0, 1.0, np.nan]
    np.testing.assert_allclose(table["conversion_to_next"], expected)
    np.testing.assert_allclose(table["conversion_from_first"], np.array([7, 4, 3, 2, 1, 1, 1]) / 7)
    # Open now: L4 and L6 (no history) in new, L3 in contacted, L5 in demo.
    assert table["in_stage_now"].tolist() == [2, 1, 0, 1, 0, 0, 0]


def test_funnel_window_leaves_out_older_leads(crm: dict[str, pd.DataFrame]) -> None:
    table = health.funnel(crm["leads"], crm["stage_history"], AS_OF, STAGES, window_days=30)
    # Created in [2026-01-30, 2026-03-01): L6 only.
    assert table["reached"].tolist() == [1, 0, 0, 0, 0, 0, 0]


def test_mql_to_sql_from_stages_and_from_grades(crm: dict[str, pd.DataFrame]) -> None:
    rate = health.mql_to_sql(crm["leads"], crm["stage_history"], AS_OF, STAGES)
    # MQL = reached contacted: L1, L2, L3, L5; SQL among them: L1, L2, L5.
    assert (rate.numerator, rate.denominator) == (3, 4)
    assert rate.value == pytest.approx(0.75)
    scores = pd.concat(
        [
            _scores("2026-02-25", [("L6", "r2", 0.2, "marketing_qualified")]),
            _scores("2026-03-05", [("L4", None, 0.2, "marketing_qualified")]),  # after as_of
        ]
    )
    rate = health.mql_to_sql(crm["leads"], crm["stage_history"], AS_OF, STAGES, scores)
    assert (rate.numerator, rate.denominator) == (3, 5)


def test_days_in_stage_over_completed_stays(crm: dict[str, pd.DataFrame]) -> None:
    table = health.days_in_stage(crm["stage_history"], AS_OF, STAGES).set_index("stage")
    # new: L1 2, L2 3, L3 5, L5 1, L8 3 (L7's stay ended before the window).
    assert table.loc["new", "stays"] == 5
    assert table.loc["new", "mean_days"] == pytest.approx(2.8)
    assert table.loc["new", "median_days"] == pytest.approx(3.0)
    # contacted: L1 7, L2 4, L5 13; qualified: L1 10, L2 13 (until lost), L5 2.
    assert table.loc["contacted", ["stays", "mean_days", "median_days"]].tolist() == [3, 8.0, 7.0]
    assert table.loc["qualified", "mean_days"] == pytest.approx(25 / 3)
    assert table.loc["qualified", "median_days"] == pytest.approx(10.0)
    assert table.loc["proposal", "mean_days"] == pytest.approx(12.0)
    # L5 is still in demo: an open stay is not counted.
    assert table.loc["demo", "stays"] == 0 and np.isnan(table.loc["demo", "mean_days"])
    assert "won" not in table.index and "lost" not in table.index


def test_cycle_length_and_pipeline_velocity(crm: dict[str, pd.DataFrame]) -> None:
    # Won in the window: L1 only, created 01-01 and won 02-01.
    assert health.cycle_days(crm["leads"], AS_OF).tolist() == [31.0]
    v = health.pipeline_velocity(crm["leads"], crm["stage_history"], AS_OF, STAGES)
    # Opportunities (reached qualified): open L5; closed in window L1 (won) and L2 (lost).
    # L8 was lost before qualification: not an opportunity, not in the win rate.
    assert v.open_opportunities == 1
    assert (v.win_rate.numerator, v.win_rate.denominator) == (1, 2)
    assert v.avg_deal_value == 1000.0 and v.cycle_days == 31.0
    assert v.per_day == pytest.approx(1 * 0.5 * 1000 / 31)


def test_lead_velocity_rate_uses_complete_months(crm: dict[str, pd.DataFrame]) -> None:
    # First reached qualified or later: L1 01-10, L2 01-12, L5 02-03 (L7 in Jan 2025).
    for as_of in (AS_OF, ts("2026-03-20")):  # March is incomplete either way
        lvr = health.lead_velocity_rate(crm["stage_history"], as_of, STAGES, months=3)
        assert [m.strftime("%Y-%m") for m in lvr["month"]] == ["2025-12", "2026-01", "2026-02"]
        assert lvr["qualified_leads"].tolist() == [0, 2, 1]
        assert np.isnan(lvr["lvr"].iloc[0])  # 0 → 0: no growth rate
        assert np.isnan(lvr["lvr"].iloc[1])  # 0 → 2: undefined, not infinite
        assert lvr["lvr"].iloc[2] == pytest.approx(-0.5)


def test_stagnant_and_dormant_leads(crm: dict[str, pd.DataFrame]) -> None:
    stuck = health.stagnant_leads(crm["leads"], crm["stage_history"], AS_OF, STAGES)
    # L4 106 days in new (> 14), L3 45 days in contacted (> 21), L5 24 days in demo (> 21);
    # L6 has been in new for 9 days only.
    assert stuck["lead_id"].tolist() == ["L4", "L3", "L5"]
    assert stuck["stage"].tolist() == ["new", "contacted", "demo"]
    np.testing.assert_allclose(stuck["days_in_stage"], [106, 45, 24])
    assert stuck["threshold_days"].tolist() == [14, 21, 21]
    idle = health.dormant_leads(crm["leads"], crm["activities"], AS_OF, dormant_days=30)
    # L4 never active (106 days since created; its meeting is after as_of); L3's last
    # activity other than the unsubscribe was 01-20.
    assert idle["lead_id"].tolist() == ["L4", "L3"]
    np.testing.assert_allclose(idle["days_idle"], [106, 40])
    assert idle["last_activity_at"].isna().tolist() == [True, False]


def test_cleanup_list_suggests_an_action(crm: dict[str, pd.DataFrame]) -> None:
    todo = health.cleanup_list(
        crm["leads"], crm["activities"], crm["stage_history"], AS_OF, STAGES, 30, 90
    )
    assert todo["lead_id"].tolist() == ["L4", "L5", "L3"]
    assert todo["action"].tolist() == ["disqualify", "back to qualification", "recycle to nurture"]
    assert todo["stagnant"].tolist() == [True, True, True]
    assert todo["dormant"].tolist() == [True, False, True]
    without_stages = health.cleanup_list(crm["leads"], crm["activities"], None, AS_OF, STAGES)
    assert without_stages["lead_id"].tolist() == ["L4", "L3"]  # dormancy only
    assert without_stages["action"].tolist() == ["disqualify", "recycle to nurture"]


SCORES_NOW = [
    ("L3", "r2", 0.2, "nurture"),
    ("L4", None, 0.05, "recycle"),
    ("L5", "r1", 0.6, "sales_qualified"),
    ("L6", "r2", 0.1, "marketing_qualified"),
]


def test_expected_revenue_by_owner_and_source(crm: dict[str, pd.DataFrame]) -> None:
    scores = _scores("2026-03-01", SCORES_NOW)
    by_owner = score_metrics.expected_revenue(scores, crm["leads"], "owner_id")
    assert by_owner["owner_id"].tolist() == ["r1", "r2", "(none)"]
    np.testing.assert_allclose(by_owner["expected_revenue"], [600, 300, 50])
    assert by_owner["leads"].tolist() == [1, 2, 1]
    np.testing.assert_allclose(by_owner["share"], [600 / 950, 300 / 950, 50 / 950])
    by_source = score_metrics.expected_revenue(scores, crm["leads"], "source")
    assert by_source["source"].tolist() == ["event", "web", "(none)"]
    np.testing.assert_allclose(by_source["expected_revenue"], [800, 100, 50])
    with pytest.raises(ValueError, match="one as_of"):
        score_metrics.expected_revenue(
            pd.concat([scores, _scores("2026-02-01", SCORES_NOW)]), crm["leads"], "owner_id"
        )


def test_breakdown_by_source(crm: dict[str, pd.DataFrame]) -> None:
    scores = _scores("2026-03-01", SCORES_NOW)
    table = score_metrics.breakdown(crm["leads"], scores, AS_OF, "source").set_index("source")
    assert list(table.index) == ["web", "event", "(none)", "partner"]
    assert table["leads"].tolist() == [3, 2, 1, 1]
    assert table["won"].tolist() == [1, 0, 0, 0]
    assert table["lost"].tolist() == [1, 0, 0, 1]
    np.testing.assert_allclose(table["conversion_rate"], [1 / 3, 0, 0, 0])
    np.testing.assert_allclose(table["win_rate"], [0.5, np.nan, np.nan, 0.0])
    np.testing.assert_allclose(table["avg_deal_value"], [1000, np.nan, np.nan, np.nan])
    assert table["open_scored"].tolist() == [1, 2, 1, 0]
    np.testing.assert_allclose(table["mean_score"], [10, 40, 5, np.nan])
    np.testing.assert_allclose(table["expected_revenue"], [100, 800, 50, 0])


def test_grade_outcomes_join_an_earlier_run_with_later_conversions() -> None:
    leads = _leads()
    leads.loc[leads["lead_id"] == "L6", "converted_at"] = ts("2026-03-10")  # after as_of
    earlier = _scores(
        "2026-01-15",
        [
            ("L1", "r1", 0.8, None),  # A, won 02-01: inside (01-15, 03-01]
            ("L5", "r1", 0.55, None),  # A, open
            ("L2", "r1", 0.3, None),  # B, lost
            ("L3", "r2", 0.1, None),  # C
            ("L6", "r2", 0.02, None),  # D, converts after as_of: not seen yet
        ],
    )
    table = score_metrics.grade_outcomes(earlier, leads, AS_OF, horizon_days=90)
    assert table["grade"].tolist() == ["A", "B", "C", "D"]
    assert table["leads"].tolist() == [2, 1, 1, 1]
    assert table["converted"].tolist() == [1, 0, 0, 0]
    np.testing.assert_allclose(table["conversion_rate"], [0.5, 0, 0, 0])
    np.testing.assert_allclose(table["mean_probability"], [0.675, 0.3, 0.1, 0.02])
    assert (table["observed_days"] == 45).all()  # 01-15 → 03-01, short of 90
    later = score_metrics.grade_outcomes(earlier, leads, ts("2026-06-01"), horizon_days=90)
    assert later["converted"].tolist() == [1, 0, 0, 1] and (later["observed_days"] == 90).all()


def test_earlier_run_prefers_a_settled_window() -> None:
    dates = pd.Series([ts("2026-01-01"), ts("2026-02-01"), ts("2026-03-01")])
    assert score_metrics.earlier_run(dates, AS_OF, horizon_days=28) == ts("2026-02-01")
    assert score_metrics.earlier_run(dates, AS_OF, horizon_days=90) == ts("2026-01-01")
    assert score_metrics.earlier_run(dates, ts("2026-01-01"), horizon_days=28) is None


def test_psi_by_hand() -> None:
    expected = pd.Series(np.arange(100, dtype="float64"))  # deciles: 10 values per bin
    assert score_metrics.psi(expected, expected) == pytest.approx(0.0)
    actual = pd.Series(np.r_[np.arange(0, 10), np.arange(90, 100)].repeat(5).astype("float64"))
    # Actual: half in the first decile, half in the last; the 8 empty bins floor at 1e-4.
    by_hand = 2 * (0.5 - 0.1) * math.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert score_metrics.psi(expected, actual) == pytest.approx(by_hand)
    words = pd.Series(["a"] * 50 + ["b"] * 50)
    shifted = pd.Series(["a"] * 80 + ["b"] * 20)
    by_hand = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert score_metrics.psi(words, shifted) == pytest.approx(by_hand)
    # Missing values are a bin of their own: a column that starts going missing drifts.
    half_missing = pd.Series([None] * 50 + ["a"] * 25 + ["b"] * 25)
    by_hand = 2 * (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert score_metrics.psi(words, half_missing) == pytest.approx(by_hand)
    # Text beyond the most frequent reference values shares one "(other)" bin.
    # 100 distinct titles: 20 kept at 1% each, 80% "(other)"; then 100 unseen ones.
    titles = pd.Series([f"title {i}" for i in range(100)])
    unseen = pd.Series([f"other {i}" for i in range(100)])
    by_hand = 20 * (1e-4 - 0.01) * math.log(1e-4 / 0.01) + (1.0 - 0.8) * math.log(1.0 / 0.8)
    assert score_metrics.psi(titles, unseen) == pytest.approx(by_hand)
    new_values = pd.Series(["a"] * 50 + ["c"] * 50)  # "c" never seen: all of it is "(other)"
    by_hand = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert score_metrics.psi(words, new_values) == pytest.approx(by_hand)
    assert np.isnan(score_metrics.psi(pd.Series([], dtype=float), expected))


def test_psi_by_column_flags_drifted_features() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(
        {"lead_id": [f"L{i}" for i in range(1000)], "x": rng.normal(size=1000)}
    )
    reference["y"] = rng.normal(size=1000)
    reference["label"] = 0
    current = reference.assign(y=reference["y"] + 1.0, lead_id=[f"M{i}" for i in range(1000)])
    table = score_metrics.psi_by_column(reference, current)
    assert table["feature"].tolist() == ["y", "x"]  # ids and labels are not features
    assert table["drifted"].tolist() == [True, False]
    assert table["psi"].iloc[1] == pytest.approx(0.0)
    assert table["psi"].iloc[0] > score_metrics.PSI_THRESHOLD


def test_metrics_leave_their_inputs_untouched(crm: dict[str, pd.DataFrame]) -> None:
    before = {name: frame.copy() for name, frame in crm.items()}
    scores = _scores("2026-03-01", SCORES_NOW)
    scores_before = scores.copy()
    health.funnel(crm["leads"], crm["stage_history"], AS_OF, STAGES)
    health.cleanup_list(crm["leads"], crm["activities"], crm["stage_history"], AS_OF, STAGES)
    health.lead_velocity_rate(crm["stage_history"], AS_OF, STAGES)
    score_metrics.breakdown(crm["leads"], scores, AS_OF, "industry")
    for name, frame in crm.items():
        pd.testing.assert_frame_equal(frame, before[name])
    pd.testing.assert_frame_equal(scores, scores_before)
