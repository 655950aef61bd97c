"""Every store reads back what it wrote, replaces a date atomically, and locks runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.contracts import validate_table
from pipelines.storage import StoreError, StoreLocked, TableNotFound, open_store


def _scores(day: str, ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(day, tz="UTC"),
            "lead_id": ids,
            "probability": [0.5] * len(ids),
        }
    ).astype({"as_of": "datetime64[us, UTC]"})


@pytest.fixture(params=["duckdb", "parquet", "csv"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    kind = request.param
    target = tmp_path / ("s.duckdb" if kind == "duckdb" else "dir")
    return open_store(f"{kind}:///{target}")


def test_round_trip_through_the_contract(store, small_crm: dict[str, pd.DataFrame]) -> None:
    leads = small_crm["leads"].head(200)
    store.write("leads", leads)
    back = validate_table("leads", store.read("leads"))
    pd.testing.assert_frame_equal(
        back.reset_index(drop=True), leads.reset_index(drop=True), check_dtype=True
    )


def test_replace_partition_replaces_only_that_date(store) -> None:
    store.replace_partition(
        "lead_scores",
        _scores("2026-01-01", ["a", "b"]),
        "as_of",
        pd.Timestamp("2026-01-01", tz="UTC"),
    )
    store.replace_partition(
        "lead_scores",
        _scores("2026-01-02", ["a", "b", "c"]),
        "as_of",
        pd.Timestamp("2026-01-02", tz="UTC"),
    )
    store.replace_partition(
        "lead_scores", _scores("2026-01-01", ["z"]), "as_of", pd.Timestamp("2026-01-01", tz="UTC")
    )
    back = store.read("lead_scores")
    back["as_of"] = pd.to_datetime(back["as_of"], utc=True, format="ISO8601")
    by_day = back.groupby(back["as_of"].dt.strftime("%Y-%m-%d"))["lead_id"].apply(sorted).to_dict()
    assert by_day == {"2026-01-01": ["z"], "2026-01-02": ["a", "b", "c"]}


def test_missing_table_is_a_clear_error(store) -> None:
    assert not store.exists("leads")
    with pytest.raises(TableNotFound, match="no table 'leads'"):
        store.read("leads")


def test_lock_stops_a_second_run(store) -> None:
    with (
        store.lock("scoring"),
        pytest.raises(StoreLocked, match="another 'scoring' run"),
        store.lock("scoring"),
    ):
        pass
    with store.lock("scoring"):  # released after the first run
        pass


def test_unknown_uri_is_rejected() -> None:
    with pytest.raises(StoreError, match="unknown store URI"):
        open_store("mysql://x")
    with pytest.raises(StoreError, match="expected duckdb:///"):
        open_store("duckdb://relative.duckdb")


def test_bad_table_name_is_rejected(store) -> None:
    with pytest.raises(StoreError, match="invalid table name"):
        store.write("leads; drop table x", pd.DataFrame({"a": [1]}))
