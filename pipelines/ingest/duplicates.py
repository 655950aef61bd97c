"""Duplicate lead ids in an export: one row is kept, the others are set aside with the reason.

CRM exports repeat a lead when it was merged, re-imported or edited between two pages of
an export. Quarantining every copy would lose the lead and, with it, every activity and
stage row that names it. So the most recently created copy is kept (among the copies that
pass the contract's other checks, if any do; a tie goes to the later row of the file) and
the others go to quarantine as ``superseded_duplicate``. The lead's other rows stay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.contracts import split_valid, to_utc

__all__ = ["SUPERSEDED", "resolve_duplicate_leads"]

SUPERSEDED = "superseded_duplicate"
_UNIQUE_CHECK = "field_uniqueness"  # pandera's name for a failed ``unique=True``


def _rejections(ids: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": pd.Series("lead_id", index=ids.index, dtype="str"),
            "check": pd.Series(SUPERSEDED, index=ids.index, dtype="str"),
            "failure_case": ids.astype(str),
            "row_index": ids.index.to_numpy(dtype="int64"),
        }
    ).reset_index(drop=True)


def resolve_duplicate_leads(leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keeps one row per lead id: the most recently created copy that is otherwise valid.

    Args:
        leads: raw (mapped, not yet validated) leads; its index labels address its rows.

    Returns:
        ``(leads, superseded)``: the frame without the superseded copies (index kept), and
        one rejection per superseded copy (``column``, ``check``, ``failure_case``,
        ``row_index`` = its index label).
    """
    ids = leads["lead_id"].astype("object")
    copies_mask = ids.notna() & ids.duplicated(keep=False)
    if not copies_mask.any():
        return leads, _rejections(ids.iloc[:0])
    copies = leads[copies_mask]
    _, failed = split_valid("leads", copies)  # row_index: positions within ``copies``
    invalid = failed.loc[failed["check"] != _UNIQUE_CHECK, "row_index"].unique()
    valid = np.ones(len(copies), dtype=bool)
    valid[invalid] = False
    order = pd.DataFrame(
        {
            "id": ids[copies_mask].astype(str).to_numpy(),
            "valid": valid,
            "created": to_utc(copies["created_at"]).to_numpy(),
            "position": np.arange(len(copies)),
        },
        index=copies.index,
    ).sort_values(["id", "valid", "created", "position"], na_position="first")
    superseded = order.index[order.duplicated("id", keep="last").to_numpy()]
    return leads.drop(index=superseded), _rejections(leads.loc[superseded, "lead_id"])
