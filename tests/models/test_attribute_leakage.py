"""Custom attributes go through the same leakage checks as every other input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.config import TrainConfig
from models.training import build_training_frame, fit_lightgbm
from pipelines import fill_rate_report, leaking_columns
from pipelines.config import FeaturesConfig
from pipelines.features import model_input
from pipelines.inputs import CrmTables, validate_inputs


def with_attribute_rows(crm: dict[str, pd.DataFrame]) -> CrmTables:
    """Three attributes: an honest one, the outcome itself, one filled in at close."""
    leads = crm["leads"]
    rng = np.random.default_rng(0)
    won = leads["converted_at"].notna()
    closed = won | leads["lost_at"].notna()
    honest = pd.DataFrame(
        {"lead_id": leads["lead_id"], "name": "region", "kind": "category"}
    ).assign(value=rng.choice(["north", "south", "east"], len(leads)))
    outcome = pd.DataFrame(
        {"lead_id": leads["lead_id"], "name": "deal_status", "kind": "category"}
    ).assign(value=np.where(won, "closed won", np.where(closed, "closed lost", "open")))
    at_close = pd.DataFrame(
        {"lead_id": leads["lead_id"][closed], "name": "contract_pages", "kind": "number"}
    ).assign(value=rng.integers(1, 30, int(closed.sum())).astype(str))
    rows = pd.concat([honest, outcome, at_close], ignore_index=True)
    return validate_inputs({**crm, "lead_attributes": rows})


@pytest.fixture(scope="module")
def tables(small_crm: dict[str, pd.DataFrame]) -> CrmTables:
    return with_attribute_rows(dict(small_crm))


def test_an_attribute_filled_at_close_is_flagged_by_the_fill_rate_check(
    tables: CrmTables,
) -> None:
    report = fill_rate_report(tables.leads)
    assert "attr_contract_pages" in leaking_columns(report)
    flagged = report[report["column"].str.startswith("attr_")]
    assert set(flagged.loc[flagged["action"] != "ok", "column"]) == {"attr_contract_pages"}
    assert set(flagged["family"]) == {"attributes"}


def test_an_attribute_that_is_the_outcome_is_dropped_by_the_single_feature_check(
    tables: CrmTables,
) -> None:
    train_cfg, features_cfg = TrainConfig(), FeaturesConfig()
    assert "attributes" in train_cfg.families  # on by default
    frame, _ = build_training_frame(tables, train_cfg, features_cfg)
    train = frame[frame["fold"] == "train"]
    X = model_input(train)
    assert {"attr_region", "attr_deal_status", "attr_contract_pages"} <= set(X.columns)
    pipeline, _, report = fit_lightgbm(
        train_cfg, features_cfg, X, train["label"].to_numpy(), None, None
    )
    flagged = dict(zip(report["feature"], report["action"], strict=True))
    assert flagged.get("attr_deal_status") == "drop", report
    assert "attr_region" not in flagged
    used = pipeline.named_steps["select"].get_feature_names_out()
    assert "attr_deal_status" not in used and "attr_region" in used
