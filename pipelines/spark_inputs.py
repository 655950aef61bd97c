"""The CRM input tables validated on Spark, with the contract code of the embedded path.

:func:`read_inputs_spark` and :func:`validate_inputs_spark` are the Spark counterparts of
:func:`pipelines.inputs.read_inputs` and :func:`~pipelines.inputs.validate_inputs`: the same
valid rows with the same values, the same quarantine rows and the same counts. The row-level
checks are :func:`pipelines.contracts.split_valid` itself, run on every Arrow batch by
``mapInPandas``, and the quarantine rows are built by
:func:`~pipelines.contracts.quarantine_rows` per batch; only what spans rows is done by
Spark: ``lead_id`` unique among the leads (a window) and events naming a lead that is
unknown or rejected (joins). As in the embedded path:

- every row sharing a non-null ``lead_id`` fails ``field_uniqueness`` with the id as the
  failure case, rows failing other checks included; null ids only fail ``not_nullable``
  (pandera never counts them as duplicates);
- an activity or stage row that passes its own checks but names no valid lead fails
  ``references_leads``, or ``lead_quarantined`` when a row with its id was rejected;
- a rejected row gives one quarantine row per failed column, its PII columns removed.

pyspark is optional (``pip install 'leadscore[spark]'``) and imported only by the functions
here.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.contracts import (
    INPUT_TABLES,
    ContractError,
    empty_table,
    quarantine_rows,
    split_valid,
    validate_table,
)
from pipelines.inputs import CrmTables
from pipelines.spark_engine import to_spark
from pipelines.storage import FileStore, Store, TableNotFound, open_store

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql.types import StructField

# Columns added to the raw rows while they are checked; the prefix keeps them apart from
# whatever columns an export brings.
VALID = "__ls_valid"
FAILURES = "__ls_failures"
REASONS = "__ls_reasons"
VALUE = "__ls_value_"
REASON_FIELDS = ("column", "check", "failure_case")
REASON_TYPE = "array<struct<column:string,check:string,failure_case:string>>"
UNIQUENESS = "field_uniqueness"
_CONTRACT_ERROR = re.compile(r"ContractError: (.+)")


@dataclass
class SparkCrmTables:
    """The validated input tables as Spark DataFrames, and the quarantine rows of a run.

    ``leads``, ``activities`` and ``stage_history`` hold the valid rows with the contract's
    columns and types (strings, doubles, ``employees`` as a long, booleans, UTC timestamps);
    ``quarantine`` has the columns of the ``quarantine`` table. They read the checked
    tables, which stay cached until :meth:`unpersist`.
    """

    leads: SparkFrame
    activities: SparkFrame
    stage_history: SparkFrame | None
    quarantine: SparkFrame
    raw_counts: dict[str, int] = field(default_factory=dict)
    rejected_counts: dict[str, int] = field(default_factory=dict)
    cached: list[SparkFrame] = field(default_factory=list, repr=False)

    @property
    def rows_rejected(self) -> int:
        """Input rows set aside, each counted once (as ``CrmTables.rows_rejected``)."""
        return sum(self.rejected_counts.values())

    def unpersist(self) -> None:
        """Releases the cached checked tables; the DataFrames here recompute them if used."""
        for frame in self.cached:
            frame.unpersist()


@dataclass(frozen=True)
class _Checked:
    """A table's raw rows after the row-level checks, and how its raw columns are held."""

    frame: SparkFrame
    raw_columns: list[str]
    instants: list[str]  # TIMESTAMP columns, held as epoch microseconds
    naive: list[str]  # TIMESTAMP_NTZ columns


def spark_type(dtype: Any) -> str:
    """The Spark SQL type of a contract dtype (as :func:`~pipelines.spark_engine.to_spark`;
    naive times are UTC, as the contract reads them)."""
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    return "string"


