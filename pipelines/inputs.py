"""Reading the CRM input tables from a store, validated, with bad rows set aside."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from pipelines.attributes import split_attributes, with_attributes
from pipelines.contracts import INPUT_TABLES, empty_table, split_valid
from pipelines.storage import (
    Operation,
    Overwrite,
    Part,
    Store,
    TableNotFound,
    latest_time,
    metadata_operation,
    read_open_rows,
)

EVENT_TIMES = {
    "leads": ("created_at", "converted_at", "lost_at"),
    "activities": ("occurred_at",),
    "stage_history": ("entered_at",),
}


class TrainingTables(Protocol):
    """Validated inputs as training reads them: the leads in pandas, the events wherever
    the engine keeps them (pandas here, Spark DataFrames on Spark)."""

    leads: pd.DataFrame
    activities: Any
    stage_history: Any

    @property
    def rows_rejected(self) -> int: ...

    def data_end(self) -> pd.Timestamp: ...


@dataclass
class CrmTables:
    """The validated input tables and the rows rejected from each, with their reasons."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    stage_history: pd.DataFrame | None
    raw_counts: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    attributes: pd.DataFrame | None = None  # lead_attributes rows of known leads

    @property
    def rows_rejected(self) -> int:
        return sum(int(r["row_index"].nunique()) for _, r in self.rejected.values())

    def data_end(self) -> pd.Timestamp:
        """The latest time seen anywhere in the inputs: 'now' for the data."""
        times = [self.leads[c].max() for c in EVENT_TIMES["leads"]]
        times.append(self.activities["occurred_at"].max())
        if self.stage_history is not None:
            times.append(self.stage_history["entered_at"].max())
        return max(t for t in times if pd.notna(t))


def stored_data_end(store: Store) -> pd.Timestamp | None:
    """The latest time in the store's input tables (as :meth:`CrmTables.data_end`, from
    the raw rows), without reading them where the store can say it; None without data."""
    times = [latest_time(store, t, c) for t, columns in EVENT_TIMES.items() for c in columns]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _arrow_ids(values: pd.Series) -> Any:
    """Ids as Arrow strings: taken as they are from an Arrow-backed column (no Python object
    per id), converted from any other."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return pa.chunked_array(pa.array(values.array)).cast(pa.large_string())
    objects = values.astype("object").to_numpy()
    return pa.chunked_array([pa.array(objects, type=pa.large_string(), from_pandas=True)])


def member_of(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` for ids, vectorised in Arrow (pandas' ``isin`` on Arrow-backed
    strings builds a Python object per allowed value: 27 s for a million ids)."""
    import pyarrow.compute as pc

    found = pc.is_in(_arrow_ids(values), value_set=_arrow_ids(allowed).combine_chunks())
    return np.asarray(found.to_numpy(), dtype=bool)


