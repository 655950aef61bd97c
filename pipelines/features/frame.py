"""The feature frame: one row per (lead, T), built strictly from what was known before T.

Lead attributes are taken as known from ``created_at`` on; events (activities, stage
changes) count only when timed before T (see :mod:`pipelines.features.sql`). PII is read
here only to derive flags (free-mail address, phone present) and never leaves this step.

The frame is the input of the model pipeline: strings stay strings, every number is a
float64 (MLflow signatures reject nullable integer and boolean dtypes).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from pipelines.attributes import attribute_names
from pipelines.config import FeaturesConfig
from pipelines.features.sql import engagement_sql, stage_sql

FeatureBuilder = Callable[..., pd.DataFrame]
"""``build_feature_frame`` or an engine's equivalent with its signature (e.g. on Spark)."""
KEY_COLUMNS = ("lead_id", "snapshot_at")
NON_FEATURE_COLUMNS = frozenset({*KEY_COLUMNS, "label", "fold", "sample_weight"})
TEXT_COLUMNS = ("source", "industry", "country", "job_title", "need", "purchase_timeframe")
NUMERIC_LEAD_COLUMNS = ("employees", "annual_revenue", "budget")
STAGE_COLUMNS = (
    "stage_current",
    "stage_days_in_stage",
    "stage_backward_moves",
    "stage_distinct_stages",
)


_EMAIL = re.compile(r"[^@\s]@[^@\s]")


