"""Shared fixtures: seeded synthetic CRMs, temporary stores and MLflow tracking."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

SMALL_LEADS = 3000
SEED = 11


@pytest.fixture(scope="session")
def small_crm() -> dict[str, pd.DataFrame]:
    """A small synthetic CRM, the same for every test (do not mutate)."""
    from pipelines.synthetic import generate_crm

    return generate_crm(SMALL_LEADS, seed=SEED)


@pytest.fixture
def duckdb_uri(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'store.duckdb'}"


@pytest.fixture
def tracking(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture(scope="session")
def trained(
    tmp_path_factory: pytest.TempPathFactory, small_crm: dict[str, pd.DataFrame]
) -> dict[str, str]:
    """A DuckDB store holding ``small_crm`` and an MLflow registry with a champion trained on it.

    Tests that write must work on a copy of the store (see ``store_copy``).
    """
    from models import TrainConfig, train_model
    from pipelines.config import FeaturesConfig
    from pipelines.inputs import read_inputs, write_inputs
    from pipelines.storage import open_store

    root = tmp_path_factory.mktemp("trained")
    store_uri = f"duckdb:///{root / 'crm.duckdb'}"
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    store = open_store(store_uri)
    write_inputs(store, small_crm)
    train_model(read_inputs(store), TrainConfig(), FeaturesConfig(), tracking)
    return {"store": store_uri, "tracking": tracking, "path": str(root / "crm.duckdb")}


@pytest.fixture
def store_copy(trained: dict[str, str], tmp_path: Path) -> str:
    """A private copy of the trained fixture's store, free to write to."""
    import shutil

    target = tmp_path / "crm.duckdb"
    shutil.copy(trained["path"], target)
    return f"duckdb:///{target}"


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores, 4 shuffle partitions); skips without pyspark or Java."""
    from pipelines.spark import SparkUnavailable, spark_session

    conf = {
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.showConsoleProgress": "false",
        # Small jobs on a cold JVM: the C1 compiler alone ran test_spark_features.py about
        # a third faster on 2 cores (28 s vs 41 s); long jobs want the default compilers.
        # C1 alone reserves a 48 MB code cache, which the whole suite's generated code
        # filled in CI ("CodeCache is full", then every Spark test erred): reserve more.
        "spark.driver.extraJavaOptions": (
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m"
        ),
    }
    try:
        session = spark_session("local[2]", conf)
    except SparkUnavailable as err:  # no pyspark or no Java: CI has both, so fail there
        if os.environ.get("CI"):
            pytest.fail(f"the Spark tests must run in CI: {err}")
        pytest.skip(f"{err} (with CI set this test fails instead)")
    yield session
    session.stop()
