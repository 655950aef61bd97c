"""A store of tables in one DuckDB file (the embedded default)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.storage.base import (
    Append,
    Operation,
    Overwrite,
    Part,
    Replace,
    StoreError,
    TableNotFound,
    check_name,
    file_lock,
    frames_of,
    path_from_uri,
)


def duckdb_where(part: Part | None, equals: dict[str, Any] | None) -> tuple[str, list[Any]]:
    """A DuckDB WHERE clause (and its parameters) selecting a part and equal values."""
    clauses, params = [], []
    if part is not None:
        key = check_name(part.key)
        clauses.append(f"hash(coalesce(CAST(\"{key}\" AS VARCHAR), '')) % ? = ?")
        params += [part.count, part.index]
    for column, value in (equals or {}).items():
        clauses.append(f'"{check_name(column)}" = ?')
        params.append(value.to_pydatetime() if isinstance(value, pd.Timestamp) else value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class DuckDBStore:
    """Tables in one DuckDB file; each call opens and closes its own connection."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.path = path_from_uri(uri, "duckdb")

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        import duckdb

        if read_only and not self.path.exists():
            raise StoreError(f"store {self.uri}: file {self.path} does not exist")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as err:
            raise StoreError(
                f"store {self.uri}: cannot open ({str(err).splitlines()[0]})"
            ) from None
        try:
            yield con
        finally:
            con.close()

    @staticmethod
    def _has_table(con: Any, table: str) -> bool:
        # fetchall: DuckDB 2 refuses the next query while a result is half read.
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()
        return bool(found[0][0])

    def exists(self, table: str) -> bool:
        if not self.path.exists():
            return False
        with self.connect(read_only=True) as con:
            return self._has_table(con, table)

    def count(self, table: str) -> int:
        with self._open_table(table) as con:
            return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])

    def read(
        self, table: str, part: Part | None = None, equals: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The table's rows, or those of one part and/or with the given column values."""
        where, params = duckdb_where(part, equals)
        with self._open_table(table) as con:
            query = f'SELECT * FROM "{table}"{where}'
            return con.sql(query, params=params).to_arrow_table().to_pandas()

    @contextlib.contextmanager
    def _open_table(self, table: str) -> Iterator[Any]:
        """A read-only connection to the file, which must hold ``table``."""
        check_name(table)
        if not self.path.exists():
            raise TableNotFound(f"store {self.uri} has no table '{table}' (no file {self.path})")
        with self.connect(read_only=True) as con:
            if not self._has_table(con, table):
                raise TableNotFound(f"store {self.uri} has no table '{table}'")
            yield con

    def write(self, table: str, df: pd.DataFrame) -> None:
        check_name(table)
        with self.connect() as con:
            con.register("incoming", df)
            con.execute("BEGIN")
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM incoming')
            con.execute("COMMIT")

    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None:
        self.write_batch([Replace(table, df, column, value)])

    def append(self, table: str, df: pd.DataFrame) -> None:
        self.write_batch([Append(table, df)])

    def write_batch(self, operations: Sequence[Operation]) -> None:
        """Applies every operation in one transaction: all of them land, or none.

        Streamed frames are inserted one at a time, so the batch never needs all its rows
        in memory at once. An :class:`Overwrite` drops the table first, so the new one takes
        the columns of its first frame.
        """
        with self.connect() as con:
            con.execute("BEGIN")
            for op in operations:
                table = check_name(op.table)
                if isinstance(op, Overwrite):
                    con.execute(f'DROP TABLE IF EXISTS "{table}"')
                elif isinstance(op, Replace) and self._has_table(con, table):
                    con.execute(f'DELETE FROM "{table}" WHERE "{op.column}" = ?', [op.value])
                for frame in frames_of(op.frame):
                    con.register("incoming", frame)
                    con.execute(
                        f'CREATE TABLE IF NOT EXISTS "{table}" AS SELECT * FROM incoming LIMIT 0'
                    )
                    con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming')
                    con.unregister("incoming")
            con.execute("COMMIT")

    def check_writable(self, table: str) -> None:
        check_name(table)

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return file_lock(self.path, name)

    @property
    def location(self) -> Path:
        return self.path.parent

    def parquet_file(self, table: str) -> None:
        return None

    def dataset_dir(self, table: str, replace: bool = False) -> None:
        return None
