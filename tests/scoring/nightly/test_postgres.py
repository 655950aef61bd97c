"""The nightly run against the real PostgreSQL server: the same promises as on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.contracts import LeadScores, ScoringRuns
from pipelines.inputs import write_inputs
from pipelines.storage import open_store
from scoring.cli import EXIT_LOCKED, app
from tests.pipelines.storage.test_postgres import pg_uri, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres
AS_OF = "2026-10-15"
runner = CliRunner()


def _scores(uri: str) -> pd.DataFrame:
    return LeadScores.validate(open_store(uri).read("lead_scores")).sort_values(
        "lead_id", ignore_index=True
    )


def test_scoring_on_postgres_reruns_quarantines_and_locks(
    pg_uri: str,  # noqa: F811
    trained: dict[str, str],
    small_crm: dict[str, pd.DataFrame],
) -> None:
    store = open_store(pg_uri)
    tables = dict(small_crm)
    write_inputs(store, tables)
    orphan = tables["activities"].head(1).assign(lead_id="NOPE")
    store.append("activities", orphan)
    args = ["score", "--as-of", AS_OF, "--store", pg_uri, "--tracking-uri", trained["tracking"]]

    first_run = runner.invoke(app, args)
    assert first_run.exit_code == 0, first_run.output
    first = _scores(pg_uri)
    assert len(first) > 0 and first["rank_overall"].min() == 1
    second_run = runner.invoke(app, args)
    assert second_run.exit_code == 0, second_run.output
    second = _scores(pg_uri)
    # A rerun replaces that date's rows: same rows, new run id, no duplicates.
    assert second["run_id"].nunique() == 1 and second["run_id"].iloc[0] != first["run_id"].iloc[0]
    pd.testing.assert_frame_equal(first.drop(columns="run_id"), second.drop(columns="run_id"))
    runs = ScoringRuns.validate(store.read("scoring_runs"))
    assert len(runs) == 2 and (runs["rows_quarantined"] == 1).all()
    quarantine = store.read("quarantine")
    assert set(quarantine["check"]) == {"references_leads"} and len(quarantine) == 2

    with store.lock("scoring"):
        locked = runner.invoke(app, args)
    assert locked.exit_code == EXIT_LOCKED and "holds the lock" in locked.output
    assert "***" not in pg_uri or "***" in locked.output  # a password is never printed


def test_duckdb_and_postgres_give_the_same_list(
    pg_uri: str,  # noqa: F811
    store_copy: str,
    trained: dict[str, str],
    small_crm: dict[str, pd.DataFrame],
) -> None:
    write_inputs(open_store(pg_uri), dict(small_crm))
    for uri in (pg_uri, store_copy):
        result = runner.invoke(
            app, ["score", "--as-of", AS_OF, "--store", uri, "--tracking-uri", trained["tracking"]]
        )
        assert result.exit_code == 0, result.output
    on_pg, on_duck = _scores(pg_uri), _scores(store_copy)
    cols = [
        "lead_id",
        "owner_id",
        "probability",
        "score",
        "grade",
        "qualification",
        "bant",
        "top_reasons",
        "rank_overall",
        "rank_in_owner",
    ]
    pd.testing.assert_frame_equal(on_pg[cols], on_duck[cols])