def positions_in(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """The position in ``ids`` of each of ``values`` (its first, for a repeated id), -1 where
    it is not there; vectorised in Arrow, like :func:`member_of`."""
    import pyarrow.compute as pc

    found = pc.index_in(_arrow_ids(values), value_set=_arrow_ids(ids).combine_chunks())
    return np.asarray(found.fill_null(-1).to_numpy(), dtype=np.int64)


def _orphans(table: pd.DataFrame, lead_ids: pd.Series, rejected_ids: pd.Series) -> pd.DataFrame:
    """Rows whose lead is unknown (``references_leads``) or was itself rejected (``lead_quarantined``)."""
    bad = ~member_of(table["lead_id"], lead_ids)
    check = np.where(
        member_of(table.loc[bad, "lead_id"], rejected_ids), "lead_quarantined", "references_leads"
    )
    return pd.DataFrame(
        {
            "column": "lead_id",
            "check": check,
            "failure_case": table.loc[bad, "lead_id"].astype(str).to_numpy(),
            "row_index": table.index[bad].to_numpy(),
        }
    )


def validate_inputs(raw: dict[str, pd.DataFrame | None]) -> CrmTables:
    """Validates raw input frames; rows failing a check or naming an unknown lead are set aside.

    An optional ``lead_attributes`` frame is checked too (rows of unknown leads are left
    out) and its ``attr_`` columns are added to the leads (:mod:`pipelines.attributes`).

    Raises:
        ContractError: a table is unusable as a whole (e.g. a required column is missing).
    """
    counts = {name: (0 if frame is None else len(frame)) for name, frame in raw.items()}
    rejected: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    leads_raw = raw["leads"]
    if leads_raw is None:
        raise TableNotFound("the 'leads' table is required")
    leads, bad = split_valid("leads", leads_raw)
    rejected["leads"] = (leads_raw, bad)
    rejected_ids = leads_raw["lead_id"].reset_index(drop=True).iloc[bad["row_index"].unique()]
    valid: dict[str, pd.DataFrame | None] = {"leads": leads}
    for name in ("activities", "stage_history"):
        frame = raw.get(name)
        if frame is None:
            valid[name] = empty_table(name) if name == "activities" else None
            continue
        good, bad = split_valid(name, frame)
        # ``good`` keeps the row positions of ``frame``, so orphans' row_index addresses it too.
        orphans = _orphans(good, leads["lead_id"], rejected_ids)
        valid[name] = good.drop(index=orphans["row_index"]).reset_index(drop=True)
        rejected[name] = (frame, pd.concat([bad, orphans], ignore_index=True))
    attributes = raw.get("lead_attributes")
    if attributes is not None:
        attributes, bad = split_attributes(attributes, leads["lead_id"])
        rejected["lead_attributes"] = (raw["lead_attributes"], bad)
        leads = with_attributes(leads, attributes)
    return CrmTables(
        leads=leads.reset_index(drop=True),
        activities=valid["activities"],  # type: ignore[arg-type]
        stage_history=valid["stage_history"],
        raw_counts=counts,
        rejected=rejected,
        attributes=attributes,
    )


def read_inputs(store: Store, part: Part | None = None) -> CrmTables:
    """Reads and validates ``leads``, ``activities`` and ``stage_history`` (the last optional),
    and ``lead_attributes`` when the store has it.

    With ``part``, only that slice of every table (by lead_id): a lead's rows all fall in
    the same slice, so duplicates and unknown leads are still caught within it.
    """
    raw: dict[str, pd.DataFrame | None] = {}
    for name in INPUT_TABLES:
        present = name == "leads" or store.exists(name)
        raw[name] = store.read(name, part=part) if present else None
    if store.exists("lead_attributes"):
        raw["lead_attributes"] = store.read("lead_attributes", part=part)
    return validate_inputs(raw)


def read_open_inputs(store: Store, as_of: pd.Timestamp, part: Part | None = None) -> CrmTables:
    """Reads and validates what a run at ``as_of`` needs (of ``part``): the leads open then,
    their activities and stage rows, and the rows the contract checks need (doubtful leads
    and rows, orphans; see :mod:`pipelines.storage.scans`).

    The open leads, their events and the quarantined rows are those :func:`read_inputs`
    gives; the counts of rows read are of the rows read.
    """
    return validate_inputs(read_open_rows(store, as_of, part))


def write_inputs(
    store: Store,
    tables: dict[str, pd.DataFrame],
    origin: str | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
) -> dict[str, int]:
    """Validates whole input tables and writes them in one batch; returns rows per table.

    Args:
        origin: recorded as the store's ``data_origin`` in the same batch (``generated``).
        extra: tables outside the contract written as they are in the same batch (the
            synthetic CRM's latent states).
    """
    from pipelines.contracts import validate_table

    operations: list[Operation] = [
        Overwrite(name, validate_table(name, frame)) for name, frame in tables.items()
    ]
    if "lead_attributes" not in tables and store.exists("lead_attributes"):
        # A whole new CRM: attributes of the one it replaces would describe other leads.
        operations.append(Overwrite("lead_attributes", empty_table("lead_attributes")))
    if origin is not None:
        operations.append(metadata_operation("data_origin", origin))
    operations.extend(Overwrite(name, frame) for name, frame in (extra or {}).items())
    store.write_batch(operations)
    return {name: len(frame) for name, frame in {**tables, **(extra or {})}.items()}
