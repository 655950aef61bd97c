"""Scores, grades and ranks: deterministic, ties broken by lead_id, disqualified leads last."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNASSIGNED = "(unassigned)"


DISQUALIFIED = "disqualified"


def add_ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Adds rank_overall and rank_in_owner (1 = best; ties broken by lead_id ascending).

    Leads qualified ``disqualified`` (opted out, bounced, ...) rank after every other lead
    whatever their score: a rep's list is who to call, and they are not to be called.
    """
    last = scores["qualification"].eq(DISQUALIFIED) if "qualification" in scores else False
    ordered = scores.assign(_last=last).sort_values(
        ["_last", "probability", "lead_id"], ascending=[True, False, True], kind="mergesort"
    )
    ordered = ordered.drop(columns="_last")
    ordered = ordered.assign(rank_overall=np.arange(1, len(ordered) + 1, dtype="int64"))
    owner = ordered["owner_id"].astype("object").where(ordered["owner_id"].notna(), UNASSIGNED)
    ordered["rank_in_owner"] = (
        ordered.groupby(owner.to_numpy(), sort=False).cumcount().astype("int64") + 1
    )
    return ordered.reset_index(drop=True)


def rank_sql(table: str) -> str:
    """SQL adding the ranks of :func:`add_ranks` to every row of ``table``, in rank order.

    Runs on DuckDB (the embedded scorer's staging) and Spark SQL alike, out of core: the
    ranks span every slice of a run. ``table`` has a ``qualification`` column.
    """
    last = f"coalesce(qualification = '{DISQUALIFIED}', false)"
    order = f"ORDER BY {last} ASC, probability DESC, lead_id ASC"
    owner = f"coalesce(owner_id, '{UNASSIGNED}')"
    return (
        f"SELECT *, row_number() OVER ({order}) AS rank_overall, "
        f"row_number() OVER (PARTITION BY {owner} {order}) AS rank_in_owner "
        f"FROM {table} ORDER BY rank_overall"
    )