def contract_schema(table: str, prefix: str = "") -> str:
    """The contract columns of ``table`` (names prefixed) as a Spark DDL schema string."""
    dtypes = empty_table(table).dtypes
    return ", ".join(f"`{prefix}{c}` {spark_type(t)}" for c, t in dtypes.items())


def _fields(ddl: str) -> list[StructField]:
    from pyspark.sql.types import StructType

    schema = StructType.fromDDL(ddl)
    assert isinstance(schema, StructType)
    return list(schema.fields)


def _raw_rows(batch: pd.DataFrame, instants: list[str], naive: list[str]) -> pd.DataFrame:
    """Raw rows as the embedded path reads them from a store: times as UTC timestamps."""
    raw = batch.copy()
    for column in instants:
        times = pd.to_datetime(raw[column], unit="us", utc=True)
        raw[column] = times.astype("datetime64[us, UTC]")
    for column in naive:  # a naive time is read as UTC (contract)
        raw[column] = raw[column].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    return raw


def _failures_json(rejected: pd.DataFrame, rows: int) -> list[str | None]:
    """Per row, a JSON list of its (column, check, failure_case); None for a row without."""
    reasons: dict[int, list[dict[str, Any]]] = {}
    for row, column, check, case in rejected[["row_index", *REASON_FIELDS]].itertuples(index=False):
        case = None if pd.isna(case) else str(case)
        reasons.setdefault(int(row), []).append(
            {"column": column, "check": check, "failure_case": case}
        )
    return [json.dumps(reasons[i]) if i in reasons else None for i in range(rows)]


def _quiet_worker() -> None:
    """pyspark warns on every batch that pandas >= 3 is not fully supported (it works)."""
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")


def _check_batches(
    batches: Iterator[pd.DataFrame], table: str, instants: list[str], naive: list[str]
) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: each raw row, its own failures and, if valid, its contract values.

    ``lead_id`` uniqueness found within one batch is dropped: it is checked across all
    batches afterwards. A duplicate within a batch is one across batches too, so such rows
    (left out of ``valid``) are rejected all the same.
    """
    _quiet_worker()
    columns = list(empty_table(table).columns)
    for batch in batches:
        raw = batch.reset_index(drop=True)
        valid, rejected = split_valid(table, _raw_rows(raw, instants, naive))
        values = valid.reindex(pd.RangeIndex(len(raw)))
        out = raw.copy()
        out[VALID] = raw.index.isin(valid.index)
        out[FAILURES] = _failures_json(rejected[rejected["check"] != UNIQUENESS], len(raw))
        for column in columns:
            out[VALUE + column] = values[column]
        yield out


def _quarantine_batches(
    batches: Iterator[pd.DataFrame],
    run_id: str,
    table: str,
    raw_columns: list[str],
    instants: list[str],
    naive: list[str],
) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: rows of (raw row, one reason) → ``quarantine`` rows."""
    _quiet_worker()
    for batch in batches:
        batch = batch.reset_index(drop=True)
        reasons = {f: batch[f"{REASONS}_{f}"] for f in REASON_FIELDS}
        rejected = pd.DataFrame({**reasons, "row_index": range(len(batch))})
        raw = _raw_rows(batch[raw_columns], instants, naive)
        yield quarantine_rows(run_id, table, raw, rejected)


