"""The one-pass snapshots (one range join of leads × dates) equal one evaluation per date."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.features.snapshots import build_snapshots, cap_per_lead, open_at, snapshot_dates
from pipelines.timestamps import utc


def per_date_snapshots(
    leads: pd.DataFrame, dates: list[pd.Timestamp], horizon_days: int = 90
) -> pd.DataFrame:
    """The path build_snapshots took before: the open rule evaluated once per date."""
    horizon = pd.Timedelta(days=horizon_days)
    parts = []
    for at in map(utc, dates):
        members = leads.loc[open_at(leads, at), ["lead_id", "converted_at"]]
        converted = members["converted_at"]
        label = converted.notna() & (converted > at) & (converted <= at + horizon)
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": members["lead_id"].to_numpy(),
                    "snapshot_at": at,
                    "label": label.to_numpy().astype("int8"),
                }
            )
        )
    snapshots = pd.concat(parts, ignore_index=True)
    snapshots["snapshot_at"] = snapshots["snapshot_at"].astype("datetime64[us, UTC]")
    return snapshots.sort_values(["snapshot_at", "lead_id"], ignore_index=True)


@pytest.mark.parametrize("cadence", ["weekly", "monthly"])
def test_one_pass_equals_one_scan_per_date(small_crm: dict, cadence: str) -> None:
    leads = small_crm["leads"]
    start = leads["created_at"].min() + pd.Timedelta(days=20)
    end = leads["created_at"].max() + pd.Timedelta(days=30)
    dates = snapshot_dates(start, end, cadence)
    # Off-midnight times too: a microsecond after a date, and one between two microseconds.
    dates += [dates[3] + pd.Timedelta(microseconds=1), dates[5] + pd.Timedelta(nanoseconds=500)]
    expected = per_date_snapshots(leads, dates, 60)
    found = build_snapshots(leads, dates, 60)
    assert len(expected) > 10_000 and expected["label"].sum() > 100
    pd.testing.assert_frame_equal(found, expected)
    pd.testing.assert_frame_equal(
        build_snapshots(leads, dates, 60, max_per_lead=3, seed=4),
        cap_per_lead(expected, 3, 4),
    )
