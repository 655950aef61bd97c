"""The Spark engine scores a store exactly as the embedded engine does (Spark in local mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import configure
from pipelines.config import FeaturesConfig
from pipelines.contracts import LeadScores
from pipelines.inputs import write_inputs
from pipelines.storage import StoreError, open_store
from scoring.config import ScoringConfig
from scoring.scorer import run_scoring

AS_OF = pd.Timestamp("2026-10-15", tz="UTC")
SAME = [
    "lead_id",
    "owner_id",
    "score",
    "grade",
    "qualification",
    "bant",
    "trend",
    "rank_overall",
    "rank_in_owner",
]


def _day(store: str, day: pd.Timestamp) -> pd.DataFrame:
    scores = LeadScores.validate(open_store(store).read("lead_scores"))
    return scores[scores["as_of"] == day].sort_values("rank_overall", ignore_index=True)


@pytest.fixture
def parquet_store(trained: dict[str, str], tmp_path: Path) -> str:
    """The trained fixture's CRM as a Parquet store (the Spark engine's native layout)."""
    uri = f"parquet:///{tmp_path / 'crm'}"
    source = open_store(trained["store"])
    write_inputs(
        open_store(uri), {t: source.read(t) for t in ("leads", "activities", "stage_history")}
    )
    return uri


def test_spark_and_embedded_give_the_same_list(
    spark,
    parquet_store: str,
    store_copy: str,
    trained: dict[str, str],
) -> None:
    from scoring.spark_scorer import run_scoring_spark

    configure(trained["tracking"])
    cfg, features = ScoringConfig(), FeaturesConfig()
    embedded = run_scoring(open_store(store_copy), AS_OF, cfg, features)
    on_spark = run_scoring_spark(spark, parquet_store, AS_OF, cfg, features)
    assert on_spark.rows_scored == embedded.rows_scored > 100
    ours, theirs = _day(store_copy, AS_OF), _day(parquet_store, AS_OF)
    np.testing.assert_allclose(theirs["probability"], ours["probability"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(theirs["expected_value"], ours["expected_value"], rtol=1e-9)
    pd.testing.assert_frame_equal(theirs[SAME], ours[SAME])
    assert (theirs["top_reasons"] == ours["top_reasons"]).mean() > 0.99  # float ties may reorder
    runs = open_store(parquet_store).read("scoring_runs")
    assert runs["rows_scored"].tolist() == [embedded.rows_scored]
    with pytest.raises(StoreError, match="Spark engine"):  # the embedded scorer keeps off it
        run_scoring(open_store(parquet_store), AS_OF, cfg, features)


def test_a_rerun_on_spark_replaces_exactly_its_partition(
    spark,
    parquet_store: str,
    trained: dict[str, str],
) -> None:
    from scoring.spark_scorer import run_scoring_spark

    configure(trained["tracking"])
    cfg, features = ScoringConfig(), FeaturesConfig()
    later = AS_OF + pd.Timedelta(days=7)
    first = run_scoring_spark(spark, parquet_store, AS_OF, cfg, features)
    run_scoring_spark(spark, parquet_store, later, cfg, features)
    root = Path(parquet_store.removeprefix("parquet:///")) / "lead_scores"
    partitions = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(partitions) == 2
    kept = {p: p.stat().st_mtime_ns for p in (root / partitions[1]).glob("*.parquet")}
    before = _day(parquet_store, AS_OF)
    rerun = run_scoring_spark(spark, parquet_store, AS_OF, cfg, features)
    assert {p: p.stat().st_mtime_ns for p in (root / partitions[1]).glob("*.parquet")} == kept
    after = _day(parquet_store, AS_OF)
    assert set(after["run_id"]) == {rerun.run_id} != {first.run_id}
    pd.testing.assert_frame_equal(after.drop(columns="run_id"), before.drop(columns="run_id"))
    assert len(_day(parquet_store, later)) > 0
