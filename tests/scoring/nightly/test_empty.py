"""Scoring a store with nothing to score answers in one line, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models import configure
from pipelines.config import FeaturesConfig
from pipelines.contracts import empty_table
from pipelines.inputs import write_inputs
from pipelines.storage import StoreError, open_store
from scoring.config import ScoringConfig
from scoring.nightly.embedded import run_scoring


def test_an_empty_leads_table_is_a_one_line_store_error(
    trained: dict[str, str], tmp_path: Path
) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    write_inputs(store, {t: empty_table(t) for t in ("leads", "activities", "stage_history")})
    configure(trained["tracking"])
    day = pd.Timestamp("2026-10-15", tz="UTC")
    with pytest.raises(StoreError, match=r"has no leads to score \(its leads table is empty\)"):
        run_scoring(store, day, ScoringConfig(), FeaturesConfig())
    assert not store.exists("lead_scores")


def test_slices_without_an_open_lead_are_skipped(store_copy: str, trained: dict[str, str]) -> None:
    """Before any lead was created, no slice has an open lead: an empty list, not a KeyError."""
    configure(trained["tracking"])
    store = open_store(store_copy)
    day = pd.Timestamp("2001-01-01", tz="UTC")
    result = run_scoring(store, day, ScoringConfig(partition_size=1000), FeaturesConfig())
    assert result.rows_scored == 0
    scores = store.read("lead_scores") if store.exists("lead_scores") else pd.DataFrame()
    assert scores.empty or not (scores["as_of"] == day).any()
    runs = store.read("scoring_runs")
    assert runs["leads_read"].tolist() == [store.count("leads")]
