"""Scoring one slice of the leads at a time gives the list that scoring them at once gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from models import configure
from pipelines.config import FeaturesConfig
from pipelines.storage import open_store
from scoring.config import ScoringConfig
from scoring.nightly.embedded import run_scoring
from scoring.qualify import trend
from scoring.ranking import add_ranks, rank_sql

AS_OF = pd.Timestamp("2026-10-15", tz="UTC")


def _score(store: str, tracking: str, day: pd.Timestamp, **settings: int) -> pd.DataFrame:
    configure(tracking)
    cfg = ScoringConfig(**settings)
    run_scoring(open_store(store), day, cfg, FeaturesConfig())
    scores = open_store(store).read("lead_scores")
    return scores[scores["as_of"] == day].drop(columns="run_id").reset_index(drop=True)


def test_slices_and_chunks_give_the_same_list(trained: dict[str, str], tmp_path: Path) -> None:
    stores = []
    for name in ("whole", "sliced"):
        shutil.copy(trained["path"], tmp_path / f"{name}.duckdb")
        stores.append(f"duckdb:///{tmp_path / name}.duckdb")
    whole = _score(stores[0], trained["tracking"], AS_OF)
    sliced = _score(stores[1], trained["tracking"], AS_OF, partition_size=700, chunk_size=190)
    assert len(whole) > 500
    pd.testing.assert_frame_equal(whole, sliced)
    runs = open_store(stores[1]).read("scoring_runs")
    assert runs["leads_read"].tolist() == [open_store(stores[1]).count("leads")]


def test_trend_follows_each_lead_across_slices(store_copy: str, trained: dict[str, str]) -> None:
    later = AS_OF + pd.Timedelta(days=7)
    first = _score(store_copy, trained["tracking"], AS_OF, partition_size=800)
    second = _score(store_copy, trained["tracking"], later, partition_size=800)
    expected = trend(
        second.set_index("lead_id")["score"],
        first.set_index("lead_id")["score"],
        ScoringConfig().trend,
    )
    assert second["trend"].tolist() == list(expected)
    assert set(second["trend"]) > {"new"}  # most leads were scored the week before


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.1, 0.25, 0.5, 0.9]),  # few values: many ties
            st.sampled_from(["rep_a", "rep_b", "(unassigned)", None]),
            st.sampled_from(["sales_qualified", "nurture", "disqualified", None]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_ranks_in_sql_equal_ranks_in_pandas(rows: list[tuple[float, str | None, str]]) -> None:
    frame = pd.DataFrame(
        {
            "lead_id": [
                f"L{i:03d}" for i in np.random.default_rng(len(rows)).permutation(len(rows))
            ],
            "probability": [p for p, _, _ in rows],
            "owner_id": pd.Series([o for _, o, _ in rows], dtype="object"),
            "qualification": pd.Series([q for _, _, q in rows], dtype="object"),
        }
    )
    expected = add_ranks(frame)
    # Disqualified leads come last, whatever their score; the others by score.
    out = expected["qualification"].eq("disqualified").to_numpy()
    assert not (out[:-1] & ~out[1:]).any()
    assert (np.diff(expected.loc[~out, "probability"].to_numpy()) <= 0).all()
    with duckdb.connect() as con:
        con.register("scored", frame)
        ranked = con.sql(rank_sql("scored")).df()
    for column in ("lead_id", "rank_overall", "rank_in_owner"):
        assert ranked[column].tolist() == expected[column].tolist()
