"""Reading the ranked lists back from the store, and the list ``leadscore top`` prints."""

from __future__ import annotations

import pandas as pd

from pipelines import LeadScores
from pipelines.storage import Store, latest_time
from scoring.reports.export import BANT_KEYS, export_frame
from scoring.reports.html import NULL, is_missing, text

BANT_MARKS = {True: "✓", False: "✗", None: "?"}
TOP_COLUMNS = (
    "rank",
    "lead",
    "company",
    "owner",
    "grade",
    "score",
    "qualification",
    "trend",
    "first reason",
)
TOP_NUMBERS = ("rank", "score")


def read_lead_scores(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The ranked list for ``as_of`` (default: the latest date scored), best first.

    Only that date's rows are read (the store filters them; the latest date is asked as a
    ``max``), not every run's list.
    """
    day = as_of if as_of is not None else latest_time(store, "lead_scores", "as_of")
    if day is None:  # no table (TableNotFound, with what to run first) or no row yet
        return LeadScores.validate(store.read("lead_scores"))
    scores = LeadScores.validate(store.read("lead_scores", equals={"as_of": day}))
    return scores.sort_values("rank_overall", ignore_index=True)


def _words(value: object) -> str:
    return NULL if is_missing(value) else str(value).replace("_", " ")


def _checklist(row: pd.Series) -> str:
    return ", ".join(f"{key} {BANT_MARKS[row[f'bant_{key}']]}" for key in BANT_KEYS)


def top_list(
    lead_scores: pd.DataFrame,
    leads: pd.DataFrame,
    owner: str | None = None,
    n: int = 20,
    wide: bool = False,
) -> pd.DataFrame:
    """The ``n`` best leads of one run as text a rep reads: who the lead is and why it ranks.

    Columns: :data:`TOP_COLUMNS` (rank overall, or in ``owner``'s list; the company from
    ``leads``; qualification and trend in words; the strongest reason). With ``wide``, the
    BANT checklist (✓ met, ✗ not met, ? never said) and, in place of the first reason,
    ``reasons``: all of them, strongest first, ``" | "`` between them. Every cell is a
    string, "-" when missing.
    """
    frame = export_frame(lead_scores, leads, owner)
    rank = "rank_in_owner" if owner is not None else "rank_overall"
    frame = frame.sort_values([rank, "lead_id"], kind="mergesort").head(n)
    reasons = frame["top_reasons"]
    out = pd.DataFrame(
        {
            "rank": frame[rank].map(str),
            "lead": frame["lead_id"].map(str),
            "company": frame["company"].map(text),
            "owner": frame["owner_id"].map(text),
            "grade": frame["grade"].map(str),
            "score": frame["score"].map(lambda v: f"{v:.1f}"),
            "qualification": frame["qualification"].map(_words),
            "trend": frame["trend"].map(_words),
            "first reason": reasons.map(lambda r: r[0] if r else NULL),
        }
    )
    if wide:  # every reason, strongest first, in place of the first one
        bant = frame.apply(_checklist, axis=1) if len(frame) else pd.Series(dtype=str)
        out.insert(len(out.columns) - 1, "BANT", bant)
        out["first reason"] = reasons.map(lambda r: " | ".join(r) if r else NULL)
        out = out.rename(columns={"first reason": "reasons"})
    return out.reset_index(drop=True)
