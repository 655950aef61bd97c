"""Snapshot membership, labels, snapshot calendars and the per-lead cap.

Membership at T: ``created_at < T`` and no outcome (converted_at, lost_at) strictly before
T. Label: ``converted_at`` in (T, T + horizon]. An outcome exactly at T therefore leaves the
lead in the snapshot at T, and a conversion exactly at T has label 0 at T (it is the label-1
event of earlier snapshots instead).
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.contracts import SCHEMAS, validate_table
from pipelines.features.snapshots import build_snapshots, cap_per_lead, open_at, snapshot_dates
from pipelines.synthetic import generate_crm

T = pd.Timestamp("2026-06-10T12:00:00Z")
DAY = pd.Timedelta(days=1)
US = pd.Timedelta(microseconds=1)
LEAD_COLUMNS = list(SCHEMAS["leads"].to_schema().columns)


def make_leads(rows: dict[str, dict]) -> pd.DataFrame:
    """``{lead_id: {column: value}}`` -> a contract leads table; created 10 days before T."""
    records = []
    for lead_id, values in rows.items():
        full = {"lead_id": lead_id, "created_at": T - 10 * DAY, **values}
        records.append({c: full.get(c) for c in LEAD_COLUMNS})
    frame = pd.DataFrame(records, columns=LEAD_COLUMNS)
    for column in ("created_at", "converted_at", "lost_at"):
        frame[column] = [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in frame[column]]
    return validate_table("leads", frame)


# lead_id: (row, in the snapshot at T, label at T with a 90-day horizon)
CASES = {
    "open": ({}, True, 0),
    "created_1us_before": ({"created_at": T - US}, True, 0),
    "created_at_T": ({"created_at": T}, False, None),
    "created_after_T": ({"created_at": T + DAY}, False, None),
    "converted_before_T": ({"converted_at": T - US}, False, None),
    "lost_before_T": ({"lost_at": T - DAY}, False, None),
    "converted_at_T": ({"converted_at": T}, True, 0),
    "lost_at_T": ({"lost_at": T}, True, 0),
    "converted_1us_after_T": ({"converted_at": T + US}, True, 1),
    "converted_at_horizon": ({"converted_at": T + 90 * DAY}, True, 1),
    "converted_after_horizon": ({"converted_at": T + 90 * DAY + US}, True, 0),
    "lost_after_T": ({"lost_at": T + DAY}, True, 0),
    "lost_then_converted": ({"lost_at": T + DAY, "converted_at": T + 5 * DAY}, True, 1),
    "converted_before_lost_after": ({"converted_at": T - DAY, "lost_at": T + DAY}, False, None),
}


@pytest.fixture(scope="module")
def case_leads() -> pd.DataFrame:
    return make_leads({lead_id: row for lead_id, (row, _, _) in CASES.items()})


def test_membership_at_t(case_leads: pd.DataFrame) -> None:
    snaps = build_snapshots(case_leads, [T])
    expected = sorted(lead_id for lead_id, (_, member, _) in CASES.items() if member)
    assert snaps["lead_id"].tolist() == expected
    mask = open_at(case_leads, T)
    assert dict(zip(case_leads["lead_id"], mask, strict=True)) == {
        lead_id: member for lead_id, (_, member, _) in CASES.items()
    }


def test_labels_are_conversion_in_t_to_t_plus_horizon(case_leads: pd.DataFrame) -> None:
    snaps = build_snapshots(case_leads, [T], horizon_days=90)
    expected = {lead_id: label for lead_id, (_, member, label) in CASES.items() if member}
    assert dict(zip(snaps["lead_id"], snaps["label"].tolist(), strict=True)) == expected


def test_outcome_exactly_at_t_keeps_the_lead_in_with_label_zero(case_leads: pd.DataFrame) -> None:
    """Documents the boundary: no outcome *strictly* before T, and (T, T+h] excludes T."""
    snaps = build_snapshots(case_leads, [T - 7 * DAY, T, T + US]).set_index(
        ["lead_id", "snapshot_at"]
    )
    t_us = T.as_unit("us")
    assert snaps.loc[("converted_at_T", t_us), "label"] == 0
    assert snaps.loc[("converted_at_T", t_us - 7 * DAY), "label"] == 1  # the week before sees it
    assert snaps.loc[("lost_at_T", t_us), "label"] == 0
    later = snaps.xs(t_us + US, level="snapshot_at").index
    assert "converted_at_T" not in later and "lost_at_T" not in later


def test_horizon_changes_labels_not_membership(case_leads: pd.DataFrame) -> None:
    short = build_snapshots(case_leads, [T], horizon_days=3)
    long = build_snapshots(case_leads, [T], horizon_days=90)
    assert short["lead_id"].tolist() == long["lead_id"].tolist()
    labelled = set(short.loc[short["label"] == 1, "lead_id"])
    assert labelled == {"converted_1us_after_T"}  # converted_at T+5d and T+90d fall outside


def test_several_dates_sorted_by_time_then_lead_with_contract_dtypes() -> None:
    leads = make_leads(
        {
            "B": {"created_at": T - 20 * DAY, "converted_at": T + 3 * DAY},
            "A": {"created_at": T - 20 * DAY},
            "C": {"created_at": T - 2 * DAY, "lost_at": T + 10 * DAY},
        }
    )
    dates = [T + 7 * DAY, T - 7 * DAY, T]  # not sorted on purpose
    snaps = build_snapshots(leads, dates, horizon_days=5)
    got = [(r.lead_id, r.snapshot_at, r.label) for r in snaps.itertuples()]
    assert got == [
        ("A", T - 7 * DAY, 0),
        ("B", T - 7 * DAY, 0),  # converts 10 days later: outside a 5-day horizon
        ("A", T, 0),
        ("B", T, 1),
        ("C", T, 0),
        ("A", T + 7 * DAY, 0),
        ("C", T + 7 * DAY, 0),
    ]
    assert snaps["snapshot_at"].dtype == "datetime64[us, UTC]"
    assert snaps["label"].dtype == "int8"
    assert snaps.index.equals(pd.RangeIndex(len(snaps)))


def test_naive_and_string_dates_are_read_as_utc() -> None:
    leads = make_leads({"A": {"created_at": T - DAY}})
    naive = build_snapshots(leads, [pd.Timestamp("2026-06-12 08:00"), "2026-06-13T08:00:00"])
    assert naive["snapshot_at"].tolist() == [
        pd.Timestamp("2026-06-12 08:00", tz="UTC"),
        pd.Timestamp("2026-06-13 08:00", tz="UTC"),
    ]
    other_zone = build_snapshots(leads, [pd.Timestamp("2026-06-12 10:00", tz="Europe/Berlin")])
    assert other_zone["snapshot_at"].tolist() == [pd.Timestamp("2026-06-12 08:00", tz="UTC")]


def test_no_dates_or_no_members_give_an_empty_typed_frame() -> None:
    leads = make_leads({"A": {"created_at": T}})
    for snaps in (build_snapshots(leads, []), build_snapshots(leads, [T - DAY])):
        assert snaps.empty
        assert list(snaps.columns) == ["lead_id", "snapshot_at", "label"]
        assert snaps["snapshot_at"].dtype == "datetime64[us, UTC]"
        assert snaps["label"].dtype == "int8"


# --- calendars ----------------------------------------------------------------------------


def test_weekly_dates_are_mondays_at_midnight_utc_with_inclusive_ends() -> None:
    dates = snapshot_dates(pd.Timestamp("2026-03-04"), pd.Timestamp("2026-03-30"), "weekly")
    assert dates == [pd.Timestamp(f"2026-03-{d:02d}", tz="UTC") for d in (9, 16, 23, 30)]
    assert all(d.day_of_week == 0 for d in dates)
    inclusive = snapshot_dates(pd.Timestamp("2026-03-09"), pd.Timestamp("2026-03-16 18:00"))
    assert inclusive == [pd.Timestamp("2026-03-09", tz="UTC"), pd.Timestamp("2026-03-16", tz="UTC")]


def test_monthly_dates_are_firsts_of_the_month() -> None:
    dates = snapshot_dates(pd.Timestamp("2025-11-15"), pd.Timestamp("2026-03-01"), "monthly")
    assert dates == [
        pd.Timestamp(s, tz="UTC") for s in ("2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01")
    ]


def test_dates_in_another_zone_are_converted_to_utc_before_normalising() -> None:
    # Monday 00:30 in Berlin is Sunday 22:30 UTC: the first Monday (UTC) is that same Monday.
    start = pd.Timestamp("2026-03-09 00:30", tz="Europe/Berlin")
    dates = snapshot_dates(start, pd.Timestamp("2026-03-17", tz="UTC"))
    assert dates == [pd.Timestamp("2026-03-09", tz="UTC"), pd.Timestamp("2026-03-16", tz="UTC")]
    assert all(str(d.tz) == "UTC" for d in dates)


# --- the per-lead cap --------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly_snapshots() -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    leads = generate_crm(200, seed=5)["leads"]
    dates = snapshot_dates(pd.Timestamp("2025-06-01"), pd.Timestamp("2026-10-01"))
    return leads, dates


def test_cap_per_lead_keeps_at_most_k_rows_of_each_lead(weekly_snapshots) -> None:
    leads, dates = weekly_snapshots
    full = build_snapshots(leads, dates)
    per_lead = full.groupby("lead_id").size()
    assert per_lead.max() > 3 and per_lead.min() < 3  # the cap bites for some, not all
    capped = cap_per_lead(full, 3, seed=1)
    counts = capped.groupby("lead_id").size()
    assert (counts == per_lead.clip(upper=3)).all()  # short histories are kept whole
    # a subset of the original rows, labels untouched, sorted like build_snapshots
    keyed = full.set_index(["lead_id", "snapshot_at"])["label"]
    assert (
        capped.set_index(["lead_id", "snapshot_at"])["label"]
        == keyed.loc[list(zip(capped["lead_id"], capped["snapshot_at"], strict=True))].to_numpy()
    ).all()
    assert capped.equals(capped.sort_values(["snapshot_at", "lead_id"], ignore_index=True))
    assert not capped.duplicated(["lead_id", "snapshot_at"]).any()


def test_cap_per_lead_is_seeded(weekly_snapshots) -> None:
    leads, dates = weekly_snapshots
    full = build_snapshots(leads, dates)
    pd.testing.assert_frame_equal(cap_per_lead(full, 2, seed=4), cap_per_lead(full, 2, seed=4))
    assert not cap_per_lead(full, 2, seed=4).equals(cap_per_lead(full, 2, seed=5))
    assert cap_per_lead(full, 0).empty


def test_build_snapshots_max_per_lead_applies_the_cap(weekly_snapshots) -> None:
    leads, dates = weekly_snapshots
    full = build_snapshots(leads, dates)
    capped = build_snapshots(leads, dates, max_per_lead=2, seed=3)
    assert (capped.groupby("lead_id").size() == full.groupby("lead_id").size().clip(upper=2)).all()
    merged = capped.merge(full, on=["lead_id", "snapshot_at"], how="left", suffixes=("", "_full"))
    assert (merged["label"] == merged["label_full"]).all()
    pd.testing.assert_frame_equal(capped, build_snapshots(leads, dates, max_per_lead=2, seed=3))


def test_capped_sample_does_not_depend_on_input_row_order(weekly_snapshots) -> None:
    leads, dates = weekly_snapshots
    reference = build_snapshots(leads, dates, max_per_lead=2, seed=1)
    shuffled = leads.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(
        build_snapshots(shuffled, dates, max_per_lead=2, seed=1), reference
    )
    pd.testing.assert_frame_equal(
        build_snapshots(leads, dates[::-1], max_per_lead=2, seed=1), reference
    )
