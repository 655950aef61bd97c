"""A duplicated lead id keeps its most recently created row; the lead and its activities stay,
and every count the import prints is what the store holds afterwards."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.ingest import SUPERSEDED, resolve_duplicate_leads
from pipelines.storage import open_store
from pipelines.synthetic import EXPORT_FILES, generate_crm, to_dialect
from scoring.cli import app

runner = CliRunner()


def _leads(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """Raw mapped leads: (lead_id, created_at, purchase_timeframe), other columns empty."""
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "purchase_timeframe"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for column in ("source", "owner_id", "company", "industry", "country", "job_title"):
        frame[column] = None
    for column in ("email", "phone", "need", "converted_at", "lost_at"):
        frame[column] = None
    for column in ("employees", "annual_revenue", "budget", "deal_value", "is_decision_maker"):
        frame[column] = None
    return frame


def test_the_most_recently_created_valid_copy_is_kept() -> None:
    leads = _leads(
        [
            ("a", "2026-01-01", None),  # 0
            ("a", "2026-03-01", None),  # 1: newest a, kept
            ("b", "2026-01-01", "1-3m"),  # 2: newest valid b, kept
            ("a", "2026-02-01", None),  # 3
            ("b", "2026-05-01", "soon"),  # 4: newest b, but fails the timeframe check
            ("c", "2026-01-01", None),  # 5
            ("c", "2026-01-01", None),  # 6: a tie goes to the later row
            ("d", "2026-01-01", None),  # 7: not duplicated
        ]
    )
    kept, superseded = resolve_duplicate_leads(leads)
    assert kept.index.tolist() == [1, 2, 6, 7]
    assert sorted(superseded["row_index"].tolist()) == [0, 3, 4, 5]
    assert set(superseded["check"]) == {SUPERSEDED}
    assert set(superseded["column"]) == {"lead_id"}
    assert superseded.sort_values("row_index")["failure_case"].tolist() == ["a", "a", "b", "c"]


def test_without_duplicates_nothing_changes() -> None:
    leads = _leads([("a", "2026-01-01", None), ("b", "2026-01-02", None)])
    kept, superseded = resolve_duplicate_leads(leads)
    assert kept is leads and superseded.empty


@pytest.fixture(scope="module")
def duplicated_export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A Salesforce export whose three lost leads with activities appear twice: an older copy
    (earlier CreatedDate, another company) after the real row."""
    folder = tmp_path_factory.mktemp("dup")
    frames = to_dialect(generate_crm(300, seed=2), "salesforce")
    leads = frames["leads"]
    busy = frames["activities"]["WhoId"].value_counts()
    lost = leads[(leads["Status"] == "Closed - Not Converted") & leads["Id"].isin(busy.index)]
    chosen = lost["Id"].head(3).tolist()
    older = leads[leads["Id"].isin(chosen)].copy()
    older["CreatedDate"] = "2020-01-01T00:00:00.000Z"
    older["Company"] = "Stale Copy Ltd"
    frames["leads"] = pd.concat([leads, older], ignore_index=True)
    paths = {}
    for table, frame in frames.items():
        paths[table] = folder / EXPORT_FILES["salesforce"][table]
        frame.to_csv(paths[table], index=False)
    activities = {lead: int(busy[lead]) for lead in chosen}
    return {"paths": paths, "chosen": chosen, "activities": activities, "rows": len(leads)}


def test_an_import_keeps_the_newest_copy_and_every_printed_count_is_in_the_store(
    duplicated_export: dict[str, object], tmp_path: Path
) -> None:
    paths: dict[str, Path] = duplicated_export["paths"]  # type: ignore[assignment]
    chosen: list[str] = duplicated_export["chosen"]  # type: ignore[assignment]
    uri = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    args = ["import", "--mapping", "salesforce", "--store", uri]
    for table, flag in (("leads", "--leads"), ("activities", "--activities")):
        args += [flag, str(paths[table])]
    args += ["--stage-history", str(paths["stage_history"])]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    store = open_store(uri)
    leads = store.read("leads")

    rows = duplicated_export["rows"]
    assert f"leads: read {rows + 3:,}, loaded {rows:,}, quarantined 3" in out
    assert "lead_id superseded_duplicate: 3" in out
    assert len(leads) == rows and leads["lead_id"].is_unique
    kept = leads[leads["lead_id"].isin(chosen)]
    assert len(kept) == 3 and not (kept["company"] == "Stale Copy Ltd").any()

    activities = store.read("activities")
    for lead, count in duplicated_export["activities"].items():  # type: ignore[union-attr]
        assert int((activities["lead_id"] == lead).sum()) == count
    for table, frame in (
        ("activities", activities),
        ("stage_history", store.read("stage_history")),
    ):
        loaded = f"loaded {len(frame):,}, quarantined 0"
        assert any(line.startswith(f"{table}:") and loaded in line for line in out.splitlines())

    quarantine = store.read("quarantine")
    assert sorted(quarantine["lead_id"]) == sorted(chosen)
    assert set(quarantine["check"]) == {SUPERSEDED}

    # The SF export has no lost date: every lost_at in the store came from the history.
    got = int(leads["lost_at"].notna().sum())
    assert f"{got} leads got lost_at from their first 'lost' stage entry" in out
