"""What the CRM lets the report know: a metric whose inputs are missing says so, not a number.

A real export often records less than the synthetic CRM: a stage history holding only the
outcomes (won, lost), no deal values, no earlier scoring run. A number computed from
inputs that are not there reads as a fact ("MQL → SQL 100%", "Open opportunities 0",
"Expected revenue 175k" from the configured default), so the report shows
``not measurable: why`` in its place (:func:`unknown_kpi`, :func:`unknown_note`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import StageConfig, empty_table, utc
from scoring.reports.health import SQL_STAGE, WON, funnel_stages, records_sql
from scoring.reports.html import empty_note, kpi

NOT_MEASURABLE = "not measurable"


@dataclass(frozen=True)
class Coverage:
    """What the stage history and the leads record before the report date.

    ``steps`` are the funnel stages between the first and ``won``, ``recorded`` those a lead
    entered before the date, ``sql`` whether the SQL stage (or an open stage after it) is
    among them, ``deal_values`` how many deals won before the date carry a value.
    """

    steps: tuple[str, ...]
    recorded: tuple[str, ...]
    outcomes: tuple[str, ...]
    sql: bool
    deal_values: int

    @property
    def stages(self) -> bool:
        """Whether any stage between the first and the outcome is recorded."""
        return bool(self.recorded)

    @property
    def no_stages(self) -> str:
        found = ", ".join(self.outcomes) or "no stage at all"
        return f"the stage history records no stage between new and the outcome (only {found})"

    @property
    def no_sql(self) -> str:
        return f"the stage history records no SQL stage ({SQL_STAGE} or later)"

    @property
    def no_deal_values(self) -> str:
        return "no won deal in the CRM has a deal value"


def coverage_of(
    leads: pd.DataFrame,
    stage_history: pd.DataFrame | None,
    as_of: pd.Timestamp,
    stages: StageConfig,
) -> Coverage:
    """What ``stage_history`` (None: no such table) and ``leads`` record before ``as_of``."""
    as_of = utc(as_of)
    steps = funnel_stages(stages)
    history = stage_history if stage_history is not None else empty_table("stage_history")
    entered = set(history.loc[history["entered_at"] < as_of, "stage"])
    middle = tuple(s for s in steps[1:] if s != WON)
    won = leads["converted_at"].notna() & (leads["converted_at"] < as_of)
    return Coverage(
        steps=middle,
        recorded=tuple(s for s in middle if s in entered),
        outcomes=tuple(s for s in dict.fromkeys((WON, *stages.closed)) if s in entered),
        sql=records_sql(history, as_of, stages),
        deal_values=int((won & leads["deal_value"].notna()).sum()),
    )


def unknown_kpi(label: str, why: str) -> str:
    """A headline card that says the number cannot be known, and why."""
    return kpi(label, NOT_MEASURABLE, why).replace('class="value"', 'class="value unknown"', 1)


def unknown_note(what: str, why: str) -> str:
    """A note in place of a chart or table: ``what: not measurable: why``."""
    return empty_note(f"{what}: {NOT_MEASURABLE}: {why}.")


def mask_funnel(funnel: pd.DataFrame, coverage: Coverage) -> pd.DataFrame:
    """The funnel with the flow through stages no lead was recorded in blanked (NaN).

    The funnel counts a skipped stage as passed; a stage the CRM never records would
    otherwise show every lead passing it (100% conversion into and out of it).
    """
    unrecorded = funnel["stage"].isin(set(coverage.steps) - set(coverage.recorded))
    out = funnel.astype({"reached": "float64"})
    out.loc[unrecorded, ["reached", "conversion_to_next", "conversion_from_first"]] = np.nan
    into = unrecorded.shift(-1, fill_value=False).astype(bool)
    out.loc[into, "conversion_to_next"] = np.nan
    return out
