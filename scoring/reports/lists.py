"""Reading the ranked lists back from the store (no model libraries needed)."""

from __future__ import annotations

import pandas as pd

from pipelines import LeadScores
from pipelines.storage import Store


def read_lead_scores(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The ranked list for ``as_of`` (default: the latest date scored), best first."""
    scores = LeadScores.validate(store.read("lead_scores"))
    if scores.empty:
        return scores
    day = as_of if as_of is not None else scores["as_of"].max()
    return scores[scores["as_of"] == day].sort_values("rank_overall", ignore_index=True)
