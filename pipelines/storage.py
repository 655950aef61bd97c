"""Named tables behind one URI: a DuckDB file, a Parquet or CSV directory, or PostgreSQL.

``open_store(uri)`` returns a :class:`Store`. Every write is atomic: a reader sees the old
table or the new one, never a mix, and a process killed mid-write leaves the old one.

URIs (SQLAlchemy-style: three slashes then a relative path, four for an absolute one):
``duckdb:///data/leadscore.duckdb``, ``parquet:///data/crm``, ``csv:////tmp/crm``,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

DEFAULT_STORE = "duckdb:///data/leadscore.duckdb"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class StoreError(RuntimeError):
    """The store cannot be reached or used (missing path, server down, bad URI)."""


class TableNotFound(StoreError):
    """The named table does not exist in the store."""


class StoreLocked(StoreError):
    """Another run holds the store's lock."""


@dataclass(frozen=True)
class Replace:
    """Replace the rows of ``table`` where ``column == value`` by ``frame``."""

    table: str
    frame: pd.DataFrame
    column: str
    value: Any


@dataclass(frozen=True)
class Append:
    """Append ``frame`` to ``table`` (created when missing)."""

    table: str
    frame: pd.DataFrame


class Store(Protocol):
    uri: str

    def exists(self, table: str) -> bool: ...
    def read(self, table: str) -> pd.DataFrame: ...
    def write(self, table: str, df: pd.DataFrame) -> None: ...
    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None: ...
    def append(self, table: str, df: pd.DataFrame) -> None: ...
    def write_batch(self, operations: list[Replace | Append]) -> None: ...
    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]: ...


def _check_name(table: str) -> str:
    if not _IDENT.match(table):
        raise StoreError(f"invalid table name {table!r}")
    return table


def _path_from_uri(uri: str, scheme: str) -> Path:
    rest = uri[len(scheme) + len("://") :]
    if not rest.startswith("/") or rest == "/":
        raise StoreError(
            f"store URI {uri!r}: expected {scheme}:///relative/path or {scheme}:////abs/path"
        )
    return Path(rest[1:])


@contextlib.contextmanager
def _file_lock(path: Path, name: str) -> Iterator[None]:
    lock_path = path.parent / f".{path.name}.{name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLocked(f"another '{name}' run holds the lock on {path}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class DuckDBStore:
    """Tables in one DuckDB file; each call opens and closes its own connection."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.path = _path_from_uri(uri, "duckdb")

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

    def read(self, table: str) -> pd.DataFrame:
        _check_name(table)
        if not self.path.exists():
            raise TableNotFound(f"store {self.uri} has no table '{table}' (no file {self.path})")
        with self.connect(read_only=True) as con:
            if not self._has_table(con, table):
                raise TableNotFound(f"store {self.uri} has no table '{table}'")
            return con.sql(f'SELECT * FROM "{table}"').to_arrow_table().to_pandas()

    def write(self, table: str, df: pd.DataFrame) -> None:
        _check_name(table)
        with self.connect() as con:
            con.register("incoming", df)
            con.execute("BEGIN")
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM incoming')
            con.execute("COMMIT")

    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None:
        self.write_batch([Replace(table, df, column, value)])

    def append(self, table: str, df: pd.DataFrame) -> None:
        self.write_batch([Append(table, df)])

    def write_batch(self, operations: list[Replace | Append]) -> None:
        """Applies every operation in one transaction: all of them land, or none."""
        with self.connect() as con:
            con.execute("BEGIN")
            for i, op in enumerate(operations):
                table = _check_name(op.table)
                name = f"incoming_{i}"
                con.register(name, op.frame)
                con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" AS SELECT * FROM {name} LIMIT 0')
                if isinstance(op, Replace):
                    con.execute(f'DELETE FROM "{table}" WHERE "{op.column}" = ?', [op.value])
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {name}')
            con.execute("COMMIT")

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return _file_lock(self.path, name)


class FileStore:
    """One Parquet or CSV file per table in a directory; writes go to a temp file + rename."""

    def __init__(self, uri: str, fmt: str) -> None:
        self.uri = uri
        self.fmt = fmt
        self.root = _path_from_uri(uri, fmt)

    def _file(self, table: str) -> Path:
        return self.root / f"{_check_name(table)}.{self.fmt}"

    def exists(self, table: str) -> bool:
        return self._file(table).exists()

    def read(self, table: str) -> pd.DataFrame:
        path = self._file(table)
        if not path.exists():
            raise TableNotFound(f"store {self.uri} has no table '{table}' ({path})")
        if self.fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])

    def write(self, table: str, df: pd.DataFrame) -> None:
        path = self._file(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if self.fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None:
        if not self.exists(table):
            self.write(table, df)
            return
        old = self.read(table)
        self.write(table, pd.concat([old[~_matches(old[column], value)], df], ignore_index=True))

    def append(self, table: str, df: pd.DataFrame) -> None:
        if not self.exists(table):
            self.write(table, df)
            return
        self.write(table, pd.concat([self.read(table), df], ignore_index=True))

    def write_batch(self, operations: list[Replace | Append]) -> None:
        """Applies replacements first, then appends; each file is replaced atomically.

        Files cannot share a transaction: a crash between two files leaves the new list
        without its run record, never a run record without its list.
        """
        for op in sorted(operations, key=lambda o: not isinstance(o, Replace)):
            if isinstance(op, Replace):
                self.replace_partition(op.table, op.frame, op.column, op.value)
            else:
                self.append(op.table, op.frame)

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return _file_lock(self.root / "store", name)


def _matches(column: pd.Series, value: Any) -> pd.Series:
    """Row mask of ``column == value``; CSV columns come back as text, so compare parsed."""
    if isinstance(value, pd.Timestamp):
        return pd.to_datetime(column, utc=True, format="ISO8601") == value.tz_convert("UTC")
    return column.astype(str) == str(value)


def open_store(uri: str | None = None) -> Store:
    """Opens the store named by ``uri`` (default: ``$LEADSCORE_STORE`` or the DuckDB file)."""
    uri = uri or os.environ.get("LEADSCORE_STORE") or DEFAULT_STORE
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme == "duckdb":
        return DuckDBStore(uri)
    if scheme in ("parquet", "csv"):
        return FileStore(uri, scheme)
    if scheme.startswith("postgresql"):
        from pipelines.storage_sql import PostgresStore

        return PostgresStore(uri)
    raise StoreError(
        f"unknown store URI {uri!r}: use duckdb:///file.duckdb, parquet:///dir, csv:///dir "
        "or postgresql+psycopg://user@host:port/db"
    )
