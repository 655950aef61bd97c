"""How far a store's data reach: the latest value of a time column, without reading rows
where the store can say it cheaply (DuckDB, Parquet and PostgreSQL ask ``max``; CSV reads
the column)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from pipelines.storage.base import Store, check_name
from pipelines.storage.duckdb import DuckDBStore
from pipelines.storage.files import FileStore
from pipelines.timestamps import utc


def latest_time(store: Store, table: str, column: str) -> pd.Timestamp | None:
    """``max(column)`` of ``table`` as a UTC timestamp; None when the table is missing or
    the column empty.

    A store without a cheaper way (a CSV file), or a column held as text (a table written
    with unreadable values), is read and parsed; values that are not times
    are left out, as the contract would quarantine them.
    """
    check_name(table)
    check_name(column)
    if not store.exists(table):
        return None
    value: Any = _sql_max(store, table, column)
    if value is None:  # a column with no value at all
        return None
    if not isinstance(value, datetime):
        frame = store.read(table)
        if column not in frame.columns:
            return None
        times = frame[column]
        if not isinstance(times.dtype, pd.DatetimeTZDtype):
            times = pd.to_datetime(times, utc=True, format="ISO8601", errors="coerce")
        value = times.max()
    if value is None or pd.isna(value):
        return None
    return utc(pd.Timestamp(value))


def _sql_max(store: Store, table: str, column: str) -> Any:
    """``max(column)`` asked of DuckDB (a DuckDB store, a Parquet file) or of the PostgreSQL
    server; ``...`` when the store cannot be asked or the column is missing."""
    import duckdb

    server_max = getattr(store, "maximum", None)  # PostgreSQL's, without importing its driver
    if server_max is not None:
        return server_max(table, column)

    query = f'SELECT max("{column}") FROM '
    try:
        if isinstance(store, DuckDBStore):
            with store.connect(read_only=True) as con:
                return con.execute(query + f'"{table}"').fetchall()[0][0]
        if isinstance(store, FileStore) and _plain_parquet(store, table):
            with duckdb.connect() as memory:
                path = str(store.parquet_file(table))
                return memory.execute(query + "read_parquet(?)", [path]).fetchall()[0][0]
    except duckdb.BinderException:
        pass
    return ...


def _plain_parquet(store: FileStore, table: str) -> bool:
    """The table is one Parquet file (not CSV, not a partitioned dataset as well)."""
    path = store.parquet_file(table)
    return path is not None and path.is_file() and not (store.root / table).is_dir()
