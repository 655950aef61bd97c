"""How frames travel to and from PostgreSQL: as CSV rendered and parsed by Arrow, through
``COPY``. Arrow quotes every string and writes NULL as an unquoted empty field, as
PostgreSQL expects; naive timestamps are UTC."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from pipelines.storage.base import StoreError

__all__ = ["READ_TYPES", "copy_frame", "parse_csv", "pg_type", "to_arrow"]

BATCH_ROWS = 100_000
READ_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "bigint": pa.int64(),
    "integer": pa.int64(),
    "smallint": pa.int64(),
    "double precision": pa.float64(),
    "real": pa.float64(),
    "numeric": pa.float64(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us", tz="UTC"),  # read as UTC
    "date": pa.timestamp("us", tz="UTC"),
}
PANDAS_TYPES = {pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype()}


def pg_type(name: str, column: pd.Series) -> str:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamptz"
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "text"
    raise StoreError(f"column '{name}': no PostgreSQL type for dtype {dtype}")


def to_arrow(df: pd.DataFrame, types: dict[str, str]) -> pa.Table:
    """Arrow table of ``df``: text as strings, timestamps as naive UTC microseconds.

    Naive timestamps are read as UTC. Arrow writes zoned timestamps to CSV ~20x slower
    than naive ones, so the zone is dropped here and every session runs in UTC.
    """
    columns = {}
    for name, pg_type in types.items():
        column = df[name]
        if pg_type == "text":
            column = column.astype(pd.StringDtype("pyarrow"))
        elif pg_type == "timestamptz" and column.dt.tz is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        array = pa.Array.from_pandas(column)
        columns[name] = (
            array.cast(pa.timestamp("us"), safe=False) if pg_type == "timestamptz" else array
        )
    return pa.table(columns)


def copy_frame(cursor: psycopg.Cursor[Any], target: sql.Composable, table: pa.Table) -> None:
    """Streams ``table`` into ``target`` with COPY … FROM STDIN, one batch at a time."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, names)
    options = pacsv.WriteOptions(include_header=False)
    with cursor.copy(statement) as copy:
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())


def parse_csv(data: bytes, types: dict[str, pa.DataType], rows: int) -> pd.DataFrame:
    """Parses PostgreSQL CSV: an unquoted empty field is NULL, ``""`` the empty string."""
    if not data:  # Arrow refuses an empty CSV
        table = pa.table({name: pa.array([], type=kind) for name, kind in types.items()})
        return table.to_pandas(types_mapper=PANDAS_TYPES.get)
    # Allowing line breaks inside values halves Arrow's speed: allow them only when the
    # data holds more line breaks than rows.
    multiline = data.count(b"\n") + data.count(b"\r") != rows
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=list(types)),
        parse_options=pacsv.ParseOptions(newlines_in_values=multiline),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],  # Arrow's defaults would also read "NA", "n/a", "null" as NULL
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return table.to_pandas(types_mapper=PANDAS_TYPES.get)
