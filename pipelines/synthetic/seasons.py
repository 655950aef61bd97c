"""The calendar of the synthetic CRM: weekdays, seasons and business hours.

Time runs on whole UTC days (``day`` = days since 1970-01-01): a lead's latent state is
constant over a UTC day, and every rate of the state process and of the activities is a
per-lead constant times a *curve*, a multiplier of the calendar day. The curves are pure
functions of the day, so the oracle recomputes exactly what the simulation used.

Mechanisms (each a documented habit of B2B buying, not a fit to any data):

* **Weekdays**: deals are signed and leads closed out by people at work: closing and
  dropping run at about a tenth of their weekday rate on weekends; sales activities (calls,
  meetings) nearly stop; marketing e-mail is sent on weekdays; web visits halve.
* **Quarter-end buying**: in the last three weeks of a calendar quarter, sales push and
  buyers spend budget: hot leads close 1.7 times faster.
* **Lulls**: August and the turn of the year (20 Dec - 2 Jan) slow everything: intent
  forms more slowly, deals close more slowly, fewer leads are created and less happens.
* **New budgets**: January and February open new budgets: intent forms 1.2 times faster.
* **Business hours**: activities and lead creation follow hours of the day in the lead's
  local time zone (a fixed offset per lead, no daylight saving), wrapped into the UTC day
  whose state emitted them, so no event leaves its day (the oracle's exactness needs it).
  The weekday is the UTC day's: in far zones it is a day off for a few hours.
"""

from __future__ import annotations

import numpy as np

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
WEEKDAY_SHARE = {  # Saturday, Sunday as a share of a weekday, per kind of curve
    "closing": (0.12, 0.08),
    "dropping": (0.15, 0.10),
    "email": (0.25, 0.25),
    "web": (0.55, 0.50),
    "sales": (0.04, 0.03),
    "creation": (0.30, 0.25),
}
QUARTER_END_DAYS, QUARTER_END_BOOST = 21, 1.7
AUGUST_LULL, YEAR_END_LULL, NEW_BUDGET = 0.7, 0.45, 1.2
# fmt: off
TIME_OF_DAY = {  # weight of each local hour 0..23
    "business": (0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.3, 0.8, 1.0, 1.0, 1.0,
                 0.6, 0.9, 1.0, 1.0, 0.9, 0.6, 0.3, 0.15, 0.1, 0.05, 0.02, 0.01),
    "email":    (0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.3, 0.8, 1.2, 1.1, 0.8, 0.8,
                 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.6, 0.3, 0.1),
    "web":      (0.05, 0.03, 0.03, 0.03, 0.03, 0.05, 0.2, 0.5, 0.8, 0.9, 0.9, 0.9,
                 0.8, 0.9, 0.9, 0.9, 0.9, 0.8, 0.7, 0.7, 0.7, 0.6, 0.4, 0.2),
}
# fmt: on
CURVES = ("flat", "buying", "closing", "dropping", "email", "web", "sales", "creation")


def weekday(days: np.ndarray) -> np.ndarray:
    """Day of the week, Monday 0 to Sunday 6 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _month_and_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    return month, (dates - months).astype(np.int64) + 1


def _weekend(days: np.ndarray, kind: str) -> np.ndarray:
    saturday, sunday = WEEKDAY_SHARE[kind]
    wd = weekday(days)
    return np.where(wd == 5, saturday, np.where(wd == 6, sunday, 1.0))


def calendar_curves(days: np.ndarray) -> dict[str, np.ndarray]:
    """Every curve's multiplier on each of ``days`` (int64 days since the epoch)."""
    days = np.asarray(days, dtype=np.int64)
    month, mday = _month_and_day(days)
    year_end = ((month == 12) & (mday >= 20)) | ((month == 1) & (mday <= 2))
    lull = np.where(month == 8, AUGUST_LULL, np.where(year_end, YEAR_END_LULL, 1.0))
    days_in_month = np.where(np.isin(month, [6, 9]), 30, 31)
    quarter_end = np.isin(month, [3, 6, 9, 12]) & (mday > days_in_month - QUARTER_END_DAYS)
    budget = np.where((month <= 2) & ~year_end, NEW_BUDGET, 1.0)
    curves = {
        "flat": np.ones(len(days)),
        "buying": lull * budget,
        "closing": _weekend(days, "closing") * np.where(quarter_end, QUARTER_END_BOOST, 1) * lull,
        "dropping": _weekend(days, "dropping"),
    }
    for kind in ("email", "web", "sales", "creation"):
        curves[kind] = _weekend(days, kind) * lull
    return curves


class Calendar:
    """The curves over a span of days, with their cumulative sums for sampling days."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first = int(first_day)
        self.days = np.arange(first_day, last_day + 1, dtype=np.int64)
        self.curves = calendar_curves(self.days)
        self.cumulative = {
            name: np.r_[0.0, np.cumsum(values)] for name, values in self.curves.items()
        }

    def at(self, curve: str, days: np.ndarray) -> np.ndarray:
        """The curve's multiplier on each of ``days``."""
        return self.curves[curve][days - self.first]

    def weight(self, curve: str, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """The sum of the curve over the days ``first..last`` (inclusive)."""
        cum = self.cumulative[curve]
        return cum[last - self.first + 1] - cum[first - self.first]

    def draw_days(
        self, rng: np.random.Generator, curve: str, first: np.ndarray, last: np.ndarray
    ) -> np.ndarray:
        """One day per row in ``first..last``, drawn with probability proportional to the curve."""
        cum = self.cumulative[curve]
        low, high = cum[first - self.first], cum[last - self.first + 1]
        target = low + rng.random(len(first)) * (high - low)
        index = np.searchsorted(cum, target, side="right") - 1
        return np.clip(index + self.first, first, last)


def draw_time_of_day(
    rng: np.random.Generator, offset_hours: np.ndarray, profile: str
) -> np.ndarray:
    """Microseconds after UTC midnight of local times drawn from an hour-of-day profile.

    The local time is wrapped into the same UTC day, so the event stays in its day.
    """
    weights = np.asarray(TIME_OF_DAY[profile])
    cumulative = np.cumsum(weights) / weights.sum()
    hour = np.searchsorted(cumulative, rng.random(len(offset_hours)), side="right")
    local = hour * HOUR_US + (rng.random(len(offset_hours)) * HOUR_US).astype(np.int64)
    return (local - (offset_hours * HOUR_US).astype(np.int64)) % DAY_US
