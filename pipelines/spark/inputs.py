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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.attributes import attribute_columns, split_attributes, with_attributes
from pipelines.contracts import (
    INPUT_TABLES,
    quarantine_rows,
    split_valid,
    validate_table,
)
from pipelines.spark.checks import (
    check_rows,
    contract_schema,
    event_reasons,
    lead_reasons,
    materialize,
    quarantine_rows_of,
    valid_rows,
)
from pipelines.spark.session import to_spark
from pipelines.storage import Store, TableNotFound, open_store

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession


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
    attributes: SparkFrame | None = None  # one row per lead: lead_id and its attr_ columns

    @property
    def rows_rejected(self) -> int:
        """Input rows set aside, each counted once (as ``CrmTables.rows_rejected``)."""
        return sum(self.rejected_counts.values())

    def unpersist(self) -> None:
        """Releases the cached checked tables; the DataFrames here recompute them if used."""
        for frame in self.cached:
            frame.unpersist()


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
        spark: the session to run in (see :func:`~pipelines.spark.features.spark_session`).
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
    checked = {name: check_rows(name, frame) for name, frame in raw.items() if frame is not None}
    lead_frame = lead_reasons(checked["leads"].frame)
    frames = {"leads": lead_frame}
    for name in ("activities", "stage_history"):
        if name in checked:
            frames[name] = event_reasons(checked[name].frame, lead_frame)
    counts = materialize(frames)
    parts = [
        quarantine_rows_of(checked[name], frame, name, run_id) for name, frame in frames.items()
    ]
    valid = {name: valid_rows(frame, name) for name, frame in frames.items()}
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
    pandas and converted with :func:`~pipelines.spark.features.to_spark`: that path does not
    scale past the driver's memory.

    Raises:
        TableNotFound: the store has no such table.
    """
    path = store.parquet_file(table)
    if path is not None:
        store.count(table)  # the store's own TableNotFound; reads only the Parquet footer
        return spark.read.parquet(str(path))
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
    tables = validate_inputs_spark(
        spark, raw["leads"], raw["activities"], raw["stage_history"], run_id
    )
    return _with_attributes_spark(spark, store, tables, run_id)


def _with_attributes_spark(
    spark: SparkSession, store: Store, tables: SparkCrmTables, run_id: str
) -> SparkCrmTables:
    """Adds the attribute columns (pivoted on the driver: the table is one row per lead and
    name) and the quarantine rows of bad attribute rows. Rows of unknown leads drop out at
    the join, as they are left out on the embedded path."""
    if not store.exists("lead_attributes"):
        return tables
    raw = store.read("lead_attributes")
    valid, rejected = split_attributes(raw, raw["lead_id"])
    tables.raw_counts["lead_attributes"] = len(raw)
    if len(rejected):
        tables.rejected_counts["lead_attributes"] = int(rejected["row_index"].nunique())
        bad = to_spark(spark, quarantine_rows(run_id, "lead_attributes", raw, rejected))
        tables.quarantine = tables.quarantine.unionByName(bad)
    if len(valid):
        tables.attributes = to_spark(spark, attribute_columns(valid).reset_index())
    return tables


@dataclass
class SparkEventTables:
    """Validated inputs for training on Spark (a :class:`~pipelines.inputs.TrainingTables`):
    ``leads`` in pandas (one row per lead, which the snapshots are built from),
    ``activities`` and ``stage_history`` left as Spark DataFrames for the feature builder of
    :mod:`pipelines.spark.features`."""

    leads: pd.DataFrame
    activities: SparkFrame
    stage_history: SparkFrame | None
    end: pd.Timestamp
    raw_counts: dict[str, int] = field(default_factory=dict)
    rejected_count: int = 0

    @property
    def rows_rejected(self) -> int:
        return self.rejected_count

    def data_end(self) -> pd.Timestamp:
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
    store = open_store(store) if isinstance(store, str) else store
    if store.exists("lead_attributes"):  # as the embedded path: checked and joined in pandas
        attributes, _ = split_attributes(store.read("lead_attributes"), leads["lead_id"])
        leads = with_attributes(leads, attributes)
    times = [leads[c].max() for c in ("created_at", "converted_at", "lost_at")]
    times += [_latest(tables.activities, "occurred_at")]
    times += [_latest(tables.stage_history, "entered_at")]
    return SparkEventTables(
        leads=leads,
        activities=tables.activities,
        stage_history=tables.stage_history,
        raw_counts=tables.raw_counts,
        end=max(t for t in times if t is not None and pd.notna(t)),
        rejected_count=tables.rows_rejected,
    )
