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
