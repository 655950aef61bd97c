"""Lookup files: a second file joined by a key, many rows to one, unmatched keys counted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.ingest import Mapping, MappingError, map_export
from pipelines.ingest.importer import read_lookups
from scoring.cli import EXIT_BAD_INPUT, app

MAPPING = Mapping.model_validate(
    {
        "tables": {
            "leads": {
                "lookups": {"accounts": {"key": "Account", "lookup_key": "Name"}},
                "columns": {
                    "ID": "lead_id",
                    "Created": "created_at",
                    "Account": "company",
                    "accounts.Sector": "industry",
                    "accounts.Staff": "employees",
                },
            }
        }
    }
)


def deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": ["d1", "d2", "d3", "d4", "d5"],
            "Created": ["2026-01-05"] * 5,
            "Account": ["Acme", " acme ", "Globex", "Initech", None],
        },
        dtype=object,
    )


def accounts(*extra: tuple[str, str, str]) -> pd.DataFrame:
    rows = [("Acme", "retail", "120"), ("Globex", "energy", "4000"), *extra]
    return pd.DataFrame(rows, columns=["Name", "Sector", "Staff"], dtype=object)


def test_a_lookup_joins_many_rows_to_one_and_counts_the_unmatched() -> None:
    mapped = map_export(MAPPING, {"leads": deals()}, {"accounts": accounts()})
    leads = mapped.tables["leads"]
    # Keys match trimmed and in any case; two deals share Acme's row.
    assert leads["industry"].tolist() == ["retail", "retail", "energy", None, None]
    assert leads["employees"].tolist()[:3] == [120.0, 120.0, 4000.0]
    assert leads["company"].tolist()[:3] == ["Acme", "acme", "Globex"]
    (counts,) = mapped.lookups
    assert (counts.matched, counts.without_key, counts.unmatched) == (3, 1, 1)
    assert dict(counts.unmatched_keys) == {"Initech": 1}
    assert mapped.notes[0] == (
        "lookup accounts: 3 of 5 leads rows matched, 1 have no key, 1 rows have a key not in "
        "the accounts file (1 keys: 'Initech')"
    )


def test_a_key_twice_in_the_lookup_file_is_an_error_naming_it() -> None:
    doubled = accounts(("ACME ", "media", "7"))
    with pytest.raises(MappingError, match="lookup accounts: key 'ACME' appears more than once"):
        map_export(MAPPING, {"leads": deals()}, {"accounts": doubled})


def test_a_lookup_without_its_file_or_a_file_without_a_lookup_is_an_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(MappingError, match="give it with --lookup accounts=FILE"):
        map_export(MAPPING, {"leads": deals()})
    with pytest.raises(MappingError, match="--lookup campaigns: the mapping has no lookup"):
        read_lookups(MAPPING, {"campaigns": tmp_path / "c.csv"})
    no_key = accounts().rename(columns={"Name": "Account Name"})
    with pytest.raises(MappingError, match="the file has no key column 'Name'"):
        map_export(MAPPING, {"leads": deals()}, {"accounts": no_key})


def test_unused_lookup_columns_are_listed_as_ignored() -> None:
    extra = accounts().assign(Founded="1990")
    mapped = map_export(MAPPING, {"leads": deals()}, {"accounts": extra})
    assert mapped.ignored["leads"] == ["accounts.Founded"]


def test_the_cli_reads_lookup_files_by_name(tmp_path: Path) -> None:
    mapping = tmp_path / "deals.yaml"
    mapping.write_text(
        "tables: {leads: {lookups: {accounts: {key: Account, lookup_key: Name}}, columns: "
        "{ID: lead_id, Created: created_at, accounts.Sector: industry}}}"
    )
    deals().to_csv(tmp_path / "deals.csv", index=False)
    accounts().to_csv(tmp_path / "accounts.csv", index=False)
    store = f"duckdb:///{tmp_path / 's.duckdb'}"
    runner = CliRunner()
    base = ["import", "--mapping", str(mapping), "--leads", str(tmp_path / "deals.csv")]
    result = runner.invoke(
        app, [*base, "--lookup", f"accounts={tmp_path / 'accounts.csv'}", "--store", store]
    )
    assert result.exit_code == 0, result.output
    assert "lookup accounts: 3 of 5 leads rows matched" in result.output
    for bad in ("accounts", "=x.csv"):
        result = runner.invoke(app, [*base, "--lookup", bad, "--store", store])
        assert result.exit_code == EXIT_BAD_INPUT and "expected NAME=FILE" in result.output
    result = runner.invoke(app, [*base, "--store", store])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--lookup accounts=FILE" in result.output
