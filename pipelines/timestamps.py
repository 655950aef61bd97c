"""Times in UTC: the contract reads a naive timestamp as UTC, everywhere, in one place."""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def utc(value: pd.Timestamp | datetime | str) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a naive one is read as UTC, a zoned one converted."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_times(values: pd.Series) -> pd.Series:
    """A datetime column as ``datetime64[us, UTC]``; naive values are read as UTC."""
    times = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    return times.astype("datetime64[us, UTC]")