def _email_flags(emails: pd.Series, free_domains: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each lead has an address, and whether its domain is a free-mail one (NaN
    without an address), in one pass over the values rather than five string methods.

    An address counts only when it has a local part and a domain ("a@b"); blanks do not.
    The domain is what follows the last "@", stripped and lower-cased.
    """
    present = np.zeros(len(emails), dtype="float64")
    free = np.full(len(emails), np.nan)
    for i, value in enumerate(emails.astype("object").to_numpy()):
        if isinstance(value, str):
            if _EMAIL.search(value):
                present[i] = 1.0
                free[i] = float(value.rsplit("@", 1)[-1].strip().lower() in free_domains)
        elif not pd.isna(value) and _EMAIL.search(str(value)):
            present[i], free[i] = 1.0, 0.0  # not text: no domain to look up
    return present, free


def lead_attributes(leads: pd.DataFrame, cfg: FeaturesConfig) -> pd.DataFrame:
    """Per-lead attributes known from creation on, with PII reduced to flags."""
    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy()})
    out["created_at"] = leads["created_at"].array  # not to_numpy(): no Timestamp objects
    for column in TEXT_COLUMNS:
        out[column] = leads[column].astype("object").where(leads[column].notna(), None).to_numpy()
    for column in NUMERIC_LEAD_COLUMNS:
        out[column] = leads[column].astype("float64").to_numpy()
    out["is_decision_maker"] = leads["is_decision_maker"].astype("float64").to_numpy()
    present, free = _email_flags(leads["email"], frozenset(cfg.free_mail_domains))
    out["email_present"] = present
    out["email_free_mail"] = free
    out["phone_present"] = leads["phone"].notna().astype("float64").to_numpy()
    for column in attribute_names(leads.columns):  # custom attributes: known from creation too
        out[column] = leads[column].to_numpy()
    return out


def event_features(
    snapshots: pd.DataFrame,
    activities: pd.DataFrame,
    stage_history: pd.DataFrame | None,
    cfg: FeaturesConfig,
    threads: int | None = None,
) -> pd.DataFrame:
    """Engagement and stage aggregates per (lead_id, snapshot_at), computed in DuckDB."""
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET memory_limit = '{cfg.engine.memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.register("snapshots", snapshots[list(KEY_COLUMNS)])
        con.register("activities", activities[["lead_id", "occurred_at", "type", "value"]])
        frame = con.sql(engagement_sql(cfg.engagement)).to_arrow_table().to_pandas()
        if stage_history is not None:
            con.register("stage_history", stage_history[["lead_id", "stage", "entered_at"]])
            stages = con.sql(stage_sql(cfg.stages)).to_arrow_table().to_pandas()
            frame = frame.merge(stages, on=list(KEY_COLUMNS), how="left", validate="one_to_one")
        else:
            for column in STAGE_COLUMNS:
                frame[column] = None if column == "stage_current" else np.nan
    finally:
        con.close()
    frame["snapshot_at"] = frame["snapshot_at"].astype("datetime64[us, UTC]")
    return frame


def event_keys(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The (lead_id, snapshot_at) rows the event aggregations run on, one per snapshot row.

    Events are timed to the microsecond (the contract's resolution): T is floored to it,
    which can only leave out events, never let one at or after T in.
    """
    at = snapshots["snapshot_at"].dt.floor("us").astype("datetime64[us, UTC]")
    return pd.DataFrame({"lead_id": snapshots["lead_id"].to_numpy(), "snapshot_at": at.array})


def build_feature_frame(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    stage_history: pd.DataFrame | None,
    snapshots: pd.DataFrame,
    cfg: FeaturesConfig | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Builds the model input for every snapshot row, in the order of ``snapshots``.

    Args:
        leads, activities, stage_history: contract tables (``stage_history`` optional).
        snapshots: rows of (lead_id, snapshot_at[, label]); extra columns are kept.
        cfg: feature settings; defaults when omitted.
        threads: DuckDB threads (default: all cores).

    Returns:
        ``snapshots`` columns followed by the feature columns.
    """
    cfg = cfg or FeaturesConfig()
    events = event_features(event_keys(snapshots), activities, stage_history, cfg, threads)
    return assemble_feature_frame(leads, snapshots, events, cfg)


def assemble_feature_frame(
    leads: pd.DataFrame,
    snapshots: pd.DataFrame,
    events: pd.DataFrame,
    cfg: FeaturesConfig | None = None,
) -> pd.DataFrame:
    """The feature frame from the event aggregates, whichever engine computed them.

    Args:
        leads: the contract ``leads`` table.
        snapshots: rows of (lead_id, snapshot_at[, label]); extra columns are kept.
        events: the engagement and stage aggregates of ``event_keys(snapshots)``, one row per
            key in any order, as :func:`event_features` returns them.
        cfg: feature settings; defaults when omitted.

    Returns:
        ``snapshots`` columns followed by the feature columns, in the order of ``snapshots``.
    """
    cfg = cfg or FeaturesConfig()
    attributes = lead_attributes(leads, cfg)
    frame = snapshots.reset_index(drop=True)
    keys = event_keys(frame)
    frame = frame.merge(attributes, on="lead_id", how="left", validate="many_to_one")
    frame["_key"] = keys["snapshot_at"].array  # not to_numpy(): a Timestamp object per row
    events = events.rename(columns={"snapshot_at": "_key"})
    frame = frame.merge(events, on=["lead_id", "_key"], how="left", validate="one_to_one").drop(
        columns="_key"
    )
    age = (frame["snapshot_at"] - frame.pop("created_at")).dt.total_seconds() / 86400.0
    frame.insert(len(snapshots.columns), "lead_age_days", age.astype("float64"))
    numeric = [
        c for c in frame.columns if c.startswith(("eng_", "stage_")) and c != "stage_current"
    ]
    return frame.astype(dict.fromkeys(numeric, "float64"))


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The model-input columns of a feature frame (everything but keys and the label)."""
    return [c for c in frame.columns if c not in NON_FEATURE_COLUMNS]


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The model-input columns with signature-safe dtypes: text as object/None, numbers float64."""
    out = {}
    for column in feature_columns(frame):
        text_attribute = column.startswith("attr_") and not pd.api.types.is_numeric_dtype(
            frame[column]
        )
        if column in TEXT_COLUMNS or column == "stage_current" or text_attribute:
            values = frame[column].astype("object")
            out[column] = values.where(values.notna(), None)
        else:
            out[column] = frame[column].astype("float64")
    # No copy of the float columns: they share the frame's memory (copy-on-write keeps
    # either side from changing the other), so the frame and its model input fit in
    # about the memory of one.
    return pd.DataFrame(out, index=frame.index, copy=False)
