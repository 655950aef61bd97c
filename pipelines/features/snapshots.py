"""Point-in-time training examples: (lead, snapshot time T) pairs and their labels.

A lead enters the snapshot at T when it was created before T and had no outcome before T
(not converted, not lost). Its label is 1 when ``converted_at`` falls in (T, T + horizon].
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from pipelines.timestamps import utc

Cadence = Literal["weekly", "monthly"]


def snapshot_dates(
    start: pd.Timestamp, end: pd.Timestamp, cadence: Cadence = "weekly"
) -> list[pd.Timestamp]:
    """Snapshot times from ``start`` to ``end`` inclusive, at midnight UTC.

    Weekly snapshots fall on Mondays; monthly ones on the first of the month.
    """
    start, end = utc(start).normalize(), utc(end).normalize()
    freq = "W-MON" if cadence == "weekly" else "MS"
    return list(pd.date_range(start, end, freq=freq))


def snapshots_at(lead_ids: pd.Series | np.ndarray, at: pd.Timestamp) -> pd.DataFrame:
    """The (lead_id, snapshot_at) rows of these leads at one time T (for scoring at T)."""
    return pd.DataFrame(
        {
            "lead_id": np.asarray(lead_ids),
            "snapshot_at": pd.Series(utc(at), index=range(len(lead_ids))).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


def open_at_sql(at: str) -> str:
    """The rule for a lead open at T, as a SQL condition over a ``leads`` relation.

    A lead is open at T when it was created before T and had no outcome (converted, lost)
    before T. This is the rule's one definition: DuckDB evaluates it for pandas frames
    (:func:`open_at`), Spark and the stores' SQL push it down as it is.

    Args:
        at: a SQL expression for T (a column, a parameter or a literal).
    """
    return (
        f"(created_at < {at} AND (converted_at IS NULL OR converted_at >= {at}) "
        f"AND (lost_at IS NULL OR lost_at >= {at}))"
    )


def open_at(leads: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    """Mask of ``leads`` open at ``at`` (:func:`open_at_sql`, evaluated by DuckDB)."""
    import duckdb

    # Contract times are whole microseconds: for those, x < T exactly when x < ceil_us(T).
    bound = utc(at).ceil("us").to_pydatetime()
    times = leads[["created_at", "converted_at", "lost_at"]]
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("leads", times)
        query = f"SELECT coalesce({open_at_sql('$at')}, false) AS open FROM leads"
        found = con.execute(query, {"at": bound}).fetchnumpy()["open"]
    return pd.Series(np.asarray(found, dtype=bool), index=leads.index)


def open_pairs(leads: pd.DataFrame, dates: list[pd.Timestamp]) -> tuple[np.ndarray, np.ndarray]:
    """Every (row of ``leads``, index in ``dates``) where the lead is open at that date.

    One DuckDB range join of the leads with the dates on :func:`open_at_sql`, instead of
    one evaluation of the rule per date.
    """
    import duckdb

    times = leads[["created_at", "converted_at", "lost_at"]].assign(_row=np.arange(len(leads)))
    # As in open_at: contract times are whole microseconds, x < T exactly when x < ceil_us(T).
    bounds = pd.DataFrame(
        {
            "_date": np.arange(len(dates)),
            "_at": pd.DatetimeIndex([utc(at).ceil("us") for at in dates]).astype(
                "datetime64[us, UTC]"
            ),
        }
    )
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("leads", times)
        con.register("dates", bounds)
        query = f"""
            SELECT leads._row, dates._date FROM leads JOIN dates
            ON coalesce({open_at_sql("dates._at")}, false)
            ORDER BY dates._date, leads._row"""
        found = con.execute(query).fetchnumpy()
    return np.asarray(found["_row"], dtype=np.int64), np.asarray(found["_date"], dtype=np.int64)


def build_snapshots(
    leads: pd.DataFrame,
    dates: list[pd.Timestamp],
    horizon_days: int = 90,
    max_per_lead: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Builds the (lead_id, snapshot_at, label) examples for ``dates``.

    Args:
        leads: the ``leads`` table (contract dtypes).
        dates: snapshot times T.
        horizon_days: label window after T.
        max_per_lead: keep at most this many snapshots per lead (sampled with ``seed``),
            so long-open leads do not dominate training.
        seed: sampling seed.

    Returns:
        One row per example, sorted by snapshot_at then lead_id.
    """
    times = [utc(at) for at in dates]
    if not times:
        return pd.DataFrame(
            {
                "lead_id": pd.Series(dtype="str"),
                "snapshot_at": pd.Series(dtype="datetime64[us, UTC]"),
                "label": pd.Series(dtype="int8"),
            }
        )
    rows, columns = open_pairs(leads, times)
    at = pd.Series(pd.DatetimeIndex(times)[columns])
    converted = leads["converted_at"].iloc[rows].reset_index(drop=True)
    horizon = pd.Timedelta(days=horizon_days)
    label = converted.notna() & (converted > at) & (converted <= at + horizon)
    snapshots = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[rows],
            "snapshot_at": at,
            "label": label.to_numpy().astype("int8"),
        }
    )
    snapshots["snapshot_at"] = snapshots["snapshot_at"].astype("datetime64[us, UTC]")
    if max_per_lead is not None:
        snapshots = cap_per_lead(snapshots, max_per_lead, seed)
    return snapshots.sort_values(["snapshot_at", "lead_id"], ignore_index=True)


def cap_per_lead(snapshots: pd.DataFrame, max_per_lead: int, seed: int = 0) -> pd.DataFrame:
    """Keeps at most ``max_per_lead`` randomly chosen snapshots of each lead.

    The draw depends only on the rows and the seed, not on their order in the input.
    """
    canonical = snapshots.sort_values(
        ["lead_id", "snapshot_at"], ignore_index=True, kind="mergesort"
    )
    order = np.random.default_rng(seed).permutation(len(canonical))
    shuffled = canonical.iloc[order]
    keep = shuffled.groupby("lead_id", sort=False).cumcount() < max_per_lead
    return shuffled[keep.to_numpy()].sort_values(["snapshot_at", "lead_id"], ignore_index=True)


def sample_negatives(snapshots: pd.DataFrame, rate: float, seed: int = 0) -> pd.DataFrame:
    """Keeps every converting snapshot and a ``rate`` share of the others, with weights.

    Each kept negative gets ``sample_weight = 1 / rate`` (positives 1), so a model fitted
    with the weights sees the class balance of the whole history. The draw depends only on
    each row's (lead_id, snapshot_at) and the seed, not on the order of the rows.
    """
    keys = snapshots[["lead_id", "snapshot_at"]].assign(_seed=seed)
    draw = pd.util.hash_pandas_object(keys, index=False).to_numpy() / np.float64(2**64)
    positive = (snapshots["label"] == 1).to_numpy()
    kept = snapshots[positive | (draw < rate)]
    weight = np.where(kept["label"].to_numpy() == 1, 1.0, 1.0 / rate)
    return kept.assign(sample_weight=weight).reset_index(drop=True)
