"""An import replaces the lead_attributes rows of the leads it loads, and keeps the others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest import ImportRefused, LoadOptions, Mapping, import_exports
from pipelines.storage import open_store

COLUMNS = {"ID": "lead_id", "Created": "created_at"}


def import_file(
    tmp_path: Path, store_uri: str, rows: dict, attributes: dict, **leads: object
) -> dict:
    path = tmp_path / "leads.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    mapping = Mapping.model_validate(
        {"tables": {"leads": {"columns": COLUMNS, "attributes": attributes, **leads}}}
    )
    report = import_exports(mapping, {"leads": path}, open_store(store_uri))
    return {t: (report.rows_read[t], report.rows_loaded[t]) for t in report.rows_read}


def test_an_import_replaces_the_attributes_of_the_leads_it_loads(tmp_path: Path) -> None:
    store_uri = f"duckdb:///{tmp_path / 's.duckdb'}"
    store = open_store(store_uri)
    old = pd.DataFrame(
        {
            "lead_id": ["a", "a", "gone"],
            "name": ["product", "region", "product"],
            "value": ["Team", "north", "Team"],
            "kind": ["category", "category", "category"],
        }
    )
    store.write("lead_attributes", old)
    counts = import_file(
        tmp_path,
        store_uri,
        {"ID": ["a", "b"], "Created": ["2026-01-05", "2026-01-06"], "Product": ["Business", None]},
        {"product": {"column": "Product", "kind": "category"}},
    )
    assert counts["lead_attributes"] == (1, 1)
    rows = store.read("lead_attributes").sort_values(["lead_id", "name"])
    # Lead a's old region is gone with its old product; a lead not loaded keeps its rows.
    assert rows[["lead_id", "name", "value"]].values.tolist() == [
        ["a", "product", "Business"],
        ["gone", "product", "Team"],
    ]
    counts = import_file(
        tmp_path, store_uri, {"ID": ["a"], "Created": ["2026-01-05"]}, attributes={}
    )
    assert "lead_attributes" not in counts
    assert store.read("lead_attributes")["lead_id"].tolist() == ["gone"]


def test_a_duplicated_lead_keeps_the_attributes_and_stage_rows_of_the_copy_it_keeps(
    tmp_path: Path,
) -> None:
    store_uri = f"duckdb:///{tmp_path / 's.duckdb'}"
    rows = {
        "ID": ["a", "a", "b"],
        "Created": ["2026-01-05", "2026-01-09", "2026-01-06"],  # the second a is newer
        "Product": ["Team", "Business", "Team"],
        "Won": ["2026-02-01", "2026-03-01", None],
    }
    counts = import_file(
        tmp_path,
        store_uri,
        rows,
        {"product": {"column": "Product", "kind": "category"}},
        stage_entries=[{"column": "Won", "stage": "won"}],
    )
    assert counts["lead_attributes"] == (3, 2) and counts["stage_history"] == (2, 1)
    store = open_store(store_uri)
    stored = store.read("lead_attributes").set_index("lead_id")["value"]
    assert stored.to_dict() == {"a": "Business", "b": "Team"}
    stages = store.read("stage_history")
    assert stages["entered_at"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-01"]
    quarantine = store.read("quarantine")
    checks = quarantine.groupby("table_name")["check"].apply(list).to_dict()
    assert checks == {
        "leads": ["superseded_duplicate"],
        "lead_attributes": ["superseded_duplicate"],
        "stage_history": ["superseded_duplicate"],
    }


def test_a_mapping_without_attributes_cannot_silently_drop_the_stored_ones(
    tmp_path: Path,
) -> None:
    store_uri = f"duckdb:///{tmp_path / 's.duckdb'}"
    rows = {"ID": list("abcd"), "Created": ["2026-01-05"] * 4, "Product": ["Team"] * 4}
    import_file(tmp_path, store_uri, rows, {"product": {"column": "Product", "kind": "category"}})
    store = open_store(store_uri)
    before = store.read("lead_attributes")
    with pytest.raises(ImportRefused, match=r"lead_attributes would be emptied \(4 → 0 rows"):
        import_file(tmp_path, store_uri, rows, attributes={})
    pd.testing.assert_frame_equal(store.read("lead_attributes"), before)
    path = tmp_path / "leads.csv"
    mapping = Mapping.model_validate({"tables": {"leads": {"columns": COLUMNS}}})
    report = import_exports(
        mapping, {"leads": path}, store, options=LoadOptions(replace=True)
    )  # on purpose: accepted
    assert report.written and store.read("lead_attributes").empty
