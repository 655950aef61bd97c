"""The optional lead_attributes table: checks, model-input columns, reads, stale tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.attributes import split_attributes, with_attributes
from pipelines.contracts import ContractError
from pipelines.features import build_feature_frame, build_snapshots
from pipelines.inputs import read_inputs, write_inputs
from pipelines.storage import open_store
from pipelines.synthetic import generate_crm


def attributes(*rows: tuple[str, str, str | None, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lead_id", "name", "value", "kind"], dtype=object)


def test_bad_rows_are_rejected_with_a_reason_and_unknown_leads_left_out() -> None:
    raw = attributes(
        ("a", "product", "Team", "category"),
        ("a", "Product Line", "x", "category"),  # bad name
        ("a", "seats", "12", "integer"),  # unknown kind
        ("b", "seats", "twelve", "number"),  # not a number
        ("b", "product", "Team", "category"),
        ("b", "product", "Business", "category"),  # twice for one lead
        ("zz", "product", "Team", "category"),  # no such lead: ignored, no reason
        ("b", "x" * 41, "1", "number"),  # a name over 40 characters
    )
    valid, rejected = split_attributes(raw, pd.Series(["a", "b"]))
    assert valid[["lead_id", "name", "value"]].values.tolist() == [
        ["a", "product", "Team"],
        ["b", "product", "Team"],
    ]
    reasons = sorted((r.row_index, r.column, r.check.split("(")[0]) for r in rejected.itertuples())
    assert [(i, c) for i, c, _ in reasons] == [
        (1, "name"),
        (2, "kind"),
        (3, "value"),
        (5, "name"),
        (7, "name"),
    ]
    assert {i: check for i, _, check in reasons}[3] == "parse_number"
    assert {i: check for i, _, check in reasons}[5] == "unique_per_lead"
    with pytest.raises(ContractError, match="column 'kind'"):
        split_attributes(raw.drop(columns="kind"), pd.Series(["a"]))


def test_each_kind_becomes_its_own_model_input_column() -> None:
    leads = pd.DataFrame({"lead_id": ["a", "b", "c"], "company": ["A", "B", "C"]})
    rows = attributes(
        ("a", "product", "Team", "category"),
        ("b", "product", "Business", "category"),
        ("a", "seats", "12.5", "number"),
        ("b", "landing_page", "pricing for teams", "text"),
        ("c", "landing_page", None, "text"),
    )
    out = with_attributes(leads, rows)
    assert list(out.columns) == [
        "lead_id",
        "company",
        "attr_landing_page_words",
        "attr_product",
        "attr_seats",
    ]
    assert out["attr_product"].tolist() == ["Team", "Business", None]
    assert out["attr_seats"].dtype == np.float64 and out["attr_seats"].tolist()[0] == 12.5
    # Text reaches the model as its word count only.
    assert out["attr_landing_page_words"].isna().tolist() == [True, False, True]
    assert out["attr_landing_page_words"].iloc[1] == 3.0
    assert with_attributes(leads, None) is leads


def test_reads_add_attribute_columns_and_a_new_crm_clears_stale_ones(tmp_path: object) -> None:
    store = open_store(f"duckdb:///{tmp_path}/crm.duckdb")
    crm = generate_crm(60, seed=3)
    write_inputs(store, crm)
    ids = crm["leads"]["lead_id"]
    rows = attributes(
        *((i, "region", "north" if k % 2 else "south", "category") for k, i in enumerate(ids))
    )
    store.write("lead_attributes", rows)
    tables = read_inputs(store)
    assert tables.leads["attr_region"].value_counts().to_dict() == {"south": 30, "north": 30}
    assert tables.rows_rejected == 0
    write_inputs(store, generate_crm(60, seed=4))  # what `generate` does
    assert store.count("lead_attributes") == 0
    assert "attr_region" not in read_inputs(store).leads.columns


def test_an_attribute_is_a_feature_at_t_only_for_leads_created_before_t() -> None:
    crm = generate_crm(300, seed=23)
    leads = crm["leads"]
    at = pd.Timestamp("2026-04-06", tz="UTC")
    rows = attributes(
        *((i, "region", f"r{k % 3}", "category") for k, i in enumerate(leads["lead_id"]))
    )
    with_region = with_attributes(leads, rows)
    snapshots = build_snapshots(with_region, [at])
    frame = build_feature_frame(with_region, crm["activities"], crm["stage_history"], snapshots)
    created = leads.set_index("lead_id")["created_at"]
    assert len(frame) > 30 and (created[frame["lead_id"]] < at).all()
    later = set(leads.loc[leads["created_at"] >= at, "lead_id"])
    assert later and not later & set(frame["lead_id"])  # created at or after T: not there
    region = rows.set_index("lead_id")["value"]
    assert frame["attr_region"].tolist() == region[frame["lead_id"]].tolist()