def _check_rows(table: str, raw: SparkFrame) -> _Checked:
    """The raw rows with ``VALID``, their own failures (``FAILURES``) and contract values.

    Spark hands pandas a ``TIMESTAMP`` as a wall-clock time of the session time zone, which
    cannot tell apart the two 01:30 of a DST change; epoch microseconds are exact.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType, TimestampNTZType, TimestampType

    fields = raw.schema.fields
    instants = [f.name for f in fields if isinstance(f.dataType, TimestampType)]
    naive = [f.name for f in fields if isinstance(f.dataType, TimestampNTZType)]
    prepared = raw.select(
        *(
            F.unix_micros(F.col(f"`{c}`")).alias(c) if c in instants else F.col(f"`{c}`")
            for c in raw.columns
        )
    )
    schema = StructType(
        prepared.schema.fields
        + _fields(f"`{VALID}` boolean, `{FAILURES}` string")
        + _fields(contract_schema(table, prefix=VALUE))
    )
    body = functools.partial(_check_batches, table=table, instants=instants, naive=naive)
    checked = prepared.mapInPandas(body, schema)
    failures = F.coalesce(F.from_json(FAILURES, REASON_TYPE), F.array().cast(REASON_TYPE))
    return _Checked(checked.withColumn(FAILURES, failures), raw.columns, instants, naive)


def _reason(column: str, check: Column, case: Column) -> Column:
    """A one-element reasons array."""
    from pyspark.sql import functions as F

    return F.array(
        F.struct(
            F.lit(column).alias("column"),
            check.alias("check"),
            case.cast("string").alias("failure_case"),
        )
    )


def _lead_reasons(leads: SparkFrame) -> SparkFrame:
    """Checked leads with ``REASONS``: own failures, then ``lead_id`` unique across rows."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = F.col("lead_id").cast("string")
    sharing = F.count(key).over(Window.partitionBy(key))  # count() skips nulls: never dupes
    # split_valid reports one failure per (row, column), the row's own check first.
    own_id_failure = F.exists(FAILURES, lambda r: r["column"] == "lead_id")
    duplicate = (sharing > 1) & ~own_id_failure
    unique = _reason("lead_id", F.lit(UNIQUENESS), key)
    return leads.withColumn(
        REASONS, F.when(duplicate, F.concat(FAILURES, unique)).otherwise(F.col(FAILURES))
    )


def _event_reasons(events: SparkFrame, leads: SparkFrame) -> SparkFrame:
    """Checked events with ``REASONS``: own failures, else a lead unknown or rejected."""
    from pyspark.sql import functions as F

    lead = F.col(VALUE + "lead_id")
    known = _valid_rows(leads, "leads").select(F.col("lead_id").alias("__ls_known"))
    rejected = (
        leads.filter(F.size(REASONS) > 0)
        .select(F.col("lead_id").cast("string").alias("__ls_rejected"))
        .distinct()
    )
    joined = events.join(known, lead == F.col("__ls_known"), "left").join(
        rejected, lead == F.col("__ls_rejected"), "left"
    )
    orphan = F.col(VALID) & F.col("__ls_known").isNull()
    check = F.when(F.col("__ls_rejected").isNotNull(), F.lit("lead_quarantined")).otherwise(
        F.lit("references_leads")
    )
    reasons = F.when(orphan, F.concat(FAILURES, _reason("lead_id", check, lead)))
    return joined.withColumn(REASONS, reasons.otherwise(F.col(FAILURES))).drop(
        "__ls_known", "__ls_rejected"
    )


def _valid_rows(checked: SparkFrame, table: str) -> SparkFrame:
    """The rows of a checked table that passed everything, with the contract's columns."""
    from pyspark.sql import functions as F

    rows = checked.filter(F.col(VALID) & (F.size(REASONS) == 0))
    return rows.select(*(F.col(f"`{VALUE}{c}`").alias(c) for c in empty_table(table).columns))


def _quarantine(checked: _Checked, frame: SparkFrame, table: str, run_id: str) -> SparkFrame:
    """The ``quarantine`` rows of one table: one per rejected row and failed column."""
    from pyspark.sql import functions as F

    raw = [F.col(f"`{c}`") for c in checked.raw_columns]
    reasons = frame.filter(F.size(REASONS) > 0).select(*raw, F.explode(REASONS).alias(REASONS))
    rows = reasons.select(*raw, *(F.col(REASONS)[f].alias(f"{REASONS}_{f}") for f in REASON_FIELDS))
    body = functools.partial(
        _quarantine_batches,
        run_id=run_id,
        table=table,
        raw_columns=checked.raw_columns,
        instants=checked.instants,
        naive=checked.naive,
    )
    return rows.mapInPandas(body, contract_schema("quarantine"))


