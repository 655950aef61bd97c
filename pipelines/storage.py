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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np
import pandas as pd

DEFAULT_STORE = "duckdb:///data/leadscore.duckdb"
_FILE_BATCH_ROWS = 100_000
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class StoreError(RuntimeError):
    """The store cannot be reached or used (missing path, server down, bad URI)."""


class TableNotFound(StoreError):
    """The named table does not exist in the store."""


class StoreLocked(StoreError):
    """Another run holds the store's lock."""


Frames: TypeAlias = pd.DataFrame | Iterable[pd.DataFrame]
"""One frame, or frames streamed one at a time (all written in the same transaction)."""


@dataclass(frozen=True)
class Part:
    """Slice ``index`` of ``count`` disjoint slices of a table, by a hash of ``key``.

    Every row of one lead hashes to the same slice in every table, so a slice of the input
    tables can be validated, joined and scored on its own: memory follows the slice size,
    not the table size.
    """

    index: int
    count: int
    key: str = "lead_id"

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"part {self.index} of {self.count} does not exist")


@dataclass(frozen=True)
class Replace:
    """Replace the rows of ``table`` where ``column == value`` by ``frame``."""

    table: str
    frame: Frames
    column: str
    value: Any


@dataclass(frozen=True)
class Append:
    """Append ``frame`` to ``table`` (created when missing)."""

    table: str
    frame: Frames


def frames_of(frames: Frames) -> Iterator[pd.DataFrame]:
    """The frames of an operation, one at a time."""
    if isinstance(frames, pd.DataFrame):
        yield frames
    else:
        yield from frames


class Store(Protocol):
    uri: str

    def exists(self, table: str) -> bool: ...
    def count(self, table: str) -> int: ...
    def read(
        self, table: str, part: Part | None = None, equals: dict[str, Any] | None = None
    ) -> pd.DataFrame: ...
    def write(self, table: str, df: pd.DataFrame) -> None: ...
    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None: ...
    def append(self, table: str, df: pd.DataFrame) -> None: ...
    def write_batch(self, operations: list[Replace | Append]) -> None: ...
    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]: ...
    def check_writable(self, table: str) -> None: ...


def _check_name(table: str) -> str:
    if not _IDENT.match(table):
        raise StoreError(f"invalid table name {table!r}")
    return table


