"""Reading only what a nightly run needs: the leads open at ``as_of`` and their events.

A run at ``as_of`` scores the leads open then (:func:`pipelines.features.open_at_sql`, the
rule's one definition). They and their activities and stage rows are a small share of a
mature CRM, so the filter is pushed into the engine that holds the rows: DuckDB reads a
DuckDB file, Parquet or CSV files directly; PostgreSQL gets it as a ``WHERE``. No frame of
every lead or every event is ever built.

What is read keeps the contract checks exact. Besides the open leads and their events, a
lead is read (with its events) when it may break the contract, or an event row of it may;
an event is read when its lead is unknown (an orphan) or when the row may break the
contract (a missing or unparseable value). These "may" checks are a vectorised superset of
the pandera checks that decide, so what is read is validated and quarantined with the same
checks and messages as a full read; the leads not read all meet the contract. The deals
they won before ``as_of`` are read apart (``OpenSlices.closed_won``), for deal sizes. The
optional ``lead_attributes`` are read for the leads read (a bad row of a lead not read is
not quarantined by the run: it is never used).

:func:`slice_open_rows` cuts those rows by lead into slices in one pass (DuckDB
``COPY … PARTITION_BY`` of a hash bucket into a scratch directory), so that each slice
reads only its own files: a run is linear in the size of the store, not quadratic.
PostgreSQL reads every lead (its events filtered), each slice in its own query.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.contracts import SCHEMAS, TIMEFRAMES
from pipelines.storage.base import Part, Store, StoreError, check_name
from pipelines.storage.duckdb import DuckDBStore, bound_partitioned_writes
from pipelines.storage.files import FileStore
from pipelines.storage.prechecks import doubtful_event_sql, doubtful_lead_sql, time_of
from pipelines.timestamps import utc

EVENT_TABLES = ("activities", "stage_history")
ATTRIBUTES = "lead_attributes"  # optional; read for the leads read, like a lead's own columns
RawInputs = dict[str, pd.DataFrame | None]
"""Raw input frames by table name (None: the store has no such table)."""
_BUCKET = "_bucket"


def wanted_leads_sql(leads: str, events: dict[str, str] | None = None) -> str:
    """The lead ids (as text) a run reads with their events: open at ``$at``, doubtful, or
    named by a doubtful event row (so that a row passing the contract is no orphan).

    ``leads`` is a relation of the raw ``leads`` rows, ``events`` the relations of the event
    tables by name; ``$at`` is the time T.
    """
    from pipelines.features import open_at_sql

    times = ", ".join(f"{time_of(c)} AS {c}" for c in ("created_at", "converted_at", "lost_at"))
    return f"""
SELECT CAST(lead_id AS VARCHAR) AS lead_id FROM (
    SELECT lead_id, {times}, {doubtful_lead_sql()} AS doubtful FROM {leads}
) WHERE doubtful OR coalesce({open_at_sql("$at")}, false)
UNION
SELECT CAST(lead_id AS VARCHAR) FROM {leads} GROUP BY lead_id HAVING count(*) > 1
""" + "".join(
        f"UNION SELECT CAST(lead_id AS VARCHAR) FROM {source} WHERE {doubtful_event_sql(table)}\n"
        for table, source in (events or {}).items()
    )


def open_events_sql(table: str, source: str, leads: str) -> str:
    """The rows of event ``table`` (relation ``source``) a run reads (see the module doc)."""
    lead = "CAST(e.lead_id AS VARCHAR)"
    return f"""
SELECT e.* FROM {source} e
WHERE {lead} IN (SELECT lead_id FROM wanted)
   OR {lead} NOT IN (SELECT CAST(lead_id AS VARCHAR) FROM {leads} WHERE lead_id IS NOT NULL)
   OR {doubtful_event_sql(table)}
