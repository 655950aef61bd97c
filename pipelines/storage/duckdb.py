"""A store of tables in one DuckDB file (the embedded default)."""

from __future__ import annotations

import contextlib
import os
import time
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
    StoreLocked,
    TableNotFound,
    check_name,
    file_lock,
    frames_of,
    path_from_uri,
)

LOCK_WAIT_ENV = "LEADSCORE_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 30.0


def lock_wait_s() -> float:
    """How long to wait for DuckDB's file lock (``$LEADSCORE_LOCK_WAIT_S``, default 30 s)."""
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_S)))
    except ValueError:
        raise StoreError(f"${LOCK_WAIT_ENV} must be a number of seconds") from None


def _lock_conflict(err: Exception) -> bool:
    return "Could not set lock" in str(err) or "Conflicting lock" in str(err)


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
        """A connection to the file, closed after the block.

        DuckDB lets one process write a file, or any number read it, at a time; every
        connection here is held only for one read or one write batch. So a connection
        that meets another process's lock is retried for up to ``$LEADSCORE_LOCK_WAIT_S``
        seconds: a reader waits out a writer's commit, a writer a reader's query.

        Raises:
            StoreError: the file cannot be opened (missing, for reading; not DuckDB).
            StoreLocked: another process still held the lock after the wait.
        """
        if read_only and not self.path.exists():
            raise StoreError(f"store {self.uri}: file {self.path} does not exist")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> Any:
        import duckdb

        deadline = time.monotonic() + lock_wait_s()
        pause = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as err:
                first = str(err).splitlines()[0]
                if not _lock_conflict(err):
                    raise StoreError(f"store {self.uri}: cannot open ({first})") from None
                if time.monotonic() >= deadline:
                    raise StoreLocked(
                        f"store {self.uri}: another process kept the file locked for "
                        f"{lock_wait_s():g} s (${LOCK_WAIT_ENV})"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

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
            raise TableNotFound(
                f"store {self.uri} has no table '{table}' (no file {self.path})", table
            )
        with self.connect(read_only=True) as con:
            if not self._has_table(con, table):
                raise TableNotFound(f"store {self.uri} has no table '{table}'", table)
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


# Rows a partitioned write buffers over all its partitions (see bound_partitioned_writes).
FLUSH_ROWS, MIN_FLUSH_ROWS, DUCKDB_FLUSH_ROWS = 2_000_000, 8_192, 524_288


def bound_partitioned_writes(con: Any, directory: Path, partitions: int) -> None:
    """Bounds what a ``COPY … PARTITION_BY`` into ``partitions`` parts holds in memory.

    DuckDB's partitioned write buffers up to ``partitioned_write_flush_threshold`` rows per
    partition (524,288 by default) before it writes them: with the 40 slices of a 10M-lead
    store that was past a 512 MB limit (out of memory at 488 MB). The threshold is shared
    out over the partitions instead (``FLUSH_ROWS`` in all), and what else outgrows the
    limit spills to ``directory``.
    """
    path = str(directory).replace("'", "''")
    con.execute(f"SET temp_directory = '{path}'")
    rows = min(DUCKDB_FLUSH_ROWS, max(MIN_FLUSH_ROWS, FLUSH_ROWS // partitions))
    con.execute(f"SET partitioned_write_flush_threshold = {rows}")
