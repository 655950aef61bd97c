"""The import summary flags a lead column that is filled only once a lead closes, by the same
rule (and thresholds) training uses to exclude it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pipelines.storage import open_store
from pipelines.synthetic import EXPORT_FILES, generate_crm, to_dialect
from scoring.cli import app

runner = CliRunner()


def _import(crm: dict[str, pd.DataFrame], folder: Path, *extra: str) -> tuple[str, str]:
    folder.mkdir()
    args = ["import", "--mapping", "salesforce"]
    for table, frame in to_dialect(crm, "salesforce").items():
        path = folder / EXPORT_FILES["salesforce"][table]
        frame.to_csv(path, index=False)
        args += [f"--{table.replace('_', '-')}", str(path)]
    uri = f"duckdb:///{folder / 'crm.duckdb'}"
    result = runner.invoke(app, [*args, "--store", uri, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output, uri


def _line(output: str, column: str) -> str:
    found = [line for line in output.splitlines() if line.strip().startswith(f"{column} ")]
    assert len(found) == 1, output
    return found[0]


def test_a_field_filled_only_when_closed_is_flagged_at_import(tmp_path: Path) -> None:
    crm = generate_crm(800, seed=4, fill_on_close=("industry",))
    out, uri = _import(crm, tmp_path / "planted")
    assert "fill rate by outcome, converted / lost / open" in out
    industry = _line(out, "industry")
    assert "filled ⇒ outcome" in industry and "train excludes it" in industry
    assert "filled ⇒ outcome" not in _line(out, "country")

    leads = open_store(uri).read("leads")
    open_leads = leads[leads["converted_at"].isna() & leads["lost_at"].isna()]
    converted = leads[leads["converted_at"].notna()]
    shown = industry.split()[1:6]  # converted% / lost% / open%
    assert shown[0] == f"{converted['industry'].notna().mean():.0%}"
    assert shown[4] == f"{open_leads['industry'].notna().mean():.0%}"


def test_nothing_is_flagged_when_fields_are_known_from_creation(tmp_path: Path) -> None:
    out, _ = _import(generate_crm(800, seed=4), tmp_path / "clean", "--dry-run")
    assert "fill rate by outcome" in out and "filled ⇒ outcome" not in out
