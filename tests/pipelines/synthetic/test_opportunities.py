"""The opportunities export: a B2B opportunities table with a separate accounts file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.synthetic import DIALECTS, EXPORT_FILES, to_dialect

OPPORTUNITY_COLUMNS = [
    "opportunity_id", "account", "sales_agent", "product", "deal_stage", "engage_date",
    "close_date", "close_value",
]  # fmt: skip
ACCOUNT_COLUMNS = [
    "account", "sector", "year_established", "revenue", "employees", "office_location",
    "subsidiary_of",
]  # fmt: skip
DATE = r"\d{4}-\d{2}-\d{2}"


@pytest.fixture(scope="module")
def export(small_crm: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The export written to CSV and read back as text, as a mapping would read it."""
    folder = tmp_path_factory.mktemp("opportunities")
    files = {}
    for table, frame in to_dialect(small_crm, "opportunities").items():
        path = Path(folder) / EXPORT_FILES["opportunities"][table]
        frame.to_csv(path, index=False)
        files[table] = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return files


def test_dialect_is_registered() -> None:
    assert "opportunities" in DIALECTS
    assert EXPORT_FILES["opportunities"] == {
        "opportunities": "opportunities.csv",
        "accounts": "accounts.csv",
    }


def test_columns_and_one_row_per_lead(export: dict, small_crm: dict) -> None:
    opportunities, accounts = export["opportunities"], export["accounts"]
    assert list(opportunities.columns) == OPPORTUNITY_COLUMNS
    assert list(accounts.columns) == ACCOUNT_COLUMNS
    assert len(opportunities) == len(small_crm["leads"])
    assert opportunities["opportunity_id"].str.fullmatch(r"[0-9A-Z]{8}").all()
    assert opportunities["opportunity_id"].is_unique
    assert accounts["account"].is_unique


def test_stages_dates_and_values_follow_the_outcomes(export: dict, small_crm: dict) -> None:
    opportunities, leads = export["opportunities"], small_crm["leads"]
    stage = opportunities["deal_stage"]
    assert set(stage) == {"Prospecting", "Engaging", "Won", "Lost"}
    won, lost = (stage == "Won").to_numpy(), (stage == "Lost").to_numpy()
    assert (won == leads["converted_at"].notna().to_numpy()).all()
    assert (lost == leads["lost_at"].notna().to_numpy()).all()
    won_dates = leads.loc[won, "converted_at"].dt.strftime("%Y-%m-%d").to_numpy()
    assert (opportunities.loc[won, "close_date"].to_numpy() == won_dates).all()
    lost_dates = leads.loc[lost, "lost_at"].dt.strftime("%Y-%m-%d").to_numpy()
    assert (opportunities.loc[lost, "close_date"].to_numpy() == lost_dates).all()
    value = opportunities["close_value"].astype(float)
    assert (value[won] == leads.loc[won, "deal_value"].round().to_numpy()).all()
    assert (value[lost] == 0).all() and value[~won & ~lost].isna().all()
    closed = won | lost
    assert opportunities.loc[~closed, "close_date"].isna().all()
    for column in ("engage_date", "close_date"):
        assert opportunities[column].dropna().str.fullmatch(DATE).all()
    prospecting = stage == "Prospecting"
    assert opportunities.loc[prospecting, "engage_date"].isna().all()
    assert opportunities.loc[~prospecting, "engage_date"].notna().all()
    engaged = pd.to_datetime(opportunities["engage_date"]).dt.date
    assert (engaged.dropna() >= leads.loc[engaged.notna(), "created_at"].dt.date).all()


def test_accounts_are_shared_and_open_deals_often_lack_one(export: dict) -> None:
    opportunities, accounts = export["opportunities"], export["accounts"]
    is_open = opportunities["deal_stage"].isin(["Prospecting", "Engaging"])
    without = opportunities.loc[is_open, "account"].isna().mean()
    assert 0.25 < without < 0.4
    assert opportunities.loc[~is_open, "account"].isna().mean() < 0.06  # company unknown
    assert set(opportunities["account"].dropna()) <= set(accounts["account"])
    per_account = opportunities["account"].value_counts()
    assert per_account.max() >= 5 and per_account.mean() > 1.5
    parents = accounts["subsidiary_of"].dropna()
    assert 0.05 < len(parents) / len(accounts) < 0.2 and set(parents) <= set(accounts["account"])
    assert accounts["year_established"].astype(int).between(1850, 2025).all()
    assert (accounts["revenue"].dropna().astype(float) < 1e5).all()  # millions
