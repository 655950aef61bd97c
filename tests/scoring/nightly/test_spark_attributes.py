"""A model trained with custom attributes scores the same on Spark as on the embedded engine,
also when the store lacks an attribute the model knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models import TrainConfig, train_model
from pipelines.config import FeaturesConfig
from pipelines.inputs import read_inputs, write_inputs
from pipelines.spark import training_tables_spark
from pipelines.storage import open_store
from pipelines.synthetic import generate_crm
from scoring.cli import app

# Slow: a training run and four scoring runs, two on Spark (8 minutes on a busy 2-core box).
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
AS_OF = pd.Timestamp("2026-10-15", tz="UTC")
runner = CliRunner()


def attribute_rows(leads: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    won = leads["converted_at"].notna().to_numpy()
    # A product that says a little about conversion, a number, and one bad row.
    product = np.where(rng.random(len(leads)) < 0.3 + 0.3 * won, "Enterprise", "Team")
    rows = [
        pd.DataFrame({"lead_id": leads["lead_id"], "name": "product", "value": product}).assign(
            kind="category"
        ),
        pd.DataFrame(
            {"lead_id": leads["lead_id"], "name": "seats", "value": rng.integers(1, 99, len(leads))}
        ).assign(kind="number", value=lambda f: f["value"].astype(str)),
        pd.DataFrame(
            {"lead_id": [leads["lead_id"].iloc[0]], "name": ["Bad Name"], "value": ["x"]}
        ).assign(kind="category"),
    ]
    return pd.concat(rows, ignore_index=True)


def _stores(root: Path, crm: dict, attributes: pd.DataFrame, name: str) -> dict[str, str]:
    uris = {
        "embedded": f"duckdb:///{root / f'{name}.duckdb'}",
        "spark": f"parquet:///{root / name}",
    }
    for uri in uris.values():
        store = open_store(uri)
        write_inputs(store, crm)
        store.write("lead_attributes", attributes)
    return uris


def _scores(store: str, tracking: str, *extra: str) -> pd.DataFrame:
    args = ["score", "--as-of", str(AS_OF.date()), "--store", store, "--tracking-uri", tracking]
    result = runner.invoke(app, [*args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scores = open_store(store).read("lead_scores")
    return scores.sort_values("lead_id", ignore_index=True)


@pytest.fixture(scope="module")
def setup(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("spark-attributes")
    crm = generate_crm(1500, seed=5)
    attributes = attribute_rows(crm["leads"])
    full = _stores(root, crm, attributes, "full")
    without_seats = _stores(root, crm, attributes[attributes["name"] != "seats"], "partial")
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    tables = read_inputs(open_store(full["embedded"]))
    train_model(tables, TrainConfig(), FeaturesConfig(), tracking)
    return {"spark": spark, "full": full, "partial": without_seats, "tracking": tracking}


@pytest.mark.parametrize("stores", ["full", "partial"])
def test_spark_scores_an_attributes_model_as_the_embedded_engine(setup: dict, stores: str) -> None:
    uris = setup[stores]
    ours = _scores(uris["embedded"], setup["tracking"])
    theirs = _scores(uris["spark"], setup["tracking"], "--engine", "spark")
    assert len(theirs) == len(ours) > 100
    np.testing.assert_allclose(theirs["probability"], ours["probability"], rtol=0, atol=1e-9)
    bad = open_store(uris["spark"]).read("quarantine")
    assert bad.loc[bad["table_name"] == "lead_attributes", "column"].tolist() == ["name"]


def test_spark_training_reads_the_attributes_as_the_embedded_path(setup: dict) -> None:
    uris = setup["full"]
    ours = read_inputs(open_store(uris["embedded"])).leads
    theirs = training_tables_spark(setup["spark"], uris["spark"]).leads
    columns = ["lead_id", "attr_product", "attr_seats"]
    pd.testing.assert_frame_equal(theirs[columns], ours[columns])