def _materialize(frames: dict[str, SparkFrame]) -> dict[str, tuple[int, int]]:
    """Caches the checked tables in one Spark job; per table, its rows and rejected rows.

    Raises:
        ContractError: a batch was unusable as a whole (the worker's one-line message).
    """
    from pyspark.errors import PythonException
    from pyspark.sql import functions as F

    counts = []
    for name, frame in frames.items():
        frame.persist()
        rejected = F.count_if(F.size(REASONS) > 0).alias("rejected")
        counts.append(
            frame.agg(F.lit(name).alias("table"), F.count(F.lit(1)).alias("rows"), rejected)
        )
    try:
        rows = functools.reduce(lambda a, b: a.unionByName(b), counts).collect()
    except PythonException as err:
        for frame in frames.values():
            frame.unpersist()
        found = _CONTRACT_ERROR.search(str(err))
        if found is None:
            raise
        raise ContractError(found.group(1).strip()) from None
    return {row["table"]: (int(row["rows"]), int(row["rejected"])) for row in rows}


def validate_inputs_spark(
    spark: SparkSession,
    leads: SparkFrame | None,
    activities: SparkFrame | None,
    stage_history: SparkFrame | None,
    run_id: str,
) -> SparkCrmTables:
    """:func:`pipelines.inputs.validate_inputs` on Spark: valid rows, quarantine and counts.

    Runs one Spark job, which checks, caches and counts the tables; the frames returned
    are lazy views of the cached tables.

    Args:
        spark: the session to run in (see :func:`~pipelines.spark_engine.spark_session`).
        leads, activities, stage_history: the raw tables as read (any column types the
            contract can coerce); ``activities`` and ``stage_history`` may be None.
        run_id: the run the ``quarantine`` rows belong to.

    Raises:
        TableNotFound: ``leads`` is None.
        ContractError: a table is unusable as a whole; a missing column is found from the
            schema, before any Spark job.
    """
    if leads is None:
        raise TableNotFound("the 'leads' table is required")
    raw = {"leads": leads, "activities": activities, "stage_history": stage_history}
    for name, frame in raw.items():
        if frame is not None:  # same message as the embedded path, from the column names
            split_valid(name, pd.DataFrame(columns=frame.columns))
    checked = {name: _check_rows(name, frame) for name, frame in raw.items() if frame is not None}
    lead_frame = _lead_reasons(checked["leads"].frame)
    frames = {"leads": lead_frame}
    for name in ("activities", "stage_history"):
        if name in checked:
            frames[name] = _event_reasons(checked[name].frame, lead_frame)
    counts = _materialize(frames)
    parts = [_quarantine(checked[name], frame, name, run_id) for name, frame in frames.items()]
    valid = {name: _valid_rows(frame, name) for name, frame in frames.items()}
    if "activities" not in valid:  # as the embedded path: no table, no activities
        valid["activities"] = spark.createDataFrame([], contract_schema("activities"))
    return SparkCrmTables(
        leads=valid["leads"],
        activities=valid["activities"],
        stage_history=valid.get("stage_history"),
        quarantine=functools.reduce(lambda a, b: a.unionByName(b), parts),
        raw_counts={name: counts[name][0] if name in counts else 0 for name in INPUT_TABLES},
        rejected_counts={name: rejected for name, (_, rejected) in counts.items()},
        cached=list(frames.values()),
    )


def read_table_spark(spark: SparkSession, store: Store, table: str) -> SparkFrame:
    """A raw table of ``store`` as a Spark DataFrame.

    A Parquet directory store is read by Spark itself, in parallel and without the table
    passing through the driver. Other stores (DuckDB, CSV, PostgreSQL) are read whole into
    pandas and converted with :func:`~pipelines.spark_engine.to_spark`: that path does not
    scale past the driver's memory.

    Raises:
        TableNotFound: the store has no such table.
    """
    if isinstance(store, FileStore) and store.fmt == "parquet":
        store.count(table)  # the store's own TableNotFound; reads only the Parquet footer
        return spark.read.parquet(str(Path(store.root, f"{table}.parquet").resolve()))
    return to_spark(spark, _typed_objects(store.read(table)))


