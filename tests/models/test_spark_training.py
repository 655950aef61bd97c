"""``train --engine spark``: the same training frame, with the events left in Spark."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import TrainConfig
from models.training import build_training_frame
from pipelines.config import FeaturesConfig
from pipelines.inputs import read_inputs, write_inputs
from pipelines.storage import open_store
from pipelines.synthetic import generate_crm
from scoring.cli import app

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = f"parquet:///{tmp_path_factory.mktemp('spark-training') / 'crm'}"
    write_inputs(open_store(uri), generate_crm(1200, seed=5))
    return uri


def test_the_training_frame_is_the_same_on_spark(spark, store: str) -> None:  # noqa: ANN001
    from pipelines.spark.features import build_feature_frame_spark
    from pipelines.spark.inputs import training_tables_spark

    embedded = read_inputs(open_store(store))
    on_spark = training_tables_spark(spark, store)
    assert not isinstance(on_spark.activities, pd.DataFrame)  # the events stay in Spark
    by_id = embedded.leads.sort_values("lead_id", ignore_index=True)
    pd.testing.assert_frame_equal(on_spark.leads, by_id)  # the same rows, ordered by id
    assert on_spark.data_end() == embedded.data_end()
    assert on_spark.raw_counts == embedded.raw_counts
    cfg, features = TrainConfig(), FeaturesConfig()
    expected, folds = build_training_frame(embedded, cfg, features)
    builder = functools.partial(build_feature_frame_spark, spark)
    got, spark_folds = build_training_frame(on_spark, cfg, features, build_features=builder)
    assert spark_folds == folds and len(expected) > 1000
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-9)


def test_train_command_on_spark(spark, store: str, tmp_path: Path) -> None:  # noqa: ANN001
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["train", "--engine", "spark", "--store", store, "--tracking-uri", tracking]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "lead-conversion v1" in result.output and "@champion" in result.output
