"""The contract checks on Spark: the embedded contract code per Arrow batch, plus what spans rows.

The row-level checks are :func:`pipelines.contracts.split_valid` itself, run on every Arrow
batch by ``mapInPandas``, and the quarantine rows are built by
:func:`~pipelines.contracts.quarantine_rows` per batch; only what spans rows is done by
Spark: ``lead_id`` unique among the leads (a window) and events naming a lead that is
unknown or rejected (joins).
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.contracts import ContractError, empty_table, quarantine_rows, split_valid

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql.types import StructField

# Columns added to the raw rows while they are checked; the prefix keeps them apart from
# whatever columns an export brings.
# Columns added to the raw rows while they are checked; the prefix keeps them apart from
# whatever columns an export brings.
VALID = "__ls_valid"
FAILURES = "__ls_failures"
REASONS = "__ls_reasons"
VALUE = "__ls_value_"
REASON_FIELDS = ("column", "check", "failure_case")
REASON_TYPE = "array<struct<column:string,check:string,failure_case:string>>"
UNIQUENESS = "field_uniqueness"
CONTRACT_ERROR = re.compile(r"ContractError: (.+)")


@dataclass(frozen=True)
class Checked:
    """A table's raw rows after the row-level checks, and how its raw columns are held."""

    frame: SparkFrame
    raw_columns: list[str]
    instants: list[str]  # TIMESTAMP columns, held as epoch microseconds
    naive: list[str]  # TIMESTAMP_NTZ columns


def spark_type(dtype: Any) -> str:
    """The Spark SQL type of a contract dtype (as :func:`~pipelines.spark.features.to_spark`;
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


def check_rows(table: str, raw: SparkFrame) -> Checked:
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
    return Checked(checked.withColumn(FAILURES, failures), raw.columns, instants, naive)


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


def lead_reasons(leads: SparkFrame) -> SparkFrame:
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


def event_reasons(events: SparkFrame, leads: SparkFrame) -> SparkFrame:
    """Checked events with ``REASONS``: own failures, else a lead unknown or rejected."""
    from pyspark.sql import functions as F

    lead = F.col(VALUE + "lead_id")
    known = valid_rows(leads, "leads").select(F.col("lead_id").alias("__ls_known"))
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


def valid_rows(checked: SparkFrame, table: str) -> SparkFrame:
    """The rows of a checked table that passed everything, with the contract's columns."""
    from pyspark.sql import functions as F

    rows = checked.filter(F.col(VALID) & (F.size(REASONS) == 0))
    return rows.select(*(F.col(f"`{VALUE}{c}`").alias(c) for c in empty_table(table).columns))


def quarantine_rows_of(checked: Checked, frame: SparkFrame, table: str, run_id: str) -> SparkFrame:
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


def materialize(frames: dict[str, SparkFrame]) -> dict[str, tuple[int, int]]:
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
        found = CONTRACT_ERROR.search(str(err))
        if found is None:
            raise
        raise ContractError(found.group(1).strip()) from None
    return {row["table"]: (int(row["rows"]), int(row["rejected"])) for row in rows}
