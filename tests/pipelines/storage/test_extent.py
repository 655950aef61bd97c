"""How far a store's data reach, asked cheaply and read robustly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.inputs import stored_data_end, validate_inputs, write_inputs
from pipelines.storage import latest_time, open_store


@pytest.fixture(params=["duckdb", "parquet", "csv"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    kind = request.param
    return open_store(f"{kind}:///{tmp_path / ('s.duckdb' if kind == 'duckdb' else 'dir')}")


def test_latest_time_of_typed_text_and_empty_columns(store) -> None:  # noqa: ANN001
    store.write(
        "t",
        pd.DataFrame(
            {
                "typed": pd.to_datetime(
                    ["2026-01-01", "2026-03-01T10:00"], utc=True, format="ISO8601"
                ),
                "empty": pd.Series([None, None], dtype="datetime64[us, UTC]"),
                "text": ["2026-05-01T08:00:00+02:00", "not a date"],  # the bad value is skipped
            }
        ),
    )
    assert latest_time(store, "t", "typed") == pd.Timestamp("2026-03-01 10:00", tz="UTC")
    assert latest_time(store, "t", "empty") is None
    assert latest_time(store, "t", "text") == pd.Timestamp("2026-05-01 06:00", tz="UTC")
    assert latest_time(store, "t", "no_such_column") is None
    assert latest_time(store, "no_such_table", "typed") is None


def test_stored_data_end_agrees_with_the_validated_tables(
    store,
    small_crm: dict[str, pd.DataFrame],  # noqa: ANN001
) -> None:
    assert stored_data_end(store) is None
    write_inputs(store, dict(small_crm))
    assert stored_data_end(store) == validate_inputs(dict(small_crm)).data_end()
