"""Tables in a PostgreSQL schema, loaded and read in bulk with COPY (SQLAlchemy + psycopg 3).

URI: ``postgresql+psycopg://user@host:5432/db?schema=leadscore`` (plain ``postgresql://``
means psycopg too; ``schema`` defaults to ``public`` and is created on first write).
Passwords belong in ``$PGPASSWORD`` or ``~/.pgpass``; one written in the URI is masked
wherever the store shows its URI.

Every write is one transaction, so a killed writer leaves the previous rows and readers
see the old rows or the new, never a mix. Frames travel as CSV rendered by Arrow, which
quotes every string and writes NULL as an unquoted empty field, as PostgreSQL expects.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import sqlalchemy as sa
from psycopg import sql

from pipelines.storage.base import (
    IDENTIFIER,
    Append,
    Operation,
    Overwrite,
    Part,
    Replace,
    StoreError,
    StoreLocked,
    TableNotFound,
    check_name,
    frames_of,
    public_uri,
)
from pipelines.storage.pgcopy import READ_TYPES, copy_frame, parse_csv, pg_type, to_arrow
from pipelines.timestamps import utc

_MAX_IDENT = 63  # PostgreSQL silently truncates longer names


def _select(name: str, kind: str) -> sql.Composable:
    """The column as read: dates and naive timestamps as UTC instants, unknown types as text."""
    if kind in ("date", "timestamp without time zone"):
        return sql.SQL("{}::timestamptz").format(sql.Identifier(name))  # the session is UTC
    return sql.SQL("{}" if kind in READ_TYPES else "{}::text").format(sql.Identifier(name))


def _parameter(value: Any) -> Any:
    """A partition value psycopg can send: naive timestamps read as UTC, numpy unwrapped."""
    if isinstance(value, pd.Timestamp):
        return utc(value).to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _where(part: Part | None, equals: dict[str, Any] | None, where: str | None) -> sql.Composable:
    """A WHERE clause: a part (by ``hashtext`` of its key), equal values, ``where`` (scans')."""
    clauses: list[sql.Composable] = [sql.SQL(where)] if where else []
    if part is not None:
        clauses.append(
            sql.SQL("mod(hashtext(coalesce({}::text, ''))::bigint + 2147483648, {}) = {}").format(
                sql.Identifier(check_name(part.key)),
                sql.Literal(part.count),
                sql.Literal(part.index),
            )
        )
    for column, value in (equals or {}).items():
        clauses.append(
            sql.SQL("{} = {}").format(
                sql.Identifier(check_name(column)), sql.Literal(_parameter(value))
            )
        )
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")


class PostgresStore:
    """Tables in one schema of a PostgreSQL database; nothing connects until first use.

    Args:
        uri: ``postgresql[+psycopg]://user[:password]@host:port/db[?schema=name]``.

    Raises:
        StoreError: for another driver, a malformed URI or an invalid schema name.
    """

    def __init__(self, uri: str) -> None:
        self.uri = public_uri(uri)
        try:
            url = sa.make_url(uri)
        except sa.exc.ArgumentError:
            raise StoreError(f"store {self.uri}: not a valid PostgreSQL URI") from None
        if url.drivername not in ("postgresql", "postgresql+psycopg"):
            raise StoreError(f"store {self.uri}: use postgresql+psycopg:// (psycopg 3)")
        self.schema = str(url.query.get("schema") or "public")
        if not IDENTIFIER.match(self.schema) or len(self.schema) > _MAX_IDENT:
            raise StoreError(f"store {self.uri}: invalid schema name {self.schema!r}")
        self._url = url.set(drivername="postgresql+psycopg").difference_update_query(["schema"])
        self._password = url.password
        self._engine_: sa.Engine | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({self.uri!r})"

    @property
    def _engine(self) -> sa.Engine:
        if self._engine_ is None:
            args = {} if "connect_timeout" in self._url.query else {"connect_timeout": 10}
            self._engine_ = sa.create_engine(self._url, pool_pre_ping=True, connect_args=args)
        return self._engine_

    def close(self) -> None:
        """Closes the pooled connections (a later call opens new ones)."""
        if self._engine_ is not None:
            self._engine_.dispose()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns driver errors into a one-line :class:`StoreError` naming the masked URI."""
        try:
            yield
        except (sa.exc.SQLAlchemyError, psycopg.Error, pa.ArrowException) as err:
            lines = str(getattr(err, "orig", None) or err).strip().splitlines() or [repr(err)]
            line = lines[0].replace(self._password, "***") if self._password else lines[0]
            raise StoreError(f"store {self.uri}: {line}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """A psycopg cursor in one UTC transaction: committed on success, else rolled back."""
        with self._errors(), self._engine.begin() as conn:
            driver = conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            with driver.cursor() as cursor:
                cursor.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'")
                yield cursor

    def _target(self, table: str) -> sql.Identifier:
        if len(check_name(table)) > _MAX_IDENT:
            raise StoreError(f"invalid table name {table!r} (longer than {_MAX_IDENT})")
        return sql.Identifier(self.schema, table)

    def _prepare(self, cursor: psycopg.Cursor[Any], table: str, df: pd.DataFrame) -> pa.Table:
        """Creates the schema and the table where missing; returns ``df`` as Arrow."""
        names = [str(c) for c in df.columns]
        if len(set(names)) != len(names):
            raise StoreError(f"table '{table}': duplicate column names")
        types = {n: pg_type(n, df[c]) for n, c in zip(names, df.columns, strict=True)}
        frame = to_arrow(df.set_axis(names, axis=1), types)
        # IF NOT EXISTS alone needs the CREATE right on the database even when it exists.
        found = cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema])
        if found.fetchone() is None:
            schema = sql.Identifier(self.schema)
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in types.items()
        )
        create = sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})")
        cursor.execute(create.format(self._target(table), columns))
        return frame

    def exists(self, table: str) -> bool:
        """Whether the schema holds a table (or view) of that name."""
        self._target(table)
        query = sa.text(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_name = :table"
        )
        with self._errors(), self._engine.connect() as conn:
            return bool(conn.execute(query, {"schema": self.schema, "table": table}).scalar())

    def count(self, table: str) -> int:
        target = self._target(table)
        with self._transaction() as cursor:
            try:
                found = cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(target))
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
                raise TableNotFound(f"store {self.uri} has no table '{table}'", table) from None
            row = found.fetchone()
        return int(row[0]) if row else 0

    def maximum(self, table: str, column: str) -> Any:
        """``max(column)`` of ``table``, asked of the server; ``...`` when the column is
        missing (the table must exist)."""
        target = self._target(table)
        query = sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), target)
        with self._transaction() as cursor:
            try:
                row = cursor.execute(query).fetchone()
            except psycopg.errors.UndefinedColumn:
                return ...
        return row[0] if row else None

    def read(
        self,
        table: str,
        part: Part | None = None,
        equals: dict[str, Any] | None = None,
        where: str | None = None,
    ) -> pd.DataFrame:
        """Reads a table, or the rows of one part and/or with given values, with COPY … TO STDOUT.

        Returns:
            Strings as ``str``, integers as ``Int64``, booleans as ``boolean``, floats as
            ``float64``, timestamps and dates as UTC; other types as their text. Rows come
            in the table's physical order (a fresh ``write`` keeps the frame's order).

        Raises:
            TableNotFound: when the schema or the table does not exist.
        """
        target = self._target(table)
        with self._transaction() as cursor:
            try:  # held to the end: a concurrent write's DROP waits for this read
                cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(target))
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
                raise TableNotFound(f"store {self.uri} has no table '{table}'", table) from None
            columns = cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum",
                [target.as_string(cursor)],
            ).fetchall()
            selected = sql.SQL(", ").join(_select(name, kind) for name, kind in columns)
            query = sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT csv)")
            with cursor.copy(query.format(selected, target, _where(part, equals, where))) as copy:
                data = b"".join(copy)
            rows = cursor.rowcount
        types = {name: READ_TYPES.get(kind, pa.string()) for name, kind in columns}
        return parse_csv(data, types, rows)

    def write(self, table: str, df: pd.DataFrame) -> None:
        """Replaces the whole table: fills a staging table, then drops the old one and renames."""
        target = self._target(table)
        staging = f"_leadscore_{uuid.uuid4().hex[:16]}"
        with self._transaction() as cursor:
            frame = self._prepare(cursor, staging, df)
            copy_frame(cursor, self._target(staging), frame)
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            rename = sql.SQL("ALTER TABLE {} RENAME TO {}")
            cursor.execute(rename.format(self._target(staging), sql.Identifier(table)))

    def replace_partition(self, table: str, df: pd.DataFrame, column: str, value: Any) -> None:
        """Deletes the rows where ``column = value`` and inserts ``df``, in one transaction."""
        self.write_batch([Replace(table, df, column, value)])

    def append(self, table: str, df: pd.DataFrame) -> None:
        """Adds the rows of ``df`` (creating the table if missing), in one transaction."""
        self.write_batch([Append(table, df)])

    def write_batch(self, operations: Sequence[Operation]) -> None:
        """Applies every operation, in order, in one transaction: all of them land, or none.

        Streamed frames are copied one at a time, so a batch never needs all its rows in
        memory at once. An :class:`Overwrite` drops the table first, so the new one takes
        the columns of its first frame.
        """
        with self._transaction() as cursor:
            for op in operations:
                target = self._target(op.table)
                if isinstance(op, Overwrite):
                    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
                deleted = not isinstance(op, Replace)
                for frame in frames_of(op.frame):
                    arrow = self._prepare(cursor, op.table, frame)
                    if not deleted:
                        self._delete(cursor, target, op)  # type: ignore[arg-type]
                        deleted = True
                    copy_frame(cursor, target, arrow)
                if not deleted and self._has(cursor, target):
                    self._delete(cursor, target, op)  # type: ignore[arg-type]

    @staticmethod
    def _delete(cursor: psycopg.Cursor[Any], target: sql.Identifier, op: Replace) -> None:
        delete = sql.SQL("DELETE FROM {} WHERE {} = %s")
        cursor.execute(delete.format(target, sql.Identifier(op.column)), [_parameter(op.value)])

    @staticmethod
    def _has(cursor: psycopg.Cursor[Any], target: sql.Identifier) -> bool:
        found = cursor.execute("SELECT to_regclass(%s)", [target.as_string(cursor)]).fetchone()
        return bool(found and found[0])

    def check_writable(self, table: str) -> None:
        check_name(table)

    @property
    def location(self) -> None:
        return None

    def parquet_file(self, table: str) -> None:
        return None

    def dataset_dir(self, table: str, replace: bool = False) -> None:
        return None

    @contextlib.contextmanager
    def lock(self, name: str = "scoring") -> Iterator[None]:
        """Holds a session advisory lock on (schema, name) for the duration of the block.

        The lock lives on a dedicated autocommit connection (no transaction left open), so
        the server also releases it when this process dies.

        Raises:
            StoreLocked: when another session holds it.
        """
        digest = hashlib.blake2b(f"leadscore:{self.schema}:{name}".encode(), digest_size=8)
        key = {"k": int.from_bytes(digest.digest(), "big", signed=True)}
        with self._errors():
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            with self._errors():
                taken = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), key).scalar()
            if not taken:
                raise StoreLocked(f"another '{name}' run holds the lock on {self.uri}")
            try:
                yield
            finally:
                try:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), key)
                except sa.exc.SQLAlchemyError:
                    conn.invalidate()  # closing the session releases the lock
        finally:
            conn.close()
