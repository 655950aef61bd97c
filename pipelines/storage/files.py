"""A store of tables as files in a directory: one Parquet or CSV file per table.

Every write goes to a temporary file that is then renamed over the old one, so a reader
sees the old file or the new one and a killed writer leaves the old one. A batch of writes
to several tables stages every file first and commits them together through a journal
(:mod:`pipelines.storage.journal`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.storage.base import (
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
from pipelines.storage.duckdb import duckdb_where
from pipelines.storage.journal import commit_staged, new_batch, settle, staging_file

FILE_BATCH_ROWS = 100_000


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


class FileStore:
    """One Parquet or CSV file per table in a directory; writes go to a temp file + rename.

    A Parquet table may also be a dataset directory (``lead_scores/as_of=.../*.parquet``, as
    the Spark engine writes it): it is read with the table's file, if any, but only the Spark
    engine writes it.
    """

    def __init__(self, uri: str, fmt: str) -> None:
        self.uri = uri
        self.fmt = fmt
        self.root = path_from_uri(uri, fmt)

    def _file(self, table: str) -> Path:
        return self.root / f"{check_name(table)}.{self.fmt}"

    def _dataset(self, table: str) -> Path | None:
        path = self.root / check_name(table)
        return path if self.fmt == "parquet" and path.is_dir() else None

    def exists(self, table: str) -> bool:
        settle(self.root)  # every read asks first: a killed batch is finished before it
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

            where, params = duckdb_where(part, equals)
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
            raise TableNotFound(
                f"store {self.uri} has no table '{table}' ({self._file(table)})", table
            )

    def check_writable(self, table: str) -> None:
        """Raises StoreError when the embedded engine may not write ``table`` here."""
        if self._dataset(table) is not None:
            raise StoreError(
                f"store {self.uri}: table '{table}' is a partitioned dataset written by the "
                "Spark engine; score this store with --engine spark"
            )

    def write(self, table: str, df: pd.DataFrame) -> None:
        settle(self.root)
        self.check_writable(table)
        self._write_file(self._file(table), df)

    def _write_file(self, path: Path, df: pd.DataFrame) -> None:
        write_frame_atomically(df, path, self.fmt)

    def _stream_parquet(self, op: Operation, source: Path | None, target: Path) -> bool:
        """Writes ``source``'s rows (those ``op`` keeps) then ``op``'s frames to ``target``, a
        batch at a time: memory holds one batch, not the table. False when nothing was written
        (nothing old, nothing new)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer: Any = None

        def put(frame: pd.DataFrame) -> None:
            nonlocal writer
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            else:  # a later batch whose column is all null must not change the schema
                table = table.select(writer.schema.names).cast(writer.schema)
            writer.write_table(table)

        try:
            if source is not None and not isinstance(op, Overwrite):
                for batch in pq.ParquetFile(source).iter_batches(batch_size=FILE_BATCH_ROWS):
                    old = batch.to_pandas()
                    put(
                        old[~_matches(old[op.column], op.value)] if isinstance(op, Replace) else old
                    )
            for frame in frames_of(op.frame):
                put(frame)
        finally:
            if writer is not None:
                writer.close()
        return writer is not None

    def _rewrite_csv(self, op: Operation, source: Path | None, target: Path) -> bool:
        """Writes the CSV ``op`` makes of ``source`` to ``target`` (read and written whole)."""
        frames = list(frames_of(op.frame))
        if source is not None and not isinstance(op, Overwrite):
            old = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
            if isinstance(op, Replace):
                old = old[~_matches(old[op.column], op.value)]
            frames.insert(0, old)
        if not frames:
            return False
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        frame.to_csv(target, index=False)
        return True

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

    def write_batch(self, operations: Sequence[Operation]) -> None:
        """Applies every operation, in order, as one batch: all of them land, or none.

        Each table's new file is staged beside it (a Parquet file a batch at a time: old
        rows kept, then the streamed frames; a CSV file whole), and the staged files replace
        the tables together through a journal (:mod:`pipelines.storage.journal`): a writer
        killed at any moment leaves either every old table or, once the journal is written,
        every new one.
        """
        settle(self.root, clean=True)
        batch = new_batch()
        staged: dict[str, Path] = {}
        try:
            for step, op in enumerate(operations):
                self.check_writable(op.table)
                live = self._file(op.table)
                source = staged.get(op.table) or (live if live.exists() else None)
                target = staging_file(live, batch, step)
                target.parent.mkdir(parents=True, exist_ok=True)
                rewrite = self._stream_parquet if self.fmt == "parquet" else self._rewrite_csv
                if not rewrite(op, source, target):
                    continue
                if op.table in staged:
                    staged[op.table].unlink()
                staged[op.table] = target
        except BaseException:
            for tmp in [*staged.values(), *self.root.glob(f".*.{batch}.*")]:
                tmp.unlink(missing_ok=True)
            raise
        commit_staged(self.root, {tmp: self._file(t) for t, tmp in staged.items()})

    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]:
        return file_lock(self.root / "store", name)

    @property
    def location(self) -> Path:
        return self.root

    def parquet_file(self, table: str) -> Path | None:
        return self._file(table).resolve() if self.fmt == "parquet" else None

    def dataset_dir(self, table: str, replace: bool = False) -> Path:
        """``<root>/<table>/``, partitioned by the engine that writes it (Spark).

        Args:
            replace: the engine replaces partitions: a plain file of the same table (the
                embedded scorer's) would hold rows the swap never replaces.

        Raises:
            StoreError: a CSV store, or ``replace`` and the table is a plain Parquet file.
        """
        if self.fmt == "csv":
            raise StoreError(
                f"store {self.uri}: the Spark engine reads and writes Parquet or SQL stores"
            )
        if replace and self._file(table).exists():
            raise StoreError(
                f"store {self.uri} holds {table}.parquet from the embedded scorer; "
                "score it with the embedded engine or use another directory for Spark"
            )
        return self.root / check_name(table)


def _matches(column: pd.Series, value: Any) -> pd.Series:
    """Row mask of ``column == value``; CSV columns come back as text, so compare parsed."""
    if isinstance(value, pd.Timestamp):
        return pd.to_datetime(column, utc=True, format="ISO8601") == value.tz_convert("UTC")
    return column.astype(str) == str(value)


def _open_dataset(path: Path) -> Any:
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet", partitioning="hive")


def _read_dataset(path: Path) -> pd.DataFrame:
    """A hive-partitioned Parquet dataset; partition values come back as text, except
    times (``as_of=2026-11-01``, or Spark's older ``as_of=2026-11-01 00%3A00%3A00``),
    which come back as UTC timestamps whichever way each directory spells them."""
    import pyarrow as pa

    dataset = _open_dataset(path)
    table = dataset.to_table()
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    frame = table.to_pandas()
    for name in dataset.partitioning.schema.names if dataset.partitioning else []:
        frame[name] = _as_times(frame[name])
    return frame


def _as_times(values: pd.Series) -> pd.Series:
    """``values`` as UTC timestamps when every one is an ISO date or time, else as they are."""
    known = values.dropna()
    if known.empty or not known.astype(str).str.match(r"^\d{4}-\d{2}-\d{2}([ T]|$)").all():
        return values
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except ValueError:
        return values


def temporary_sibling(path: Path) -> Path:
    """A hidden temporary name beside ``path``, unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def commit_file(tmp: Path, path: Path) -> None:
    """Makes ``tmp`` durable, then renames it over ``path`` (atomic within a filesystem)."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Writes a file so that a reader sees the old content or the new, never a part.

    ``write`` is called with a temporary path beside ``path``; what it wrote is then made
    durable and renamed over ``path``. On any error the temporary file is removed and the
    old file is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        write(tmp)
        commit_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_frame_atomically(frame: pd.DataFrame, path: Path, fmt: str | None = None) -> None:
    """Writes ``frame`` as Parquet or CSV (``fmt``, else by the suffix) atomically."""
    kind = fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if kind == "parquet":
        write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))
