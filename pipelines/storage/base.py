"""What every store shares: the :class:`Store` protocol, its errors, write operations, names.

A store keeps named tables behind one URI (see :func:`pipelines.storage.open_store`). Every
write is atomic: a reader sees the old table or the new one, never a mix, and a process
killed mid-write leaves the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import pandas as pd

DEFAULT_STORE = "duckdb:///data/leadscore.duckdb"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class StoreError(RuntimeError):
    """The store cannot be reached or used (missing path, server down, bad URI)."""


class TableNotFound(StoreError):
    """The named table does not exist in the store (``table``: its name, where known)."""

    def __init__(self, message: str, table: str | None = None) -> None:
        super().__init__(message)
        self.table = table


class StoreNotFound(StoreError):
    """The store does not exist (no file, no directory) or holds no CRM yet."""


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
class Overwrite:
    """Replace the whole of ``table`` (its columns too) by ``frame``."""

    table: str
    frame: Frames


@dataclass(frozen=True)
class Append:
    """Append ``frame`` to ``table`` (created when missing)."""

    table: str
    frame: Frames


Operation: TypeAlias = Overwrite | Replace | Append
"""One write of a batch: :meth:`Store.write_batch` applies a list of them all or none."""


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
    def write_batch(self, operations: Sequence[Operation]) -> None: ...
    def lock(self, name: str = "scoring") -> contextlib.AbstractContextManager[None]: ...
    def check_writable(self, table: str) -> None: ...

    @property
    def location(self) -> Path | None:
        """The local directory the store lives in (None for a database server)."""
        ...

    def parquet_file(self, table: str) -> Path | None:
        """The Parquet file holding ``table``, for engines that read files themselves
        (Spark); None when the store keeps the table otherwise."""
        ...

    def dataset_dir(self, table: str, replace: bool = False) -> Path | None:
        """The directory of ``table`` as a hive-partitioned Parquet dataset, for engines
        that write partitions themselves (Spark); None when rows go through
        :meth:`write_batch` instead.

        Args:
            replace: the caller will replace partitions (not only append).

        Raises:
            StoreError: the store cannot hold ``table`` as such a dataset.
        """
        ...


def public_uri(uri: str) -> str:
    """``uri`` without secrets: a password in the user part or the query is masked."""
    uri = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", uri)
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", uri)


def check_name(table: str) -> str:
    """``table`` when it is a safe SQL identifier (lower-case letters, digits, ``_``)."""
    if not IDENTIFIER.match(table):
        raise StoreError(f"invalid table name {table!r}")
    return table


def path_from_uri(uri: str, scheme: str) -> Path:
    """The path of a file store URI: ``scheme:///relative`` or ``scheme:////absolute``."""
    rest = uri[len(scheme) + len("://") :]
    if not rest.startswith("/") or rest == "/":
        raise StoreError(
            f"store URI {uri!r}: expected {scheme}:///relative/path or {scheme}:////abs/path"
        )
    return Path(rest[1:])


@contextlib.contextmanager
def file_lock(path: Path, name: str) -> Iterator[None]:
    """Holds an exclusive lock file beside ``path`` for the block.

    Raises:
        StoreLocked: another process holds it.
    """
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
