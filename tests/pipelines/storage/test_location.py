"""A store is checked without creating anything, and its registry file is named after it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.storage import StoreNotFound, open_store, registry_file, require_store


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("duckdb:///{root}/nope/x.duckdb", "does not exist (no file"),
        ("parquet:///{root}/nope", "does not exist (no directory"),
        ("csv:///{root}/nope", "does not exist (no directory"),
    ],
)
def test_a_missing_store_is_named_and_nothing_is_created(
    uri: str, says: str, tmp_path: Path
) -> None:
    store = open_store(uri.format(root=tmp_path))
    with pytest.raises(StoreNotFound, match=r"does not exist") as err:
        require_store(store)
    assert says in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_store_without_leads_holds_no_crm(tmp_path: Path) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'x.duckdb'}")
    store.write("other", pd.DataFrame({"a": [1]}))
    with pytest.raises(StoreNotFound, match="holds no CRM"):
        require_store(store)
    store.write("leads", pd.DataFrame({"lead_id": ["a"]}))
    require_store(store)


def test_registry_files_sit_beside_their_store(tmp_path: Path) -> None:
    assert registry_file(open_store("duckdb:///data/leadscore.duckdb")) == Path(
        "data/leadscore.mlflow.db"
    )
    assert registry_file(open_store(f"parquet:///{tmp_path}")) == tmp_path / "mlflow.db"
    assert not (tmp_path / "mlflow.db").exists()
