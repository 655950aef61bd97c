"""``leadscore generate``'s options that shape the CRM like real exports (issue 16, 19)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.storage import open_store
from pipelines.synthetic import DEFAULT_END, generate_crm, oracle_T
from scoring.cli import EXIT_BAD_INPUT, app

runner = CliRunner()
LEADS, SEED = 1500, 5


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_options_reach_the_generator_and_the_latent_table_the_oracle(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    out = invoke(
        "generate", "--leads", str(LEADS), "--seed", str(SEED), "--store", store,
        "--history-days", "270", "--fill-on-close", "industry, employees", "--period-shift",
        "--segment-drivers", "--with-latent",
    )  # fmt: skip
    assert "synthetic_latent" in out
    expected = generate_crm(
        LEADS, SEED, history_days=270, fill_on_close=("industry", "employees"),
        period_shift=True, segment_drivers=True, with_latent=True,
    )  # fmt: skip
    target = open_store(store)
    leads = target.read("leads")
    assert leads["created_at"].min() >= DEFAULT_END - pd.Timedelta(days=270)
    pd.testing.assert_series_equal(
        leads["lead_id"].astype(str), expected["leads"]["lead_id"].astype(str)
    )
    closed = leads["converted_at"].notna() | leads["lost_at"].notna()
    assert leads.loc[closed, "employees"].notna().all()
    assert leads.loc[~closed, "employees"].isna().mean() > 0.5
    at = pd.Timestamp("2026-06-01", tz="UTC")
    pd.testing.assert_frame_equal(
        oracle_T(target.read("synthetic_latent"), leads, at),
        oracle_T(expected["latent"], expected["leads"], at),
        check_dtype=False,
    )


def test_without_options_the_crm_is_the_default_one(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    invoke("generate", "--leads", "300", "--seed", "1", "--store", store)
    target = open_store(store)
    assert not target.exists("synthetic_latent")
    expected = generate_crm(300, 1)["activities"]
    assert len(target.read("activities")) == len(expected)


def test_a_column_that_cannot_be_filled_on_close_is_exit_2(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    result = runner.invoke(
        app, ["generate", "--leads", "300", "--store", store, "--fill-on-close", "lead_id"]
    )
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--fill-on-close: lead_id cannot be filled on close" in result.output
    assert not open_store(store).exists("leads")


def test_accounts_in_a_separate_file_with_a_short_history(tmp_path: Path) -> None:
    """The opportunities dialect: firmographics in accounts.csv, keyed by account name."""
    invoke(
        "generate", "--leads", "800", "--seed", "2", "--dialect", "opportunities",
        "--out", str(tmp_path), "--history-days", "270", "--with-latent",
    )  # fmt: skip
    opportunities = pd.read_csv(tmp_path / "opportunities.csv")
    accounts = pd.read_csv(tmp_path / "accounts.csv")
    assert len(opportunities) == 800 and accounts["account"].is_unique
    assert set(opportunities["account"].dropna()) <= set(accounts["account"])
    engaged = pd.to_datetime(opportunities["engage_date"].dropna())
    assert engaged.min() >= pd.Timestamp("2026-02-04")  # 270 days before the export
    assert len(pd.read_csv(tmp_path / "synthetic_latent.csv")) >= 800


def test_a_latent_table_of_an_earlier_crm_is_emptied(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'crm.duckdb'}"
    invoke("generate", "--leads", "300", "--seed", "1", "--store", store, "--with-latent")
    assert len(open_store(store).read("synthetic_latent")) >= 300
    invoke("generate", "--leads", "300", "--seed", "2", "--store", store)
    target = open_store(store)
    assert len(target.read("synthetic_latent")) == 0
    with pytest.raises(ValueError, match="no latent state"):
        oracle_T(target.read("synthetic_latent"), target.read("leads"), "2026-06-01")