def _typed_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with object columns of booleans or numbers given their nullable dtype.

    DuckDB hands a BOOLEAN column with NULLs to pandas as objects, which ``to_spark`` would
    take for strings.
    """
    dtypes = {"boolean": "boolean", "integer": "Int64", "floating": "float64"}
    dtypes["mixed-integer-float"] = "float64"
    typed = {}
    for column in frame.columns:
        if frame[column].dtype != "object":
            continue
        kind = pd.api.types.infer_dtype(frame[column], skipna=True)
        if kind in dtypes:
            typed[column] = dtypes[kind]
    return frame.astype(typed) if typed else frame


def read_inputs_spark(spark: SparkSession, store: str | Store, run_id: str) -> SparkCrmTables:
    """:func:`pipelines.inputs.read_inputs` on Spark: reads and validates the three tables.

    Args:
        spark: the session to run in.
        store: a store URI (see :func:`pipelines.storage.open_store`) or an open store.
        run_id: the run the ``quarantine`` rows belong to.

    Raises:
        TableNotFound: the store has no ``leads`` table.
        ContractError: a table is unusable as a whole (e.g. a required column is missing).
    """
    store = open_store(store) if isinstance(store, str) else store
    raw = {
        name: read_table_spark(spark, store, name)
        if name == "leads" or store.exists(name)
        else None
        for name in INPUT_TABLES
    }
    return validate_inputs_spark(
        spark, raw["leads"], raw["activities"], raw["stage_history"], run_id
    )


@dataclass
class SparkEventTables(CrmTables):
    """Validated inputs for training on Spark: ``leads`` in pandas (one row per lead, which
    the snapshots are built from), ``activities`` and ``stage_history`` left as Spark
    DataFrames for the feature builder of :mod:`pipelines.spark_engine`."""

    end: pd.Timestamp | None = None
    rejected_count: int = 0

    @property
    def rows_rejected(self) -> int:
        return self.rejected_count

    def data_end(self) -> pd.Timestamp:
        assert self.end is not None, "no input times"
        return self.end


def _latest(frame: SparkFrame | None, column: str) -> pd.Timestamp | None:
    """The latest time of a Spark column, exact to the microsecond and in UTC."""
    from pyspark.sql import functions as F

    if frame is None:
        return None
    micros = frame.agg(F.max(F.unix_micros(F.col(column)))).collect()[0][0]
    return None if micros is None else pd.Timestamp(micros, unit="us", tz="UTC")


def training_tables_spark(spark: SparkSession, store: str | Store) -> SparkEventTables:
    """The inputs of ``train --engine spark``: validated on Spark, events kept there.

    Only the valid leads come to the driver; events never do (the feature builder returns
    one row per training snapshot). Rejected rows are counted, not written: training
    writes nothing to the store.
    """
    tables = read_inputs_spark(spark, store, run_id="train")
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    leads: Any = tables.leads.orderBy("lead_id").toPandas()  # Spark's order is no order
    for column in leads.columns[leads.dtypes == "datetime64[us]"]:  # session wall clocks
        leads[column] = leads[column].dt.tz_localize(zone).dt.tz_convert("UTC")
    leads = validate_table("leads", leads)
    times = [leads[c].max() for c in ("created_at", "converted_at", "lost_at")]
    times += [_latest(tables.activities, "occurred_at")]
    times += [_latest(tables.stage_history, "entered_at")]
    return SparkEventTables(
        leads=leads,
        activities=tables.activities,  # type: ignore[arg-type]
        stage_history=tables.stage_history,  # type: ignore[arg-type]
        raw_counts=tables.raw_counts,
        end=max(t for t in times if t is not None and pd.notna(t)),
        rejected_count=tables.rows_rejected,
    )
