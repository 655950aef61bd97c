"""The contract's ``leads`` frame and the ``latent`` frame, from the generator's arrays.

Gaps are drawn per field with a rate that depends on how the lead was captured
(``SOURCE_MISSING``). ``fill_on_close`` plants a leak seen in real exports: the CRM fills
some account fields when a deal closes, so every closed lead has them while only
``FILL_OPEN_SHARE`` of the open ones do (those an enrichment job happened to reach).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from pipelines.synthetic.process import STATES, Paths
from pipelines.synthetic.vocabulary import (
    COUNTRIES,
    FIELD_GROUPS,
    INDUSTRIES,
    MISSING,
    SOURCE_MISSING,
    SOURCES,
    TIMEFRAMES,
)

NAT = np.iinfo(np.int64).min  # int64 view of NaT
MISSING_BUDGET = 0.15  # a stated budget that nobody typed in
FILL_OPEN_SHARE = 1 / 3
FIELDS = {  # leads column: key of the field's gap rate in MISSING
    "source": "source", "owner_id": "owner", "company": "company", "industry": "industry",
    "employees": "employees", "annual_revenue": "annual_revenue", "country": "country",
    "job_title": "title", "email": "email", "phone": "phone", "budget": "budget",
    "purchase_timeframe": "timeframe", "need": "need", "is_decision_maker": "decision_maker",
}  # fmt: skip


def as_str(values: np.ndarray, missing: np.ndarray | None = None) -> ExtensionArray:
    """A pandas ``str`` array, with None where ``missing``."""
    out = values.astype(object)
    if missing is not None:
        out[missing] = None
    return pd.array(out, dtype="str")


def as_utc(us: np.ndarray) -> pd.DatetimeIndex:
    """µs since the epoch as UTC timestamps (``NAT`` becomes NaT)."""
    return pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC")


def lead_ids(first: int, n: int) -> ExtensionArray:
    """Ids ``L0000001``... for leads ``first + 1`` to ``first + n``."""
    return as_str(
        np.char.add("L", np.char.zfill(np.arange(first + 1, first + n + 1).astype(str), 7))
    )


def draw_gaps(
    rng: np.random.Generator, lead: dict[str, np.ndarray], closed: np.ndarray,
    fill_on_close: Sequence[str],
) -> dict[str, np.ndarray]:  # fmt: skip
    """Per leads column, where the field is empty in the export."""
    n = len(closed)
    factor = np.array(list(SOURCE_MISSING.values()))[lead["source"]]
    group_of = {key: g for g, keys in enumerate(FIELD_GROUPS.values()) for key in keys}
    gaps = {}
    for name, key in FIELDS.items():
        rate = MISSING_BUDGET if key == "budget" else MISSING[key]
        group = group_of.get(key, 2 if key == "budget" else None)
        p = rate * (factor[:, group] if group is not None else 1.0)
        gaps[name] = rng.random(n) < np.minimum(p, 0.97)
    gaps["annual_revenue"] |= gaps["employees"]  # enrichment tends to return both or neither
    gaps["budget"] |= ~lead["has_budget"]
    for name in fill_on_close:
        gaps[name] = ~closed & (rng.random(n) >= FILL_OPEN_SHARE)
    return gaps


def leads_frame(
    lead: dict[str, np.ndarray], ids: ExtensionArray, gaps: dict[str, np.ndarray], end_us: int
) -> pd.DataFrame:
    """The leads table: attributes with their gaps, outcomes censored at ``end_us``."""

    def named(table: dict, key: str, column: str) -> ExtensionArray:
        return as_str(np.array(list(table), dtype=object)[lead[key]], gaps[column])

    converted, lost = lead["won_at"] < end_us, lead["lost_at"] < end_us
    owners = np.char.add("rep_", np.char.zfill(lead["owner"].astype(str), 2))
    return pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": as_utc(lead["created"]),
            "source": named(SOURCES, "source", "source"),
            "owner_id": as_str(owners, gaps["owner_id"]),
            "company": as_str(lead["company"], gaps["company"]),
            "industry": named(INDUSTRIES, "industry", "industry"),
            "employees": pd.arrays.IntegerArray(
                lead["employees"].astype(np.int64), gaps["employees"]
            ),
            "annual_revenue": np.where(gaps["annual_revenue"], np.nan, lead["revenue"]),
            "country": named(COUNTRIES, "country", "country"),
            "job_title": as_str(lead["title"], gaps["job_title"]),
            "email": as_str(lead["email"], gaps["email"]),
            "phone": as_str(lead["phone"], gaps["phone"]),
            "budget": np.where(gaps["budget"], np.nan, lead["budget"]),
            "purchase_timeframe": as_str(TIMEFRAMES[lead["timeframe"]], gaps["purchase_timeframe"]),
            "need": as_str(lead["need"], gaps["need"]),
            "is_decision_maker": pd.arrays.BooleanArray(
                lead["declared_dm"], gaps["is_decision_maker"]
            ),
            "converted_at": as_utc(np.where(converted, lead["won_at"], NAT)),
            "lost_at": as_utc(np.where(lost, lead["lost_at"], NAT)),
            "deal_value": np.where(converted, lead["deal"], np.nan),
        }
    )


def latent_frame(
    paths: Paths, ids: ExtensionArray, before: np.ndarray, after: np.ndarray, shift_us: int | None
) -> pd.DataFrame:
    """One row per state entered: what the oracle needs (never a feature).

    Columns: lead_id, state (cold, warming, hot, dormant, won, lost), entered_at,
    propensity (``q``), propensity_after_shift (``q`` from ``shift_at`` on) and shift_at
    (NaT without a period shift).
    """
    shift = np.full(len(paths.lead), NAT if shift_us is None else shift_us)
    return pd.DataFrame(
        {
            "lead_id": ids.take(paths.lead),
            "state": as_str(np.array(STATES, dtype=object)).take(paths.state),
            "entered_at": as_utc(paths.entered),
            "propensity": before[paths.lead],
            "propensity_after_shift": after[paths.lead],
            "shift_at": as_utc(shift),
        }
    )
