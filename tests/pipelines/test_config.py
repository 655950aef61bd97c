"""Shipped configs load to the documented defaults; a typo is an error naming the key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.config import TrainConfig
from pipelines.config import ConfigError, FeaturesConfig, load_config
from pipelines.ingest import ImportSettings
from scoring.config import ScoringConfig
from scoring.qualify import qualify
from tests.paths import CONFIGS


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (FeaturesConfig, "features"),
        (TrainConfig, "train"),
        (ScoringConfig, "scoring"),
        (ImportSettings, "import"),
    ],
)
def test_shipped_configs_are_the_defaults(model: type, name: str) -> None:
    assert load_config(model, name, CONFIGS) == model()


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text("lightgbm:\n  n_estimator: 10\n")
    with pytest.raises(
        ConfigError, match=r"train.yaml: lightgbm.n_estimator: Extra inputs are not permitted"
    ):
        load_config(TrainConfig, "train", tmp_path)


def test_wrong_type_and_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / "scoring.yaml").write_text("grades:\n  A: high\n")
    with pytest.raises(ConfigError, match=r"grades.A"):
        load_config(ScoringConfig, "scoring", tmp_path)
    (tmp_path / "scoring.yaml").write_text("grades: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(ScoringConfig, "scoring", tmp_path)
    (tmp_path / "scoring.yaml").write_text("grades:\n  A: 10\n  B: 20\n  C: 5\n")
    with pytest.raises(ConfigError, match="A >= B >= C"):
        load_config(ScoringConfig, "scoring", tmp_path)


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(FeaturesConfig, "features", tmp_path) == FeaturesConfig()


def test_a_rule_naming_an_unknown_column_is_a_config_error() -> None:
    from scoring.config import QualificationRule

    rules = (QualificationRule(name="recycle", when="eng_days_since_lsat > 60"),)
    with pytest.raises(ConfigError, match="eng_days_since_lsat"):
        qualify(pd.DataFrame({"eng_days_since_last": [1.0]}), rules, "nurture")
