"""``leadscore train --segment-by``: a bad column is one line and exit 2, before any fit."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scoring.cli import EXIT_BAD_INPUT, app

runner = CliRunner()


def test_a_column_that_is_not_a_model_input_is_exit_2(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    common = ["--store", store, "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
    made = runner.invoke(app, ["generate", "--leads", "1500", "--seed", "4", "--store", store])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["train", "--segment-by", "owner_team", *common])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "--segment-by: owner_team is not a model input; choose among" in result.output
    assert "source" in result.output
    assert not (tmp_path / "mlartifacts").exists()  # stopped before anything was logged


def test_segment_by_is_not_for_flat_mode(tmp_path: Path) -> None:
    flat = tmp_path / "flat.csv"
    flat.write_text("id,x,y\n1,2,0\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "--flat", str(flat), "--segment-by", "x"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--segment-by goes with point-in-time training" in result.output
