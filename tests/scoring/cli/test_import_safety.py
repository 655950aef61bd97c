"""Imports that refuse to destroy, through the real CLI: empty and shrinking imports are
refused and leave the store byte-identical, tables without a file are kept, a dry run
writes nothing, a failed import leaves the old tables, and generate spares imported data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import pipelines.storage.duckdb as duckdb_store
import pipelines.storage.files as file_store
import pipelines.storage.postgres as postgres_store
from pipelines.contracts import empty_table
from pipelines.inputs import write_inputs
from pipelines.storage import open_store, read_metadata
from pipelines.synthetic import EXPORT_FILES, generate_crm, to_dialect
from scoring.cli import EXIT_BAD_INPUT, EXIT_INSUFFICIENT_DATA, app
from tests.pipelines.storage.test_postgres import pg_uri, server  # noqa: F401 (fixtures)

runner = CliRunner()
LEADS = 600
TABLES = ("leads", "activities", "stage_history")


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Salesforce export of 600 leads, plus header-only and partial versions of its files."""
    folder = tmp_path_factory.mktemp("sf")
    paths = {}
    for table, frame in to_dialect(generate_crm(LEADS, seed=5), "salesforce").items():
        paths[table] = folder / EXPORT_FILES["salesforce"][table]
        frame.to_csv(paths[table], index=False)
        paths[f"{table}_header"] = folder / f"header_{paths[table].name}"
        frame.head(0).to_csv(paths[f"{table}_header"], index=False)
    leads = pd.read_csv(paths["leads"], dtype=str)
    paths["leads_third"] = folder / "third_Lead.csv"
    leads.head(LEADS // 3).to_csv(paths["leads_third"], index=False)
    return paths


def import_args(export: dict[str, Path], store: str, **files: str) -> list[str]:
    """``import`` of the given files (table → key in ``export``); all three by default."""
    chosen = files or {t: t for t in TABLES}
    args = ["import", "--mapping", "salesforce", "--store", store]
    for table, key in chosen.items():
        args += [f"--{table.replace('_', '-')}", str(export[key])]
    return args


@pytest.fixture(params=["duckdb", "parquet"])
def store(request: pytest.FixtureRequest, tmp_path: Path, export: dict[str, Path]) -> str:
    """A store holding the whole export, imported."""
    target = tmp_path / "store" / ("crm.duckdb" if request.param == "duckdb" else "crm")
    uri = f"{request.param}:///{target}"
    ok(*import_args(export, uri))
    return uri


def counts(uri: str) -> dict[str, int]:
    store = open_store(uri)
    return {t: store.count(t) if store.exists(t) else 0 for t in (*TABLES, "quarantine")}


def fingerprint(uri: str) -> dict[str, str]:
    """Every file of the store's directory (lock files included) with its content hash."""
    location = open_store(uri).location
    assert location is not None
    return {
        str(p.relative_to(location)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(location.rglob("*"))
        if p.is_file()
    }


def test_a_header_only_import_is_refused_and_leaves_the_store_byte_identical(
    store: str, export: dict[str, Path]
) -> None:
    before = fingerprint(store)
    result = run(*import_args(export, store, leads="leads_header"))
    assert result.exit_code == EXIT_BAD_INPUT
    assert "leads would be empty (600 → 0 rows)" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nothing written" in errors[0]
    assert fingerprint(store) == before
    replaced = run(*import_args(export, store, leads="leads_header"), "--replace")
    assert replaced.exit_code == EXIT_BAD_INPUT  # leads are never emptied
    assert fingerprint(store) == before


def test_a_header_only_table_is_refused_unless_replace(store: str, export: dict[str, Path]) -> None:
    before, hashes = counts(store), fingerprint(store)
    files = {"leads": "leads", "activities": "activities_header"}
    result = run(*import_args(export, store, **files))
    assert result.exit_code == EXIT_BAD_INPUT
    assert f"activities would be emptied ({before['activities']:,} → 0 rows" in result.output
    assert fingerprint(store) == hashes
    out = ok(*import_args(export, store, **files), "--replace")
    assert f"activities {before['activities']:,} → 0" in out
    assert counts(store)["activities"] == 0
    assert counts(store)["stage_history"] == before["stage_history"]


def test_a_leads_only_import_keeps_the_other_tables(store: str, export: dict[str, Path]) -> None:
    before = counts(store)
    out = ok(*import_args(export, store, leads="leads"))
    assert f"activities kept ({before['activities']:,} rows, not in this import)" in out
    after = counts(store)
    assert after["activities"] == before["activities"] > 0
    assert after["stage_history"] == before["stage_history"] > 0
    assert after["leads"] == LEADS


def test_replace_all_empties_the_tables_without_a_file(store: str, export: dict[str, Path]) -> None:
    out = ok(*import_args(export, store, leads="leads"), "--replace-all")
    assert "activities" in out and counts(store)["activities"] == 0
    assert counts(store)["stage_history"] == 0 and counts(store)["leads"] == LEADS


def test_a_shrinking_import_is_refused_past_max_shrink(store: str, export: dict[str, Path]) -> None:
    hashes = fingerprint(store)
    third = import_args(export, store, leads="leads_third")
    result = run(*third)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "leads would shrink by 67% (600 → 200 rows), more than max_shrink 50%" in result.output
    assert fingerprint(store) == hashes
    ok(*third, "--max-shrink", "0.7")
    assert counts(store)["leads"] == LEADS // 3


def test_replace_accepts_the_shrink(store: str, export: dict[str, Path]) -> None:
    out = ok(*import_args(export, store, leads="leads_third"), "--replace")
    assert "leads 600 → 200" in out
    assert counts(store)["leads"] == LEADS // 3


def test_max_shrink_comes_from_configs_import_yaml(
    store: str, export: dict[str, Path], tmp_path: Path
) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "import.yaml").write_text("max_shrink: 0.8\n")
    ok(*import_args(export, store, leads="leads_third"), "--config-dir", str(configs))
    assert counts(store)["leads"] == LEADS // 3
    (configs / "import.yaml").write_text("max_shrinks: 0.8\n")
    typo = run(*import_args(export, store, leads="leads"), "--config-dir", str(configs))
    assert typo.exit_code == EXIT_BAD_INPUT and "max_shrinks" in typo.output


def test_a_dry_run_prints_the_summary_and_writes_nothing(
    store: str, export: dict[str, Path], tmp_path: Path
) -> None:
    hashes = fingerprint(store)
    out = ok(*import_args(export, store, leads="leads"), "--dry-run")
    assert f"leads: read {LEADS}, loaded {LEADS}" in out and "fill rate by outcome" in out
    assert "dry run, nothing written" in out and "leads 600 → 600" in out
    assert fingerprint(store) == hashes
    fresh = tmp_path / "fresh" / "crm.duckdb"
    ok(*import_args(export, f"duckdb:///{fresh}"), "--dry-run")
    assert not fresh.parent.exists()


def fail_at_second_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the stores' batch writes fail when they reach the second table."""
    original = file_store.frames_of
    calls = {"n": 0}

    def frames_of(frames: object) -> Iterator[pd.DataFrame]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed between two tables")
        return original(frames)  # type: ignore[arg-type]

    for module in (file_store, duckdb_store, postgres_store):
        monkeypatch.setattr(module, "frames_of", frames_of)


@pytest.fixture
def failing_second_table(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_at_second_table(monkeypatch)


def test_an_import_that_fails_between_tables_leaves_the_old_tables(
    store: str, export: dict[str, Path], failing_second_table: None
) -> None:
    before = {t: open_store(store).read(t) for t in TABLES}
    result = runner.invoke(app, [*import_args(export, store, leads="leads_third"), "--replace"])
    assert isinstance(result.exception, RuntimeError)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(open_store(store).read(table), frame)
    assert read_metadata(open_store(store))["data_origin"] == "imported"


@pytest.mark.postgres
def test_a_postgres_import_is_refused_or_lands_in_one_transaction(
    pg_uri: str,  # noqa: F811
    export: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok(*import_args(export, pg_uri))
    before = {t: open_store(pg_uri).read(t) for t in TABLES}
    refused = run(*import_args(export, pg_uri, leads="leads_header"))
    assert refused.exit_code == EXIT_BAD_INPUT and "leads would be empty" in refused.output
    fail_at_second_table(monkeypatch)
    third = [*import_args(export, pg_uri, leads="leads_third"), "--replace"]
    assert isinstance(runner.invoke(app, third).exception, RuntimeError)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(open_store(pg_uri).read(table), frame)
    monkeypatch.undo()
    ok(*third)
    assert counts(pg_uri)["leads"] == LEADS // 3
    assert counts(pg_uri)["activities"] == len(before["activities"])


def test_generate_refuses_an_imported_store_unless_force(store: str) -> None:
    hashes = fingerprint(store)
    result = run("generate", "--leads", "100", "--store", store)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "holds an imported CRM" in result.output and "--force" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert fingerprint(store) == hashes
    ok("generate", "--leads", "100", "--store", store, "--force")
    assert counts(store)["leads"] == 100
    assert read_metadata(open_store(store))["data_origin"] == "generated"
    ok("generate", "--leads", "120", "--store", store)  # a generated store: no refusal
    assert counts(store)["leads"] == 120


def test_generate_overwrites_a_store_without_an_origin_record(tmp_path: Path) -> None:
    """Older stores (and fixtures written directly) have no data_origin: never refused."""
    uri = f"duckdb:///{tmp_path / 'old.duckdb'}"
    write_inputs(open_store(uri), generate_crm(50, seed=1))
    assert "data_origin" not in read_metadata(open_store(uri))
    ok("generate", "--leads", "60", "--store", uri)
    assert counts(uri)["leads"] == 60


def test_an_import_replaces_a_generated_crm_whole(tmp_path: Path, export: dict[str, Path]) -> None:
    """``make demo`` then your own CRM: the synthetic CRM is not data worth protecting, and
    its activities must not stay beside the imported leads."""
    uri = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    ok("generate", "--leads", str(LEADS * 3), "--store", uri)
    out = ok(*import_args(export, uri, leads="leads_third"))
    assert "the store held a generated CRM: this import replaces all of it" in out
    assert counts(uri)["leads"] == LEADS // 3
    assert counts(uri)["activities"] == 0 and counts(uri)["stage_history"] == 0
    assert read_metadata(open_store(uri))["data_origin"] == "imported"
    shrink = run(*import_args(export, uri, leads="leads_header"))
    assert shrink.exit_code == EXIT_BAD_INPUT  # an empty leads table, still never


def test_train_on_an_empty_store_is_one_line(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    write_inputs(open_store(uri), {t: empty_table(t) for t in TABLES})
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run("train", "--store", uri, "--tracking-uri", tracking)
    assert result.exit_code == EXIT_INSUFFICIENT_DATA
    assert result.output.strip().splitlines() == [
        "error: no leads to train on: the store's leads table is empty or every row fails "
        "the contract (import or generate a CRM first)"
    ]