def _duckdb_where(part: Part | None, equals: dict[str, Any] | None) -> tuple[str, list[Any]]:
    """A DuckDB WHERE clause (and its parameters) selecting a part and equal values."""
    clauses, params = [], []
    if part is not None:
        key = _check_name(part.key)
        clauses.append(f"hash(coalesce(CAST(\"{key}\" AS VARCHAR), '')) % ? = ?")
        params += [part.count, part.index]
    for column, value in (equals or {}).items():
        clauses.append(f'"{_check_name(column)}" = ?')
        params.append(value.to_pydatetime() if isinstance(value, pd.Timestamp) else value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _filter_frame(
    frame: pd.DataFrame, part: Part | None, equals: dict[str, Any] | None
) -> pd.DataFrame:
    """The rows of ``frame`` in ``part`` with the ``equals`` values (for stores without SQL)."""
    keep = np.ones(len(frame), dtype=bool)
    if part is not None:
        key = frame[part.key].astype("object").where(frame[part.key].notna(), "")
        hashes = pd.util.hash_array(key.astype(str).to_numpy(dtype=object))
        keep &= hashes % np.uint64(part.count) == np.uint64(part.index)
    for column, value in (equals or {}).items():
        keep &= _matches(frame[column], value).to_numpy(dtype=bool)
    return frame[keep].reset_index(drop=True)


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

    def count(self, table: str) -> int:
        with self._open_table(table) as con:
            return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])

    def read(
        self, table: str, part: Part | None = None, equals: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The table's rows, or those of one part and/or with the given column values."""
        where, params = _duckdb_where(part, equals)
        with self._open_table(table) as con:
            query = f'SELECT * FROM "{table}"{where}'
            return con.sql(query, params=params).to_arrow_table().to_pandas()

    @contextlib.contextmanager
    def _open_table(self, table: str) -> Iterator[Any]:
        """A read-only connection to the file, which must hold ``table``."""
        _check_name(table)
        if not self.path.exists():
            raise TableNotFound(f"store {self.uri} has no table '{table}' (no file {self.path})")
        with self.connect(read_only=True) as con:
            if not self._has_table(con, table):
                raise TableNotFound(f"store {self.uri} has no table '{table}'")
            yield con

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
        """Applies every operation in one transaction: all of them land, or none.

        Streamed frames are inserted one at a time, so the batch never needs all its rows
        in memory at once.
        """
        with self.connect() as con:
            con.execute("BEGIN")
            for op in operations:
                table = _check_name(op.table)
                if isinstance(op, Replace) and self._has_table(con, table):
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
        _check_name(table)

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return _file_lock(self.path, name)


class FileStore:
    """One Parquet or CSV file per table in a directory; writes go to a temp file + rename.

    A Parquet table may also be a dataset directory (``lead_scores/as_of=.../*.parquet``, as
    the Spark engine writes it): it is read with the table's file, if any, but only the Spark
    engine writes it.
    """

    def __init__(self, uri: str, fmt: str) -> None:
        self.uri = uri
        self.fmt = fmt
        self.root = _path_from_uri(uri, fmt)

    def _file(self, table: str) -> Path:
        return self.root / f"{_check_name(table)}.{self.fmt}"

    def _dataset(self, table: str) -> Path | None:
        path = self.root / _check_name(table)
        return path if self.fmt == "parquet" and path.is_dir() else None

    def exists(self, table: str) -> bool:
        return self._file(table).exists() or self._dataset(table) is not None

    def count(self, table: str) -> int:
        import pyarrow.parquet as pq

        if self.fmt == "csv":
            return len(self.read(table))
        self._check_exists(table)
        total = 0
        if self._file(table).exists():
            total += int(pq.ParquetFile(self._file(table)).metadata.num_rows)
        if (dataset := self._dataset(table)) is not None:
            total += _open_dataset(dataset).count_rows()
        return total

    def read(
        self, table: str, part: Part | None = None, equals: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The table's rows, or those of one part and/or with the given column values.

        A Parquet part is read by DuckDB, which keeps only the part's rows in memory; a CSV
        file is read whole and then filtered.
        """
        self._check_exists(table)
        frames = []
        if self._file(table).exists():
            frames.append(self._read_file(table, part, equals))
        if (dataset := self._dataset(table)) is not None:
            frame = _read_dataset(dataset)
            frames.append(
                frame if part is None and not equals else _filter_frame(frame, part, equals)
            )
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _read_file(
        self, table: str, part: Part | None = None, equals: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        path = self._file(table)
        if self.fmt == "parquet" and part is not None:
            import duckdb

            where, params = _duckdb_where(part, equals)
            con: Any
            with duckdb.connect() as con:
                query = f"SELECT * FROM read_parquet(?){where}"
                relation = con.sql(query, params=[str(path), *params])
                return relation.to_arrow_table().to_pandas()
        if self.fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        return frame if part is None and not equals else _filter_frame(frame, part, equals)

    def _check_exists(self, table: str) -> None:
        if not self.exists(table):
            raise TableNotFound(f"store {self.uri} has no table '{table}' ({self._file(table)})")

    def check_writable(self, table: str) -> None:
        """Raises StoreError when the embedded engine may not write ``table`` here."""
        if self._dataset(table) is not None:
            raise StoreError(
                f"store {self.uri}: table '{table}' is a partitioned dataset written by the "
                "Spark engine; score this store with --engine spark"
            )

    def write(self, table: str, df: pd.DataFrame) -> None:
        self.check_writable(table)
        self._write_file(self._file(table), df)

    def _write_file(self, path: Path, df: pd.DataFrame) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if self.fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _stream_parquet(self, op: Replace | Append) -> None:
        """Rewrites one Parquet file a batch at a time: memory holds one batch, not the table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self._file(op.table)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        writer: Any = None

        def put(frame: pd.DataFrame) -> None:
            nonlocal writer
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            else:  # a later batch whose column is all null must not change the schema
                table = table.select(writer.schema.names).cast(writer.schema)
            writer.write_table(table)

        try:
            if path.exists():
                for batch in pq.ParquetFile(path).iter_batches(batch_size=_FILE_BATCH_ROWS):
                    old = batch.to_pandas()
                    put(
                        old[~_matches(old[op.column], op.value)] if isinstance(op, Replace) else old
                    )
            for frame in frames_of(op.frame):
                put(frame)
        except BaseException:
            if writer is not None:
                writer.close()
            tmp.unlink(missing_ok=True)
            raise
        if writer is None:  # nothing old, nothing new
            return
        writer.close()
        if not tmp.exists():
            return
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None:
        self.check_writable(table)
        if not self.exists(table):
            self.write(table, df)
            return
        old = self._read_file(table)
        self.write(table, pd.concat([old[~_matches(old[column], value)], df], ignore_index=True))

    def append(self, table: str, df: pd.DataFrame) -> None:
        """Appends to the table's file (beside its dataset directory, if it has one)."""
        path = self._file(table)
        old = [self._read_file(table)] if path.exists() else []
        self._write_file(path, pd.concat([*old, df], ignore_index=True) if old else df)

    def write_batch(self, operations: list[Replace | Append]) -> None:
        """Applies replacements first, then appends; each file is replaced atomically.

        Files cannot share a transaction: a crash between two files leaves the new list
        without its run record, never a run record without its list. A Parquet file is
        rewritten a batch at a time (old rows kept, then the streamed frames); a CSV file is
        rewritten whole, so its streamed frames are gathered in memory first.
        """
        for op in sorted(operations, key=lambda o: not isinstance(o, Replace)):
            if self.fmt == "parquet":
                self.check_writable(op.table)
                self._stream_parquet(op)
                continue
            frames = list(frames_of(op.frame))
            if not frames and isinstance(op, Replace) and self._file(op.table).exists():
                old = self._read_file(op.table)
                self.write(op.table, old[~_matches(old[op.column], op.value)])
            if not frames:
                continue
            frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            if isinstance(op, Replace):
                self.replace_partition(op.table, frame, op.column, op.value)
            else:
                self.append(op.table, frame)

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return _file_lock(self.root / "store", name)


def _matches(column: pd.Series, value: Any) -> pd.Series:
    """Row mask of ``column == value``; CSV columns come back as text, so compare parsed."""
    if isinstance(value, pd.Timestamp):
        return pd.to_datetime(column, utc=True, format="ISO8601") == value.tz_convert("UTC")
    return column.astype(str) == str(value)


def _open_dataset(path: Path) -> Any:
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet", partitioning="hive")


def _read_dataset(path: Path) -> pd.DataFrame:
    """A hive-partitioned Parquet dataset; partition values come back as text."""
    import pyarrow as pa

    table = _open_dataset(path).to_table()
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table.to_pandas()


def store_uri(uri: str | None = None) -> str:
    """``uri``, else ``$LEADSCORE_STORE``, else the default DuckDB file."""
    return uri or os.environ.get("LEADSCORE_STORE") or DEFAULT_STORE


def open_store(uri: str | None = None) -> Store:
    """Opens the store named by ``uri`` (default: ``$LEADSCORE_STORE`` or the DuckDB file)."""
    uri = store_uri(uri)
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
