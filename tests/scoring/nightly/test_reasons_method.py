"""The nightly list is the same whichever way the contributions are computed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from models import compiled_tables, configure, get_champion, load_pipeline
from pipelines.config import ConfigError, FeaturesConfig, load_config
from pipelines.storage import open_store
from scoring.config import ScoringConfig
from scoring.nightly.embedded import run_scoring

AS_OF = pd.Timestamp("2026-10-15", tz="UTC")


def test_exact_and_pred_contrib_give_the_same_list(trained: dict[str, str], tmp_path: Path) -> None:
    configure(trained["tracking"])
    lists = {}
    for method in ("exact", "pred_contrib"):
        shutil.copy(trained["path"], tmp_path / f"{method}.duckdb")
        store = open_store(f"duckdb:///{tmp_path / method}.duckdb")
        cfg = ScoringConfig.model_validate({"reasons": {"method": method}})
        run_scoring(store, AS_OF, cfg, FeaturesConfig())
        scores = store.read("lead_scores").drop(columns="run_id")
        lists[method] = scores.sort_values("lead_id").reset_index(drop=True)
    assert len(lists["exact"]) > 500
    pd.testing.assert_frame_equal(lists["exact"], lists["pred_contrib"])


def test_exact_is_the_shipped_default_and_a_typo_is_an_error(tmp_path: Path) -> None:
    from tests.paths import REPO

    assert load_config(ScoringConfig, "scoring", REPO / "configs").reasons.method == "exact"
    assert ScoringConfig().reasons.method == "exact"
    (tmp_path / "scoring.yaml").write_text("reasons:\n  method: shap\n")
    with pytest.raises(ConfigError, match="reasons.method"):
        load_config(ScoringConfig, "scoring", tmp_path)


def test_the_champion_compiles_once_per_loaded_model(trained: dict[str, str]) -> None:
    from models import booster_of

    configure(trained["tracking"])
    booster = booster_of(load_pipeline(get_champion("lead-conversion"))).booster_
    tables = compiled_tables(booster)
    assert tables is not None and tables.compile_seconds < 30
    assert compiled_tables(booster) is tables
