"""Leaks through what is filled in: fields a CRM fills when a lead closes.

A lead's attributes are taken as known from ``created_at`` on (the data contract). Many
CRMs break that quietly: account data, a product or a region is filled in when the deal
is won or lost, so at the export every closed lead has it and most open leads do not. No
single feature then predicts the label well enough for the AUC check, yet "filled" all but
says "closed" — the model learns the CRM's paperwork, not the buyer.

:func:`fill_rate_report` compares, per column, how often it is filled for converted, lost
and still-open leads (or, for a flat table, for positive and negative rows) and flags a
column that is filled for (almost) every lead with the outcome and much less often for the
others: ``fill_outcome`` ≥ ``outcome_min`` and ``fill_outcome - fill_other`` ≥ ``gap``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Attribute columns of ``leads`` and the feature family each feeds. Outcome columns and ids
# are never features, so they are never checked.
FAMILY_OF_COLUMN = {
    "source": "fit",
    "owner_id": "-",
    "company": "-",
    "industry": "fit",
    "employees": "fit",
    "annual_revenue": "fit",
    "country": "fit",
    "job_title": "authority",
    "email": "fit",
    "phone": "fit",
    "budget": "budget",
    "purchase_timeframe": "timing",
    "need": "need",
    "is_decision_maker": "authority",
}
REPORT_COLUMNS = ("column", "family", "outcome", "fill_outcome", "fill_other", "gap", "action")


def _filled(values: pd.Series) -> np.ndarray:
    """Present and not blank text."""
    present = values.notna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("object").where(values.notna(), "").astype(str).str.strip()
        present &= (text != "").to_numpy()
    return present


def _row(column: str, family: str, outcome: str, filled: np.ndarray, mask: np.ndarray) -> dict:
    inside = float(filled[mask].mean()) if mask.any() else float("nan")
    outside = float(filled[~mask].mean()) if (~mask).any() else float("nan")
    return {
        "column": column,
        "family": family,
        "outcome": outcome,
        "fill_outcome": inside,
        "fill_other": outside,
        "gap": inside - outside,
    }


def _flag(rows: list[dict], outcome_min: float, gap: float, warn_gap: float) -> pd.DataFrame:
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS[:-1])
    leak = (report["fill_outcome"] >= outcome_min) & (report["gap"] >= gap)
    check = (report["gap"] >= warn_gap) & ~leak
    report["action"] = np.select([leak, check], ["drop", "check"], default="ok")
    return report.sort_values("gap", ascending=False, ignore_index=True)


def fill_rate_report(
    leads: pd.DataFrame,
    outcome_min: float = 0.9,
    gap: float = 0.3,
    warn_gap: float = 0.15,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Fill rates of the leads' attribute columns by outcome at the export.

    Two outcomes are compared with the rest: ``closed`` (converted or lost: a field filled
    when a deal closes) and ``converted`` (a field filled only for won deals).

    Args:
        leads: the contract ``leads`` table (as of the data's end).
        outcome_min, gap: a column is flagged ``drop`` when filled for at least
            ``outcome_min`` of the leads with the outcome and ``gap`` more often than for
            the others; ``check`` when the gap reaches ``warn_gap``.
        columns: column → feature family (default :data:`FAMILY_OF_COLUMN`, plus any
            ``attr_`` columns as family ``attributes``).

    Returns:
        One row per (column, outcome): fill rates, the gap and the action, largest first.
    """
    converted = leads["converted_at"].notna().to_numpy()
    closed = converted | leads["lost_at"].notna().to_numpy()
    if columns is None:
        columns = {c: f for c, f in FAMILY_OF_COLUMN.items() if f != "-"}
        columns |= {c: "attributes" for c in leads.columns if str(c).startswith("attr_")}
    rows = []
    for column, family in columns.items():
        if column not in leads.columns:
            continue
        filled = _filled(leads[column])
        rows.append(_row(column, family, "closed", filled, closed))
        rows.append(_row(column, family, "converted", filled, converted))
    return _flag(rows, outcome_min, gap, warn_gap)


def fill_rates_by_status(leads: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """How often each column is filled for converted, lost and still-open leads.

    Args:
        columns: the columns to show (default: those :func:`fill_rate_report` checks).

    Returns:
        One row per column (``column``, ``converted``, ``lost``, ``open``: shares, NaN
        where no lead has that status), in the order given.
    """
    converted = leads["converted_at"].notna().to_numpy()
    lost = leads["lost_at"].notna().to_numpy() & ~converted
    still_open = ~converted & ~lost
    if columns is None:
        columns = [c for c, f in FAMILY_OF_COLUMN.items() if f != "-"]
        columns += [c for c in leads.columns if str(c).startswith("attr_")]
    rows = []
    for column in columns:
        if column not in leads.columns:
            continue
        filled = _filled(leads[column])
        rates = {
            status: float(filled[mask].mean()) if mask.any() else float("nan")
            for status, mask in (("converted", converted), ("lost", lost), ("open", still_open))
        }
        rows.append({"column": column, **rates})
    return pd.DataFrame(rows, columns=["column", "converted", "lost", "open"])


def fill_rate_report_flat(
    frame: pd.DataFrame,
    y: np.ndarray,
    outcome_min: float = 0.9,
    gap: float = 0.3,
    warn_gap: float = 0.15,
) -> pd.DataFrame:
    """Fill rates of every column of a flat table among positive vs negative rows."""
    positive = np.asarray(y).astype(bool)
    rows = [
        _row(str(column), "flat", "positive", _filled(frame[column]), positive)
        for column in frame.columns
    ]
    return _flag(rows, outcome_min, gap, warn_gap)


def leaking_columns(report: pd.DataFrame) -> list[str]:
    """The columns a report flags ``drop``, in report order, each once."""
    flagged = report.loc[report["action"] == "drop", "column"]
    return list(dict.fromkeys(flagged))
