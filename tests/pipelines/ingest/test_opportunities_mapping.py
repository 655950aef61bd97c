"""An opportunities export with an accounts file imports through the shipped mapping alone:
lookups, conditional close dates, stage rows from date columns, attributes as features, and
``train`` on the result. The export is made by hand here (not by the generator)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models import configure, get_champion, load_pipeline
from pipelines.ingest import load_mapping, map_export
from pipelines.ingest.importer import validate_mapped
from pipelines.inputs import read_inputs
from pipelines.storage import open_store
from pipelines.synthetic import to_dialect
from scoring.cli import app

runner = CliRunner()
N = 900
PRODUCTS = ["Essentials", "Team", "Business", "Enterprise"]
SECTORS = {"software": "software", "finance": "financial_services", "medical": "healthcare"}
COUNTRIES = {"United States": "US", "Germany": "DE", "Philipines": "PH"}
EXPORT_END = pd.Timestamp("2026-08-01")


def accounts_file(rng: np.random.Generator) -> pd.DataFrame:
    n = 60
    return pd.DataFrame(
        {
            "account": [f"Account {i:02d}" for i in range(n)],
            "sector": rng.choice(list(SECTORS), n),
            "year_established": rng.integers(1950, 2020, n),
            "revenue": np.round(rng.lognormal(3, 1, n), 2),  # millions
            "employees": rng.integers(5, 5000, n),
            "office_location": rng.choice(list(COUNTRIES), n),
            "subsidiary_of": None,
        }
    )


def opportunities_file(rng: np.random.Generator) -> pd.DataFrame:
    engage = pd.Timestamp("2025-09-01") + pd.to_timedelta(rng.integers(0, 300, N), unit="D")
    product = rng.choice(PRODUCTS, N)
    p_win = np.select([product == "Enterprise", product == "Business"], [0.6, 0.35], 0.15)
    decided = engage + pd.to_timedelta(rng.integers(5, 90, N), unit="D")
    closed = decided < EXPORT_END
    stage = np.where(closed, np.where(rng.random(N) < p_win, "Won", "Lost"), "Engaging").astype(
        object
    )
    prospecting = rng.random(N) < 0.04  # never contacted: no date at all
    stage[prospecting] = "Prospecting"
    account = np.array([f"Account {i:02d}" for i in rng.integers(0, 60, N)], dtype=object)
    account[rng.random(N) < 0.1] = None
    account[:3] = "Ghost Corp"  # not in the accounts file
    day = lambda t: t.strftime("%Y-%m-%d")  # noqa: E731
    return pd.DataFrame(
        {
            "opportunity_id": [f"OPP{i:05d}" for i in range(N)],
            "account": account,
            "sales_agent": rng.choice(["Anna Snelling", "Moses Frase", "Boris Faz"], N),
            "product": product,
            "deal_stage": stage,
            "engage_date": np.where(prospecting, None, day(engage)),
            "close_date": np.where(np.isin(stage, ["Won", "Lost"]), day(decided), None),
            "close_value": np.where(
                stage == "Won",
                rng.integers(1000, 9000, N).astype(str),
                np.where(stage == "Lost", "0", None),
            ),
        }
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("opportunities")
    rng = np.random.default_rng(7)
    accounts, opportunities = accounts_file(rng), opportunities_file(rng)
    accounts.to_csv(root / "accounts.csv", index=False)
    opportunities.to_csv(root / "opportunities.csv", index=False)
    store = f"duckdb:///{root / 'crm.duckdb'}"
    result = runner.invoke(
        app,
        [
            "import",
            "--mapping",
            "opportunities",
            "--leads",
            str(root / "opportunities.csv"),
            "--lookup",
            f"accounts={root / 'accounts.csv'}",
            "--store",
            store,
        ],
        catch_exceptions=False,
    )
    return {"root": root, "store": store, "result": result, "export": opportunities}


def test_the_import_summary_counts_lookups_stage_rows_and_attributes(imported: dict) -> None:
    result, export = imported["result"], imported["export"]
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    stage = export["deal_stage"]
    prospecting = int((stage == "Prospecting").sum())
    assert f"leads: read {N}, loaded {N - prospecting}, quarantined {prospecting}" in out
    assert f"(created_at not_nullable: {prospecting})" in out
    with_key = int(export["account"].notna().sum())
    assert f"lookup accounts: {with_key - 3} of {N} leads rows matched" in out
    assert "3 rows have a key not in the accounts file (1 keys: 'Ghost Corp')" in out
    won, lost = int((stage == "Won").sum()), int((stage == "Lost").sum())
    engaged = N - prospecting
    assert (
        f"stage_history: {engaged + won + lost:,} rows from the leads file's dates "
        f"(contacted {engaged:,}, won {won:,}, lost {lost:,})"
    ) in out
    assert "outcome only, never features (leads): deal_stage" in out


def test_close_dates_become_the_outcome_their_stage_says(imported: dict) -> None:
    export = imported["export"].set_index("opportunity_id")
    leads = open_store(imported["store"]).read("leads").set_index("lead_id")
    stage = export.loc[leads.index, "deal_stage"]
    end_of_day = pd.to_datetime(export.loc[leads.index, "close_date"]).dt.tz_localize(
        "UTC"
    ) + pd.Timedelta(days=1, microseconds=-1)
    won, lost = stage.eq("Won"), stage.eq("Lost")
    assert won.sum() > 30 and lost.sum() > 30
    assert (leads.loc[won, "converted_at"] == end_of_day[won]).all()
    assert (leads.loc[lost, "lost_at"] == end_of_day[lost]).all()
    assert leads.loc[~won, "converted_at"].isna().all()
    assert leads.loc[~lost, "lost_at"].isna().all()
    value = pd.to_numeric(export.loc[leads.index, "close_value"])
    assert (leads.loc[won, "deal_value"] == value[won]).all()
    assert leads.loc[~won, "deal_value"].isna().all()  # a Lost row's 0 is not a deal
    created = pd.to_datetime(export.loc[leads.index, "engage_date"]).dt.tz_localize("UTC")
    assert (leads["created_at"] == created).all()
    # Firmographics come from the accounts file, translated.
    matched = leads["industry"].notna()
    assert matched.sum() > 700 and set(leads.loc[matched, "industry"]) <= set(SECTORS.values())
    assert set(leads["country"].dropna()) <= set(COUNTRIES.values())


def test_date_columns_become_stage_rows(imported: dict) -> None:
    export = imported["export"]
    stages = open_store(imported["store"]).read("stage_history")
    got = {(r.lead_id, r.stage, r.entered_at.date().isoformat()) for r in stages.itertuples()}
    expected = set()
    for r in export.itertuples():
        if r.engage_date is not None and not pd.isna(r.engage_date):
            expected.add((r.opportunity_id, "contacted", r.engage_date))
        if r.deal_stage in ("Won", "Lost"):
            expected.add((r.opportunity_id, r.deal_stage.lower(), r.close_date))
    assert got == expected and len(stages) == len(expected)


def test_attributes_are_stored_and_read_as_feature_inputs(imported: dict) -> None:
    store = open_store(imported["store"])
    attributes = store.read("lead_attributes")
    assert set(attributes["name"]) == {"product", "account_founded"}
    assert set(attributes.loc[attributes["name"] == "product", "value"]) == set(PRODUCTS)
    leads = read_inputs(store).leads
    assert set(leads["attr_product"]) == set(PRODUCTS)
    assert leads["attr_account_founded"].between(1950, 2020).sum() > 700


def test_train_runs_on_the_import_and_uses_the_attributes(imported: dict) -> None:
    tracking = f"sqlite:///{imported['root'] / 'mlflow.db'}"
    result = runner.invoke(app, ["train", "--store", imported["store"], "--tracking-uri", tracking])
    assert result.exit_code == 0, result.output
    assert re.search(r"trained lead-conversion v1", result.output), result.output
    configure(tracking)
    pipeline = load_pipeline(get_champion("lead-conversion"))
    features = set(pipeline.named_steps["features"].get_feature_names_out())
    assert {"attr_product", "attr_account_founded"} <= features


def test_the_generated_opportunities_export_maps_back_to_the_native_outcomes(
    small_crm: dict[str, pd.DataFrame],
) -> None:
    """The generator's own opportunities dialect (to_dialect) through the shipped mapping."""
    frames = to_dialect(small_crm, "opportunities")
    export = frames["opportunities"].astype(str).replace({"<NA>": None, "None": None, "nan": None})
    mapped = map_export(
        load_mapping("opportunities"), {"leads": export}, {"accounts": frames["accounts"]}
    )
    tables = validate_mapped(mapped)
    native = small_crm["leads"].reset_index(drop=True)
    leads = mapped.tables["leads"]  # row i is native lead i
    days = lambda s: pd.to_datetime(s, utc=True).dt.strftime("%Y-%m-%d")  # noqa: E731
    for column in ("converted_at", "lost_at"):
        assert (leads[column].isna() == native[column].isna()).all(), column
        has = native[column].notna()
        assert (days(leads.loc[has, column]) == days(native.loc[has, column])).all(), column
    prospecting = int((export["deal_stage"] == "Prospecting").sum())
    assert tables.rows_rejected == prospecting + int(
        (tables.rejected["lead_attributes"][1]["check"] == "lead_quarantined").sum()
    )
