"""The store keeps its own facts (id, data origin) in one key/value table."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.storage import open_store, read_metadata, store_id, write_metadata


@pytest.fixture(params=["duckdb", "parquet", "csv"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    kind = request.param
    target = tmp_path / ("crm.duckdb" if kind == "duckdb" else "crm")
    return open_store(f"{kind}:///{target}")


def test_a_new_store_has_no_metadata_and_creates_none_on_read(store) -> None:
    assert read_metadata(store) == {}
    assert store_id(store, create=False) is None
    assert read_metadata(store) == {}


def test_store_id_is_given_once_and_kept(store) -> None:
    first = store_id(store)
    assert first and len(first) == 12
    assert store_id(store) == first
    assert open_store(store.uri) is not store
    assert store_id(open_store(store.uri)) == first


def test_writing_a_key_keeps_the_others(store) -> None:
    given = store_id(store)
    write_metadata(store, data_origin="imported")
    write_metadata(store, data_origin="generated")
    assert read_metadata(store) == {"store_id": given, "data_origin": "generated"}
