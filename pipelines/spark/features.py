"""The event aggregations on Spark: the SQL of :mod:`pipelines.features.sql`, Spark dialect.

For event tables too large for one machine, :func:`build_feature_frame_spark` computes the
engagement and stage aggregates with Spark SQL and assembles the same frame as
:func:`pipelines.features.build_feature_frame` (same rows, order, columns and dtypes). The
aggregations are the generated SQL of :mod:`pipelines.features.sql` in its Spark dialect,
never a second implementation; only the per-snapshot result comes back to pandas.

pyspark is optional (``pip install 'leadscore[spark]'``) and imported only by the functions
here, so the rest of the package works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines.config import FeaturesConfig
from pipelines.features import (
    KEY_COLUMNS,
    SPARK,
    STAGE_COLUMNS,
    assemble_feature_frame,
    engagement_sql,
    event_keys,
    stage_sql,
)
from pipelines.spark.session import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

SNAPSHOT_COLUMNS = {"lead_id": "STRING", "snapshot_at": "TIMESTAMP"}
ACTIVITY_COLUMNS = {
    "lead_id": "STRING",
    "occurred_at": "TIMESTAMP",
    "type": "STRING",
    "value": "DOUBLE",
}
STAGE_HISTORY_COLUMNS = {"lead_id": "STRING", "stage": "STRING", "entered_at": "TIMESTAMP"}


def _relation(spark: SparkSession, frame: Any, columns: dict[str, str]) -> SparkFrame:
    """The input as a Spark DataFrame of exactly ``columns``, cast to their types.

    NaN becomes NULL: it is pandas' missing value, and DuckDB reads it as NULL too (a NaN
    left in Spark would turn every sum it enters into NaN).
    """
    if isinstance(frame, pd.DataFrame):
        frame = to_spark(spark, frame[list(columns)])
    exprs = []
    for column, sql_type in columns.items():
        value = f"CAST(`{column}` AS {sql_type})"
        if sql_type == "DOUBLE":
            value = f"nanvl({value}, CAST(NULL AS DOUBLE))"
        exprs.append(f"{value} AS `{column}`")
    return frame.selectExpr(*exprs)


def _run(spark: SparkSession, query: str, relations: dict[str, Any]) -> SparkFrame:
    """Runs a generated query with its relation names bound to these DataFrames.

    The names are bound by CTEs over pyspark's per-query views (unique names, dropped after
    the call), so a view of the user's named ``activities`` is neither used nor replaced.
    """
    bindings = ",\n".join(f"{name} AS (SELECT * FROM {{{name}}})" for name in relations)
    body = query.replace("{", "{{").replace("}", "}}")
    return spark.sql(f"WITH {bindings}\nSELECT * FROM ({body}\n) AS features", **relations)


def event_features_spark(
    spark: SparkSession,
    snapshots: pd.DataFrame | SparkFrame,
    activities: pd.DataFrame | SparkFrame,
    stage_history: pd.DataFrame | SparkFrame | None,
    cfg: FeaturesConfig | None = None,
) -> SparkFrame:
    """Engagement and stage aggregates per (lead_id, snapshot_at), computed by Spark SQL.

    The Spark counterpart of :func:`pipelines.features.event_features`: same columns and
    values, one row per snapshot key, in no particular order. Pandas snapshot times are
    floored to the microsecond first, as :func:`~pipelines.features.build_feature_frame`
    does. Without ``stage_history`` the stage columns are NULL.

    Args:
        spark: the session to run in (see :func:`spark_session`).
        snapshots: (lead_id, snapshot_at) rows; other columns are ignored.
        activities, stage_history: contract tables, pandas or Spark DataFrames.
        cfg: feature settings; defaults when omitted.
    """
    cfg = cfg or FeaturesConfig()
    if isinstance(snapshots, pd.DataFrame):
        snapshots = event_keys(snapshots)
    keys = _relation(spark, snapshots, SNAPSHOT_COLUMNS)
    frame = _run(
        spark,
        engagement_sql(cfg.engagement, SPARK),
        {"snapshots": keys, "activities": _relation(spark, activities, ACTIVITY_COLUMNS)},
    )
    if stage_history is None:
        missing = ["CAST(NULL AS STRING) AS stage_current"]
        missing += [f"CAST(NULL AS DOUBLE) AS {c}" for c in STAGE_COLUMNS[1:]]
        return frame.selectExpr("*", *missing)
    history = _relation(spark, stage_history, STAGE_HISTORY_COLUMNS)
    stages = _run(
        spark, stage_sql(cfg.stages, SPARK), {"snapshots": keys, "stage_history": history}
    )
    return frame.join(stages, on=list(KEY_COLUMNS), how="left")


def to_pandas_events(events: SparkFrame, with_stages: bool = True) -> pd.DataFrame:
    """Spark event aggregates as the frame :func:`pipelines.features.event_features` gives."""
    frame = events.toArrow().to_pandas()
    at = frame["snapshot_at"]
    if isinstance(at.dtype, pd.DatetimeTZDtype):
        at = at.dt.tz_convert("UTC")
    frame["snapshot_at"] = at.astype("datetime64[us, UTC]")
    if not with_stages:
        for column in STAGE_COLUMNS:
            frame[column] = None if column == "stage_current" else np.nan
    return frame


def build_feature_frame_spark(
    spark: SparkSession,
    leads: pd.DataFrame,
    activities: pd.DataFrame | SparkFrame,
    stage_history: pd.DataFrame | SparkFrame | None,
    snapshots: pd.DataFrame,
    cfg: FeaturesConfig | None = None,
) -> pd.DataFrame:
    """:func:`pipelines.features.build_feature_frame` with the event aggregations on Spark.

    Args:
        spark: the session to run in (see :func:`spark_session`).
        leads: the contract ``leads`` table (pandas).
        activities, stage_history: contract tables (``stage_history`` optional), pandas or
            Spark DataFrames.
        snapshots: rows of (lead_id, snapshot_at[, label]); extra columns are kept.
        cfg: feature settings; defaults when omitted.

    Returns:
        The frame ``build_feature_frame`` returns: same rows and order, columns and dtypes.
    """
    cfg = cfg or FeaturesConfig()
    events = event_features_spark(spark, event_keys(snapshots), activities, stage_history, cfg)
    frame = to_pandas_events(events, with_stages=stage_history is not None)
    return assemble_feature_frame(leads, snapshots, frame, cfg)