"""


def _bucket(count: int) -> str:
    # The hash of pipelines.storage.duckdb's Part: the same slices a DuckDB store reads.
    return f"hash(coalesce(CAST(lead_id AS VARCHAR), '')) % {int(count)}"


def _bound(as_of: pd.Timestamp) -> Any:
    # Contract times are whole microseconds: for those, x < T exactly when x < ceil_us(T).
    return utc(as_of).ceil("us").to_pydatetime()


def _source(store: Store, table: str) -> str:
    """A DuckDB relation reading ``table`` of a DuckDB-readable store directly."""
    if isinstance(store, DuckDBStore):
        return f'src."{table}"'
    assert isinstance(store, FileStore)
    path = str(store.parquet_file(table) or store.location / f"{table}.csv").replace("'", "''")
    if store.fmt == "parquet":
        return f"read_parquet('{path}')"
    # As pandas reads a CSV store: every value text, an empty field missing.
    return f"(SELECT nullif(COLUMNS(*), '') FROM read_csv('{path}', all_varchar = true, header = true))"


@contextlib.contextmanager
def _duckdb(store: Store, memory_limit: str) -> Iterator[Any]:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        if isinstance(store, DuckDBStore):
            path = str(store.path).replace("'", "''")
            con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
        yield con
    finally:
        con.close()


def _present(store: Store) -> list[str]:
    return ["leads", *(t for t in (*EVENT_TABLES, ATTRIBUTES) if store.exists(t))]


def _pushes_down(store: Store) -> bool:
    return isinstance(store, DuckDBStore | FileStore)


def _equal(column: str, value: Any) -> str:
    """``column = ?``; a time compared as a time (a CSV store holds it as text)."""
    check_name(column)
    return f"{time_of(column)} = ?" if isinstance(value, pd.Timestamp) else f'"{column}" = ?'


def _complete(con: Any, store: Store, table: str) -> bool:
    """Whether ``table`` has every contract column (else it is read whole, and the contract
    check stops the run with its one-line error, as on a full read)."""
    found = con.execute(f"DESCRIBE SELECT * FROM {_source(store, table)}").fetchall()
    return set(SCHEMAS[table].to_schema().columns) <= {row[0] for row in found}


def _selects(
    con: Any, store: Store, tables: list[str], extra: dict[str, dict[str, Any]]
) -> dict[str, tuple[str, list[Any]]]:
    """Per table, the DuckDB query of the rows a run reads, and its parameters."""
    leads = _source(store, "leads")
    filtered = _complete(con, store, "leads")
    read = "CAST(lead_id AS VARCHAR) IN (SELECT lead_id FROM wanted) OR lead_id IS NULL"
    where = f" WHERE {read}" if filtered else ""
    queries: dict[str, tuple[str, list[Any]]] = {"leads": (f"SELECT * FROM {leads}{where}", [])}
    for table in tables[1:]:
        source = _source(store, table)
        if filtered and table == ATTRIBUTES:
            # Attributes of leads not read are never used, and an unknown lead's are ignored.
            lead = "CAST(lead_id AS VARCHAR)"
            queries[table] = (
                f"SELECT * FROM {source} WHERE {lead} IN (SELECT lead_id FROM wanted)",
                [],
            )
        elif filtered and _complete(con, store, table):
            queries[table] = (open_events_sql(table, source, leads), [])
        else:
            queries[table] = (f"SELECT * FROM {source}", [])
    for table, equals in extra.items():
        queries[table] = _extra_select(store, table, equals)
    return queries


def _extra_select(store: Store, table: str, equals: dict[str, Any]) -> tuple[str, list[Any]]:
    where = " AND ".join(_equal(column, value) for column, value in equals.items())
    params = [utc(v).to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in equals.values()]
    return f"SELECT * FROM {_source(store, table)} WHERE {where}", params


def _prepare(con: Any, store: Store, as_of: pd.Timestamp, tables: list[str]) -> None:
    if _complete(con, store, "leads"):
        events = {
            t: _source(store, t)
            for t in tables[1:]
            if t in EVENT_TABLES and _complete(con, store, t)
        }
        wanted = wanted_leads_sql(_source(store, "leads"), events)
        con.execute(f"CREATE TEMP TABLE wanted AS {wanted}", {"at": _bound(as_of)})


def _no_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "converted_at": pd.Series(dtype="datetime64[us, UTC]"),
            "deal_value": pd.Series(dtype="float64"),
            "employees": pd.Series(dtype="float64"),
        }
    )


def _closed_won(con: Any, store: Store, as_of: pd.Timestamp) -> pd.DataFrame:
    """``converted_at``, ``deal_value`` and ``employees`` of the deals won before ``as_of``
    by leads not read (all of which meet the contract: a doubtful lead is read)."""
    if not _complete(con, store, "leads"):
        return _no_deals()
    query = f"""
        SELECT {time_of("converted_at")} AS converted_at,
               TRY_CAST(deal_value AS DOUBLE) AS deal_value,
               TRY_CAST(employees AS DOUBLE) AS employees
        FROM {_source(store, "leads")}
        WHERE CAST(lead_id AS VARCHAR) NOT IN (SELECT lead_id FROM wanted)
          AND {time_of("converted_at")} < $at AND deal_value IS NOT NULL"""
    return con.sql(query, params={"at": _bound(as_of)}).to_arrow_table().to_pandas()


def read_open_rows(
    store: Store,
    as_of: pd.Timestamp,
    part: Part | None = None,
    memory_limit: str = "1GB",
) -> RawInputs:
    """The raw input rows a run at ``as_of`` reads (of ``part``): the leads open then, with
    their events, and the rows the contract checks need (see the module doc).

    Returns:
        ``leads``, ``activities`` and ``stage_history`` as read (the last None when the store
        has none), to be validated by :func:`pipelines.inputs.validate_inputs`.
    """
    tables = _present(store)
    if not _pushes_down(store):
        return _read_postgres(store, as_of, tables, part)
    with _duckdb(store, memory_limit) as con:
        _prepare(con, store, as_of, tables)
        out: RawInputs = {}
        for table, (query, params) in _selects(con, store, tables, {}).items():
            where = f" WHERE {_bucket(part.count)} = {int(part.index)}" if part else ""
            out[table] = (
                con.sql(f"SELECT * FROM ({query}){where}", params=params)
                .to_arrow_table()
                .to_pandas()
            )
    return out | ({} if "stage_history" in out else {"stage_history": None})


@dataclass
class OpenSlices:
    """The rows of a run, cut by lead into ``count`` slices (:func:`slice_open_rows`)."""

    store: Store
    as_of: pd.Timestamp
    count: int
    tables: list[str]
    extra: dict[str, dict[str, Any]]
    memory_limit: str
    closed_won: pd.DataFrame
    """``converted_at``, ``deal_value``, ``employees`` of the deals won before ``as_of`` by
    the leads not read (the leads read are in the slices: count their deals from there)."""
    root: Path | None = None
    read_already: dict[str, pd.DataFrame] = field(default_factory=dict)
    """One slice's rows, read with the deals (handed out once)."""

    def read(self, index: int) -> RawInputs:
        """The raw input rows of slice ``index`` (as :func:`read_open_rows` returns them)."""
        if self.read_already and index == 0 and "leads" in self.read_already:
            out: RawInputs = {t: self.read_already.pop(t) for t in self.tables}
            return out | ({} if "stage_history" in out else {"stage_history": None})
        if self.root is None:  # PostgreSQL: filtered where the rows are
            part = Part(index, self.count) if self.count > 1 else None
            return read_open_rows(self.store, self.as_of, part, self.memory_limit)
        out = {t: self._read_bucket(t, index) for t in self.tables}
        return out | ({} if "stage_history" in out else {"stage_history": None})

    def read_extra(self, table: str, index: int) -> pd.DataFrame | None:
        """Slice ``index`` of an extra table's selected rows (``extra`` of
        :func:`slice_open_rows`); None when the store has no such table."""
        if table not in self.extra:
            return None
        if table in self.read_already and index == 0:
            return self.read_already.pop(table)
        if self.root is not None:
            return self._read_bucket(table, index)
        if not _pushes_down(self.store):
            part = Part(index, self.count) if self.count > 1 else None
            return self.store.read(table, part=part, equals=self.extra[table])
        with _duckdb(self.store, self.memory_limit) as con:
            query, params = _extra_select(self.store, table, self.extra[table])
            return con.sql(query, params=params).to_arrow_table().to_pandas()

    def _read_bucket(self, table: str, index: int) -> pd.DataFrame:
        import duckdb

        assert self.root is not None
        folder = self.root / table / f"{_BUCKET}={index}"
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            if folder.exists():
                files = str(folder / "*.parquet").replace("'", "''")
                query = f"SELECT * EXCLUDE ({_BUCKET}) FROM read_parquet('{files}')"
            else:  # no row of this slice: the table's columns, no rows
                query = f"SELECT * EXCLUDE ({_BUCKET}) FROM read_parquet('{self.root / table}.empty.parquet')"
            return con.sql(query).to_arrow_table().to_pandas()


