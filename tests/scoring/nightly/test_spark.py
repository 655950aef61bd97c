"""The Spark engine scores a store exactly as the embedded engine does (Spark in local mode).

One chain per module, run through the real CLI where it can be: the embedded scorer on a
DuckDB copy of the trained store; ``leadscore score --engine spark`` on the same CRM as a
Parquet store; then a later date and a rerun of the first date on Spark.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.contracts import LeadScores
from pipelines.inputs import write_inputs
from pipelines.storage import StoreError, open_store
from scoring.cli import EXIT_BAD_INPUT, EXIT_STORE_UNAVAILABLE, app

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
AS_OF = pd.Timestamp("2026-10-15", tz="UTC")
LATER = AS_OF + pd.Timedelta(days=7)
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
runner = CliRunner()


def _day(store: str, day: pd.Timestamp) -> pd.DataFrame:
    scores = LeadScores.validate(open_store(store).read("lead_scores"))
    return scores[scores["as_of"] == day].sort_values("rank_overall", ignore_index=True)


def _score(store: str, tracking: str, day: pd.Timestamp, *extra: str) -> Any:
    args = ["score", "--as-of", str(day.date()), "--store", store, "--tracking-uri", tracking]
    return runner.invoke(app, [*args, *extra], catch_exceptions=False)


def _partition_files(store: str) -> dict[str, dict[Path, int]]:
    """Each as_of partition directory of the Spark list → its files and their mtimes."""
    root = Path(store.removeprefix("parquet:///")) / "lead_scores"
    return {
        p.name: {f: f.stat().st_mtime_ns for f in p.glob("*.parquet")}
        for p in sorted(root.iterdir())
        if p.is_dir()
    }


@pytest.fixture(scope="module")
def chain(spark, trained: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("spark-scoring")
    embedded = f"duckdb:///{root / 'crm.duckdb'}"
    shutil.copy(trained["path"], root / "crm.duckdb")
    on_spark = f"parquet:///{root / 'crm'}"
    source = open_store(trained["store"])
    tables = ("leads", "activities", "stage_history")
    write_inputs(open_store(on_spark), {t: source.read(t) for t in tables})
    tracking = trained["tracking"]
    out: dict[str, Any] = {"embedded": embedded, "spark": on_spark, "tracking": tracking}
    out["embedded_run"] = _score(embedded, tracking, AS_OF)
    out["spark_run"] = _score(on_spark, tracking, AS_OF, "--engine", "spark")
    out["first"] = _day(on_spark, AS_OF)
    _score(on_spark, tracking, LATER, "--engine", "spark")
    out["before_rerun"] = _partition_files(on_spark)
    out["rerun"] = _score(on_spark, tracking, AS_OF, "--engine", "spark")
    out["after_rerun"] = _partition_files(on_spark)
    return out


def test_spark_and_embedded_give_the_same_list(chain: dict) -> None:
    for run in ("embedded_run", "spark_run"):
        assert chain[run].exit_code == 0, chain[run].output
    assert "scored" in chain["spark_run"].output
    ours, theirs = _day(chain["embedded"], AS_OF), chain["first"]
    assert len(theirs) == len(ours) > 100
    np.testing.assert_allclose(theirs["probability"], ours["probability"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(theirs["expected_value"], ours["expected_value"], rtol=1e-9)
    pd.testing.assert_frame_equal(theirs[SAME], ours[SAME])
    assert (theirs["top_reasons"] == ours["top_reasons"]).mean() > 0.99  # float ties may reorder
    runs = open_store(chain["spark"]).read("scoring_runs")
    ours_runs = open_store(chain["embedded"]).read("scoring_runs")
    counts = ["leads_read", "rows_scored"]
    assert runs[counts].iloc[0].tolist() == ours_runs[counts].iloc[0].tolist()
    # The embedded run reads only the open leads' events; Spark reads them all.
    for events in ("activities_read", "stage_history_read"):
        assert 0 < ours_runs[events].iloc[0] < runs[events].iloc[0]


def test_a_rerun_on_spark_replaces_exactly_its_partition(chain: dict) -> None:
    assert chain["rerun"].exit_code == 0, chain["rerun"].output
    before, after = chain["before_rerun"], chain["after_rerun"]
    assert len(before) == len(after) == 2
    first_day, later_day = sorted(before)
    assert after[later_day] == before[later_day]  # the other date's files untouched
    assert after[first_day].keys().isdisjoint(before[first_day])  # this date's rewritten
    rerun = _day(chain["spark"], AS_OF)
    assert rerun["run_id"].nunique() == 1 and set(rerun["run_id"]) != set(chain["first"]["run_id"])
    pd.testing.assert_frame_equal(
        rerun.drop(columns="run_id"), chain["first"].drop(columns="run_id")
    )
    assert len(_day(chain["spark"], LATER)) > 0
    runs = open_store(chain["spark"]).read("scoring_runs")
    assert len(runs) == 3 and (runs["status"] == "succeeded").all()


def test_the_embedded_scorer_keeps_off_a_spark_list(chain: dict) -> None:
    from models import configure
    from pipelines.config import FeaturesConfig
    from scoring.config import ScoringConfig
    from scoring.nightly.embedded import run_scoring

    configure(chain["tracking"])
    with pytest.raises(StoreError, match="Spark engine"):
        run_scoring(open_store(chain["spark"]), AS_OF, ScoringConfig(), FeaturesConfig())


def test_spark_refuses_a_csv_store_and_a_stray_master(chain: dict, tmp_path: Path) -> None:
    csv = f"csv:///{tmp_path / 'crm'}"
    write_inputs(open_store(csv), {"leads": open_store(chain["spark"]).read("leads")})
    refused = _score(csv, chain["tracking"], AS_OF, "--engine", "spark")
    assert refused.exit_code == EXIT_STORE_UNAVAILABLE
    assert "Parquet or SQL stores" in refused.output
    stray = _score(chain["embedded"], chain["tracking"], AS_OF, "--spark-master", "local[1]")
    assert stray.exit_code == EXIT_BAD_INPUT and "--engine spark" in stray.output


def test_a_date_is_found_among_the_partitions_spark_wrote(chain: dict) -> None:
    from scoring.nightly.spark import _date_partitions

    dataset = Path(chain["spark"].removeprefix("parquet:///")) / "lead_scores"
    names = sorted(p.name for p in dataset.glob("as_of=*"))
    assert names == [f"as_of={AS_OF.date()}", f"as_of={LATER.date()}"]  # the date alone
    for day in (AS_OF, LATER):
        found = _date_partitions(dataset, day, "UTC")
        assert len(found) == 1 and found[0].name == f"as_of={day.date()}"
        assert _date_partitions(dataset, day, "America/New_York") == found  # UTC, always
    assert _date_partitions(dataset, AS_OF - pd.Timedelta(days=1), "UTC") == []


def test_both_spellings_of_a_partition_are_found(tmp_path: Path) -> None:
    from scoring.nightly.spark import _date_partitions, partition_value

    assert partition_value(AS_OF) == "2026-10-15"
    assert partition_value(AS_OF + pd.Timedelta(hours=12)) == "2026-10-15T12:00:00+00:00"
    old, new = "as_of=2026-10-15 00%3A00%3A00", "as_of=2026-10-22"  # Spark's older spelling
    for name in (old, new, ".leadscore-staging-x"):
        (tmp_path / name).mkdir()
    assert [p.name for p in _date_partitions(tmp_path, AS_OF, "UTC")] == [old]
    assert [p.name for p in _date_partitions(tmp_path, LATER, "UTC")] == [new]
    # The older spelling is a wall time in the session's zone; the date alone is UTC.
    assert _date_partitions(tmp_path, AS_OF, "America/New_York") == []
    assert [p.name for p in _date_partitions(tmp_path, LATER, "America/New_York")] == [new]
