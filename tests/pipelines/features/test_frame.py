"""The feature frame on hand-built tables whose answers are worked out by hand.

Every table goes through ``validate_table`` first, as the pipeline's reads do. The snapshot
time ``T`` is not midnight on purpose, so day arithmetic and day buckets are exercised.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from pipelines.config import FeaturesConfig
from pipelines.contracts import SCHEMAS, empty_table, validate_table
from pipelines.features.frame import (
    KEY_COLUMNS,
    build_feature_frame,
    feature_columns,
    lead_attributes,
    model_input,
)
from pipelines.features.sql import engagement_feature_names
from tests.paths import REPO

T = pd.Timestamp("2026-06-10T12:00:00Z")
DAY = pd.Timedelta(days=1)
US = pd.Timedelta(microseconds=1)
LEAD_COLUMNS = list(SCHEMAS["leads"].to_schema().columns)


def _iso(ts: pd.Timestamp) -> str:
    return ts.isoformat()


def make_leads(*rows: dict) -> pd.DataFrame:
    """A contract ``leads`` table; unspecified columns are missing, created 100 days before T."""
    defaults = {"created_at": _iso(T - 100 * DAY)}
    records = [{c: {**defaults, **row}.get(c) for c in LEAD_COLUMNS} for row in rows]
    return validate_table("leads", pd.DataFrame(records, columns=LEAD_COLUMNS))


def make_activities(*rows: tuple) -> pd.DataFrame:
    """Rows of (lead_id, occurred_at, type[, value])."""
    if not rows:
        return empty_table("activities")
    records = [
        {
            "lead_id": r[0],
            "occurred_at": _iso(r[1]),
            "type": r[2],
            "value": r[3] if len(r) > 3 else None,
        }
        for r in rows
    ]
    return validate_table("activities", pd.DataFrame(records))


def make_stages(*rows: tuple) -> pd.DataFrame:
    """Rows of (lead_id, stage, entered_at)."""
    if not rows:
        return empty_table("stage_history")
    records = [{"lead_id": r[0], "stage": r[1], "entered_at": _iso(r[2])} for r in rows]
    return validate_table("stage_history", pd.DataFrame(records))


def snapshots_at(*lead_ids: str, at: pd.Timestamp = T) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.array(list(lead_ids), dtype="str"),
            "snapshot_at": pd.Series([at] * len(lead_ids)).astype("datetime64[us, UTC]"),
        }
    )


def features(leads, activities, stages=None, snapshots=None) -> pd.DataFrame:
    snaps = snapshots if snapshots is not None else snapshots_at(*leads["lead_id"])
    return build_feature_frame(leads, activities, stages, snaps).set_index("lead_id")


def row(leads, activities, stages=None, lead_id: str = "L1") -> pd.Series:
    return features(leads, activities, stages).loc[lead_id]


# --- engagement: counts and windows --------------------------------------------------------


def test_counts_per_type_in_7_30_90_day_windows_and_in_total() -> None:
    acts = make_activities(
        ("L1", T - 1 * DAY, "web_visit"),
        ("L1", T - 10 * DAY, "web_visit"),
        ("L1", T - 45 * DAY, "web_visit"),
        ("L1", T - 120 * DAY, "web_visit"),
        ("L1", T - 3 * DAY, "pricing_page_view"),
        ("L1", T - 29 * DAY, "email_open"),
        ("L1", T - 31 * DAY, "email_open"),
        ("L1", T - 89 * DAY, "meeting"),
        ("L1", T + 1 * DAY, "web_visit"),  # after T: never counted
        ("L2", T - 1 * DAY, "web_visit"),  # another lead's event
    )
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), acts)
    expected = {
        "eng_web_visit_7d": 1,
        "eng_web_visit_30d": 2,
        "eng_web_visit_90d": 3,
        "eng_web_visit_count": 4,
        "eng_pricing_page_view_7d": 1,
        "eng_pricing_page_view_count": 1,
        "eng_email_open_7d": 0,
        "eng_email_open_30d": 1,
        "eng_email_open_90d": 2,
        "eng_email_open_count": 2,
        "eng_meeting_30d": 0,
        "eng_meeting_90d": 1,
        "eng_call_count": 0,
        "eng_other_count": 0,
        "eng_total_7d": 2,
        "eng_total_30d": 4,
        "eng_total_90d": 7,
        "eng_total_count": 8,
    }
    assert r[list(expected)].to_dict() == {k: float(v) for k, v in expected.items()}


def test_window_edges_event_at_t_is_excluded_and_an_event_exactly_7_days_old_is_in_7d() -> None:
    acts = make_activities(
        ("L1", T, "demo_request"),  # exactly at T: not known at T
        ("L1", T - US, "web_visit"),  # one microsecond before T: known
        ("L1", T - 7 * DAY, "call"),  # age exactly 7 days: windows are age <= days
        ("L1", T - 7 * DAY - US, "email_click"),  # just outside 7d
    )
    r = row(make_leads({"lead_id": "L1"}), acts)
    assert r["eng_demo_request_count"] == 0
    assert r["eng_web_visit_7d"] == 1
    assert r["eng_call_7d"] == 1
    assert r["eng_email_click_7d"] == 0
    assert r["eng_email_click_30d"] == 1
    assert r["eng_total_count"] == 3
    assert r["eng_days_since_last"] == pytest.approx(1e-6 / 86_400, abs=1e-9)
    assert math.isnan(r["eng_days_since_high_intent"])  # the demo request is at T


def test_unknown_activity_type_is_counted_as_other_and_in_total() -> None:
    acts = make_activities(
        ("L1", T - 2 * DAY, "linkedin_message"),
        ("L1", T - 40 * DAY, "linkedin_message"),
        ("L1", T - 2 * DAY, "web_visit"),
    )
    r = row(make_leads({"lead_id": "L1"}), acts)
    assert r["eng_other_count"] == 2
    assert r["eng_other_7d"] == 1
    assert r["eng_other_30d"] == 1
    assert r["eng_other_90d"] == 2
    assert r["eng_total_count"] == 3
    assert r["eng_web_visit_count"] == 1
    assert not any("linkedin" in c for c in r.index)


def test_decayed_intensity_for_known_ages_and_half_lives() -> None:
    acts = make_activities(
        ("L1", T - 7 * DAY, "web_visit"),  # one half-life of 7 days old
        ("L1", T - 30 * DAY, "demo_request"),  # one half-life of 30 days old, high intent
    )
    r = row(make_leads({"lead_id": "L1"}), acts)
    assert r["eng_total_decay_7d"] == pytest.approx(0.5 + 2 ** (-30 / 7), rel=1e-9)
    assert r["eng_total_decay_30d"] == pytest.approx(2 ** (-7 / 30) + 0.5, rel=1e-9)
    assert r["eng_high_intent_decay_7d"] == pytest.approx(2 ** (-30 / 7), rel=1e-9)
    assert r["eng_high_intent_decay_30d"] == pytest.approx(0.5, rel=1e-9)


def test_days_since_last_first_and_last_high_intent() -> None:
    acts = make_activities(
        ("L1", T - 2.5 * DAY, "web_visit"),
        ("L1", T - 10 * DAY, "meeting"),
        ("L1", T - 40 * DAY, "email_reply"),
        ("L1", T - 60 * DAY, "email_open"),
        ("L1", T + 1 * DAY, "demo_request"),  # after T
    )
    r = row(make_leads({"lead_id": "L1"}), acts)
    assert r["eng_days_since_last"] == pytest.approx(2.5)
    assert r["eng_days_since_high_intent"] == pytest.approx(10.0)
    assert r["eng_days_since_first"] == pytest.approx(60.0)


def test_distinct_active_days_are_utc_calendar_days_within_90_days() -> None:
    d = pd.Timestamp("2026-06-05T00:00:00Z")
    acts = make_activities(
        ("L1", d + pd.Timedelta(hours=9), "web_visit"),
        ("L1", d + pd.Timedelta(hours=17), "email_open"),  # same UTC day as above
        ("L1", d - pd.Timedelta(minutes=30), "web_visit"),  # 23:30 the UTC day before
        ("L1", d + DAY + pd.Timedelta(minutes=30), "call"),  # 00:30 the UTC day after
        ("L1", T - 100 * DAY, "web_visit"),  # older than 90 days
    )
    assert row(make_leads({"lead_id": "L1"}), acts)["eng_active_days_90d"] == 3


def test_recent_prior_negative_counts_and_value_sum_ignoring_missing_values() -> None:
    acts = make_activities(
        ("L1", T - 1 * DAY, "web_visit", 3.0),
        ("L1", T - 14 * DAY, "web_visit", 2.0),  # age 14: recent (<= 14)
        ("L1", T - 20 * DAY, "webinar_attended", 45.0),  # prior: (14, 28]
        ("L1", T - 28 * DAY, "unsubscribe"),  # prior, negative
        ("L1", T - 29 * DAY, "email_bounce", float("nan")),  # neither, negative
    )
    r = row(make_leads({"lead_id": "L1"}), acts)
    assert r["eng_recent_count"] == 2
    assert r["eng_prior_count"] == 2
    assert r["eng_negative_count"] == 2
    assert r["eng_value_sum"] == pytest.approx(50.0)


def test_lead_without_activity_before_t_has_nan_days_since() -> None:
    acts = make_activities(("L2", T - DAY, "web_visit"), ("L1", T + DAY, "meeting"))
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), acts)
    for column in ("eng_days_since_last", "eng_days_since_high_intent", "eng_days_since_first"):
        assert math.isnan(r[column]), column


@pytest.mark.parametrize("activities", ["none at all", "only after T", "only other leads"])
def test_lead_without_activity_before_t_has_zero_counts(activities: str) -> None:
    rows = {
        "none at all": (),
        "only after T": (("L1", T, "meeting"), ("L1", T + DAY, "web_visit")),
        "only other leads": (("L2", T - DAY, "web_visit"),),
    }[activities]
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), make_activities(*rows))
    # every engagement aggregate is a count or a sum except the days-since ones
    zero = [c for c in r.index if c.startswith("eng_") and not c.startswith("eng_days_since")]
    # (13 types, other, total) x (count + 3 windows); (those 15 + high intent) x 2 decays; 5 more
    assert len(zero) == 15 * 4 + 16 * 2 + 5
    assert r[zero].to_dict() == dict.fromkeys(zero, 0.0)


def test_distinct_active_days_do_not_depend_on_the_machine_time_zone() -> None:
    script = textwrap.dedent(
        """
        import pandas as pd
        from pipelines.contracts import validate_table, SCHEMAS
        from pipelines.features.frame import build_feature_frame
        cols = list(SCHEMAS["leads"].to_schema().columns)
        leads = pd.DataFrame([{c: None for c in cols}])
        leads["lead_id"], leads["created_at"] = "L1", "2026-01-01T00:00:00Z"
        acts = pd.DataFrame({
            "lead_id": ["L1", "L1"],
            "occurred_at": ["2026-03-01T23:30:00Z", "2026-03-02T00:30:00Z"],
            "type": ["web_visit", "web_visit"],
            "value": [None, None],
        })
        snaps = pd.DataFrame({"lead_id": ["L1"], "snapshot_at": [pd.Timestamp("2026-03-10", tz="UTC")]})
        snaps["snapshot_at"] = snaps["snapshot_at"].astype("datetime64[us, UTC]")
        frame = build_feature_frame(
            validate_table("leads", leads), validate_table("activities", acts), None, snaps
        )
        print(int(frame["eng_active_days_90d"].iloc[0]))
        """
    )
    results = {}
    for tz in ("UTC", "America/New_York"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env={**os.environ, "TZ": tz},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:  # a crash is an error here, not a wrong answer
            raise RuntimeError(done.stderr[-2000:])
        results[tz] = int(done.stdout.strip().splitlines()[-1])
    assert results == {"UTC": 2, "America/New_York": 2}


# --- stage features -----------------------------------------------------------------------


def test_stage_at_t_days_in_stage_and_backward_moves() -> None:
    stages = make_stages(
        ("L1", "new", T - 60 * DAY),
        ("L1", "contacted", T - 50 * DAY),
        ("L1", "qualified", T - 40 * DAY),
        ("L1", "proposal", T - 20 * DAY),
        ("L1", "qualified", T - 5.5 * DAY),  # proposal -> qualified: one backward move
        ("L1", "demo", T),  # entered exactly at T: not known yet
        ("L1", "new", T + DAY),  # after T: a backward move that must not count
        ("L2", "negotiation", T - DAY),
    )
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), make_activities(), stages)
    assert r["stage_current"] == "qualified"
    assert r["stage_days_in_stage"] == pytest.approx(5.5)
    assert r["stage_backward_moves"] == 1
    assert r["stage_distinct_stages"] == 4


def test_forward_only_history_has_no_backward_moves() -> None:
    stages = make_stages(
        ("L1", "new", T - 30 * DAY),
        ("L1", "qualified", T - 20 * DAY),  # skipping a stage is not a backward move
        ("L1", "negotiation", T - 2 * DAY),
    )
    r = row(make_leads({"lead_id": "L1"}), make_activities(), stages)
    assert (r["stage_current"], r["stage_backward_moves"]) == ("negotiation", 0)
    assert r["stage_days_in_stage"] == pytest.approx(2.0)


def test_two_backward_moves_are_both_counted() -> None:
    stages = make_stages(
        ("L1", "new", T - 90 * DAY),
        ("L1", "negotiation", T - 60 * DAY),
        ("L1", "demo", T - 50 * DAY),  # back
        ("L1", "proposal", T - 40 * DAY),
        ("L1", "contacted", T - 30 * DAY),  # back
    )
    r = row(make_leads({"lead_id": "L1"}), make_activities(), stages)
    assert r["stage_backward_moves"] == 2
    assert r["stage_current"] == "contacted"


def test_lead_without_stage_rows_before_t_has_no_stage() -> None:
    stages = make_stages(("L1", "new", T + DAY), ("L2", "new", T - DAY))
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), make_activities(), stages)
    assert pd.isna(r["stage_current"])
    assert math.isnan(r["stage_days_in_stage"])


def test_missing_stage_history_table_gives_missing_stage_features() -> None:
    frame = features(make_leads({"lead_id": "L1"}), make_activities(), None)
    assert pd.isna(frame.loc["L1", "stage_current"])
    for column in ("stage_days_in_stage", "stage_backward_moves", "stage_distinct_stages"):
        assert frame[column].dtype == "float64"
        assert math.isnan(frame.loc["L1", column])


# --- lead attributes, PII ----------------------------------------------------------------

PII_LEAD = {
    "lead_id": "L1",
    "created_at": _iso(T - 12.25 * DAY),
    "email": "Ann.Secret@GMail.com ",
    "phone": "+1 555 0199 ext 7",
    "company": "Acme Inc.",
    "owner_id": "rep_07",
    "employees": 250,
    "annual_revenue": 3.5e7,
    "budget": 20_000.0,
    "is_decision_maker": True,
    "source": "referral",
    "industry": "software",
    "country": "DE",
    "job_title": "VP Sales",
    "need": "replace our legacy CRM",
    "purchase_timeframe": "1-3m",
    "converted_at": _iso(T + 5 * DAY),
    "deal_value": 12_345.0,
}


def test_attributes_are_passed_through_as_floats_and_strings() -> None:
    r = row(make_leads(PII_LEAD), make_activities())
    assert r["lead_age_days"] == pytest.approx(12.25)
    assert (r["employees"], r["annual_revenue"], r["budget"]) == (250.0, 3.5e7, 20_000.0)
    assert r["is_decision_maker"] == 1.0
    assert (r["source"], r["industry"], r["country"]) == ("referral", "software", "DE")
    assert (r["job_title"], r["need"], r["purchase_timeframe"]) == (
        "VP Sales",
        "replace our legacy CRM",
        "1-3m",
    )


def test_no_output_column_carries_email_phone_or_outcomes() -> None:
    leads = make_leads(PII_LEAD, {"lead_id": "L2", "email": "bob@acme.io", "phone": "0049 30 1234"})
    frame = build_feature_frame(leads, make_activities(), make_stages(), snapshots_at("L1", "L2"))
    assert not {"email", "phone", "converted_at", "lost_at", "deal_value"} & set(frame.columns)
    secrets = ["ann.secret", "gmail", "+1 555 0199", "0199", "bob@", "acme.io", "1234"]
    for column in frame.columns:
        cells = frame[column].astype("object").map(lambda v: str(v).lower())
        for secret in secrets:
            assert not cells.str.contains(secret, regex=False).any(), (column, secret)
    assert 12_345.0 not in frame.select_dtypes("number").to_numpy()


def test_email_and_phone_become_present_and_free_mail_flags() -> None:
    leads = make_leads(
        {"lead_id": "L1", "email": "Ann@GMail.com", "phone": "+44 20 7946 0000"},
        {"lead_id": "L2", "email": "bob@acme.io"},
        {"lead_id": "L3", "email": "cy@Outlook.COM "},
        {"lead_id": "L4"},
        {"lead_id": "L5", "email": "dee@gmail.com.acme.io"},  # a corporate domain
    )
    frame = lead_attributes(leads, FeaturesConfig()).set_index("lead_id")
    assert frame["email_present"].to_dict() == {
        "L1": 1.0,
        "L2": 1.0,
        "L3": 1.0,
        "L4": 0.0,
        "L5": 1.0,
    }
    assert frame["phone_present"].to_dict() == {
        "L1": 1.0,
        "L2": 0.0,
        "L3": 0.0,
        "L4": 0.0,
        "L5": 0.0,
    }
    free = frame["email_free_mail"]
    assert free[["L1", "L2", "L3", "L5"]].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert math.isnan(free["L4"])  # no e-mail: unknown, not "corporate"


def test_free_mail_domains_come_from_config() -> None:
    leads = make_leads({"lead_id": "L1", "email": "a@example.org"})
    cfg = FeaturesConfig(free_mail_domains=("example.org",))
    assert lead_attributes(leads, cfg)["email_free_mail"].tolist() == [1.0]


# --- frame shape and purity --------------------------------------------------------------


def test_one_row_per_snapshot_in_snapshot_order_with_extra_columns_kept() -> None:
    leads = make_leads({"lead_id": "L1"}, {"lead_id": "L2"})
    acts = make_activities(("L1", T - 3 * DAY, "web_visit"), ("L1", T - 1 * DAY, "web_visit"))
    later = T + 2 * DAY
    snaps = pd.DataFrame(
        {
            "lead_id": pd.array(["L2", "L1", "L1"], dtype="str"),
            "snapshot_at": pd.Series([T, later, T - 2 * DAY]).astype("datetime64[us, UTC]"),
            "label": np.array([0, 1, 0], dtype="int8"),
        }
    )
    frame = build_feature_frame(leads, acts, None, snaps)
    assert list(frame.columns[:3]) == ["lead_id", "snapshot_at", "label"]
    pd.testing.assert_frame_equal(frame[list(snaps.columns)], snaps)
    assert frame["eng_total_count"].tolist()[1:] == [2.0, 1.0]  # same lead, two times T
    assert frame["lead_age_days"].tolist() == pytest.approx([100.0, 102.0, 98.0])
    assert feature_columns(frame)[0] == "lead_age_days"
    assert not set(KEY_COLUMNS) & set(feature_columns(frame)) and "label" not in feature_columns(
        frame
    )
    numeric = [
        c
        for c in feature_columns(frame)
        if c.startswith(("eng_", "stage_")) and c != "stage_current"
    ]
    assert (frame[numeric].dtypes == "float64").all()
    assert set(model_input(frame).columns) == set(feature_columns(frame))


def test_nanosecond_snapshot_column_on_whole_microseconds_is_fine() -> None:
    snaps = snapshots_at("L1").astype({"snapshot_at": "datetime64[ns, UTC]"})
    frame = build_feature_frame(
        make_leads({"lead_id": "L1"}), make_activities(("L1", T - DAY, "call")), None, snaps
    )
    assert frame["eng_total_count"].tolist() == [1.0]


def test_sub_microsecond_snapshot_time_still_gets_its_features() -> None:
    at = pd.Timestamp("2026-06-10T12:00:00.000000500Z")
    snaps = pd.DataFrame({"lead_id": pd.array(["L1"], dtype="str"), "snapshot_at": [at]})
    leads = make_leads({"lead_id": "L1"})
    stages = make_stages(("L1", "new", T - 2 * DAY))
    frame = build_feature_frame(leads, make_activities(("L1", T - DAY, "call")), stages, snaps)
    assert frame["snapshot_at"].dtype == "datetime64[ns, UTC]"  # the caller's value is kept
    assert frame["eng_total_count"].tolist() == [1.0]
    assert frame["stage_current"].tolist() == ["new"]


def test_inputs_are_not_mutated() -> None:
    leads = make_leads(PII_LEAD, {"lead_id": "L2"})
    acts = make_activities(("L1", T - DAY, "web_visit", 1.0), ("L2", T + DAY, "call"))
    stages = make_stages(("L1", "new", T - 9 * DAY))
    snaps = snapshots_at("L1", "L2")
    before = [t.copy(deep=True) for t in (leads, acts, stages, snaps)]
    build_feature_frame(leads, acts, stages, snaps)
    for original, after in zip(before, (leads, acts, stages, snaps), strict=True):
        pd.testing.assert_frame_equal(original, after)


def test_engagement_column_list_matches_the_frame() -> None:
    frame = features(make_leads({"lead_id": "L1"}), make_activities(("L1", T - DAY, "call")))
    names = engagement_feature_names(FeaturesConfig().engagement)
    assert [c for c in frame.columns if c.startswith("eng_")] == names


def test_blank_or_malformed_email_is_not_an_address() -> None:
    leads = make_leads(
        {"lead_id": "L1", "email": "ann@gmail.com"},
        {"lead_id": "L2", "email": "   "},
        {"lead_id": "L3", "email": "gmail.com"},
        {"lead_id": "L4", "email": "bob@acme.io"},
    )
    frame = features(leads, make_activities())
    assert frame["email_present"].to_dict() == {"L1": 1.0, "L2": 0.0, "L3": 0.0, "L4": 1.0}
    assert frame.loc["L1", "email_free_mail"] == 1.0 and frame.loc["L4", "email_free_mail"] == 0.0
    assert math.isnan(frame.loc["L2", "email_free_mail"]) and math.isnan(
        frame.loc["L3", "email_free_mail"]
    )


def test_tied_stage_times_are_ordered_by_funnel_position() -> None:
    stages = make_stages(
        ("L1", "new", T - 20 * DAY),
        ("L1", "proposal", T - 10 * DAY),
        ("L1", "qualified", T - 10 * DAY),
    )
    r = row(make_leads({"lead_id": "L1"}), make_activities(), stages)
    # Same instant: qualified then proposal (funnel order), so proposal is current, no move back.
    assert r["stage_current"] == "proposal" and r["stage_backward_moves"] == 0.0


def test_lead_without_stage_rows_has_zero_moves_and_no_stage() -> None:
    stages = make_stages(("L2", "new", T - 20 * DAY))
    r = row(make_leads({"lead_id": "L1"}, {"lead_id": "L2"}), make_activities(), stages)
    assert r["stage_current"] is None or pd.isna(r["stage_current"])
    assert r["stage_backward_moves"] == 0.0 and math.isnan(r["stage_days_in_stage"])
