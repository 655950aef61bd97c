"""An import replaces the lead_attributes rows of the leads it loads, and keeps the others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.ingest import Mapping, import_exports
from pipelines.storage import open_store

COLUMNS = {"ID": "lead_id", "Created": "created_at"}


def import_file(tmp_path: Path, store_uri: str, rows: dict, attributes: dict) -> dict:
    path = tmp_path / "leads.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    mapping = Mapping.model_validate(
        {"tables": {"leads": {"columns": COLUMNS, "attributes": attributes}}}
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