@contextlib.contextmanager
def slice_open_rows(
    store: Store,
    as_of: pd.Timestamp,
    count: int,
    scratch: Path,
    extra: dict[str, dict[str, Any]] | None = None,
    memory_limit: str = "1GB",
) -> Iterator[OpenSlices]:
    """The rows a run at ``as_of`` reads, cut into ``count`` slices by lead in one pass.

    On DuckDB, Parquet and CSV stores each table's selected rows are written once to
    ``scratch/<table>/_bucket=<i>/`` (removed on exit); a slice then reads its own files.
    One slice is read directly, and PostgreSQL filters each slice in its own query.

    Args:
        extra: further tables to slice, each with the column values its rows must have
            (e.g. ``{"lead_scores": {"as_of": previous}}``).
    """
    tables, extra = _present(store), dict(extra or {})
    extra = {t: e for t, e in extra.items() if store.exists(t)}
    if not _pushes_down(store):  # PostgreSQL reads every lead: no deal is left unread
        yield OpenSlices(store, as_of, count, tables, extra, memory_limit, _no_deals())
        return
    root = scratch / "open_rows"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        with _duckdb(store, memory_limit) as con:
            bound_partitioned_writes(con, root / "spill", count)
            _prepare(con, store, as_of, tables)
            won = _closed_won(con, store, as_of)
            read: dict[str, pd.DataFrame] = {}
            for table, (query, params) in _selects(con, store, tables, extra).items():
                if count == 1:  # one slice: read here, in the connection that found the rows
                    read[table] = con.sql(query, params=params).to_arrow_table().to_pandas()
                    continue
                target = str(root / table).replace("'", "''")
                bucketed = f"SELECT *, {_bucket(count)} AS {_BUCKET} FROM ({query})"
                statement = f"COPY ({bucketed}) TO '{target}' (FORMAT parquet, PARTITION_BY ({_BUCKET}), OVERWRITE_OR_IGNORE)"
                con.execute(statement, params)
                empty = f"COPY (SELECT * FROM ({bucketed}) LIMIT 0) TO '{target}.empty.parquet' (FORMAT parquet)"
                con.execute(empty, params)
        sliced = root if count > 1 else None
        yield OpenSlices(store, as_of, count, tables, extra, memory_limit, won, sliced, read)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def postgres_events_where(schema: str, table: str, as_of: pd.Timestamp) -> str:
    """The ``WHERE`` condition of the rows of event ``table`` a run reads, on PostgreSQL.

    The store writes typed columns, so a doubtful value there is a missing one or a value
    out of range; the open rule is :func:`~pipelines.features.open_at_sql` as it is.
    """
    from pipelines.features import open_at_sql

    leads = f'"{schema}"."leads"'
    at = f"'{_bound(as_of).isoformat()}'::timestamptz"
    timeframes = ", ".join(repr(t) for t in TIMEFRAMES)
    doubtful = " OR ".join(
        [
            "lead_id IS NULL",
            "created_at IS NULL",
            *(f"{c} < 0" for c in ("employees", "annual_revenue", "budget", "deal_value")),
            f"(purchase_timeframe IS NOT NULL AND purchase_timeframe NOT IN ({timeframes}))",
        ]
    )
    own = "type" if table == "activities" else "stage"
    time = "occurred_at" if table == "activities" else "entered_at"
    return f"""(
    lead_id IN (SELECT lead_id FROM {leads} WHERE {open_at_sql(at)} OR {doubtful})
    OR lead_id IN (SELECT lead_id FROM {leads} GROUP BY lead_id HAVING count(*) > 1)
    OR NOT EXISTS (SELECT 1 FROM {leads} l WHERE l.lead_id = "{table}".lead_id)
    OR lead_id IS NULL OR {own} IS NULL OR {time} IS NULL)"""


def _read_postgres(
    store: Store, as_of: pd.Timestamp, tables: list[str], part: Part | None
) -> RawInputs:
    """:func:`read_open_rows` on PostgreSQL: the same filter as a ``WHERE``."""
    from pipelines.storage.postgres import PostgresStore  # psycopg is an optional extra

    if not isinstance(store, PostgresStore):
        raise StoreError(f"store {store.uri}: no way to read only the open leads' rows")
    out: RawInputs = {"leads": store.read("leads", part=part)}
    for table in tables[1:]:
        if table == ATTRIBUTES:  # every lead is read here
            out[table] = store.read(table, part=part)
            continue
        where = postgres_events_where(store.schema, table, as_of)
        out[table] = store.read(table, part=part, where=where)
    return out | ({} if "stage_history" in out else {"stage_history": None})
