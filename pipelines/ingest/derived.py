"""Rows a mapping derives from the leads file besides the leads: stage entries and attributes.

``stage_entries:`` turns date columns into ``stage_history`` rows (``engage_date`` → the lead
entered ``contacted`` then; ``close_date`` → ``won`` or ``lost``, by a ``when:`` condition).
``attributes:`` turns custom columns into ``lead_attributes`` rows (lead_id, name, value,
kind), checked like any input by :func:`pipelines.split_attributes`. Conditions
(``when:``, ``where:``) match values trimmed and in any case.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from pipelines.ingest.spec import MappingError, StageEntry, TableMapping
from pipelines.ingest.values import (
    as_text,
    normalize_key,
    normalized_keys,
    to_numbers,
    to_utc_times,
    translate,
)

ATTRIBUTE_COLUMNS = ("lead_id", "name", "value", "kind")


def rows_where(
    frame: pd.DataFrame, conditions: dict[str, tuple[str, ...]], label: str
) -> pd.Series:
    """True where every condition column holds one of its values (all rows without conditions).

    Raises:
        MappingError: a condition names a column the file lacks (``label`` says where).
    """
    keep = pd.Series(True, index=frame.index)
    for name, allowed in conditions.items():
        if name not in frame.columns:
            raise MappingError(f"{label}: the file has no column {name!r}")
        keys = normalized_keys(as_text(frame[name]))
        keep &= keys.isin([normalize_key(v) for v in allowed])
    return keep


def stage_entry_rows(
    entries: tuple[StageEntry, ...], frame: pd.DataFrame, lead_ids: pd.Series, zone: str
) -> tuple[pd.DataFrame, Counter[str]]:
    """``stage_history`` rows from date columns: one per filled date whose condition holds.

    A date that does not parse stays as text, for the contract check to quarantine its row.
    """
    parts = []
    made: Counter[str] = Counter()
    for i, entry in enumerate(entries):
        label = f"tables.leads.stage_entries[{i}]"
        if entry.column not in frame.columns:
            raise MappingError(f"{label}: the leads file has no column {entry.column!r}")
        keep = rows_where(frame, entry.when, f"{label}.when")
        filled = keep & as_text(frame[entry.column]).notna()
        times = to_utc_times(
            frame.loc[filled, entry.column],
            entry.format,
            entry.timezone or zone,
            entry.date_as == "end",
        )
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": lead_ids[filled].to_numpy(),
                    "stage": entry.stage,
                    "entered_at": times.to_numpy(dtype=object),
                }
            )
        )
        made[entry.stage] += int(filled.sum())
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return rows, made


def attribute_rows(spec: TableMapping, frame: pd.DataFrame, lead_ids: pd.Series) -> pd.DataFrame:
    """``lead_attributes`` rows (lead_id, name, value as text, kind) for filled values.

    Raises:
        MappingError: an attribute's column is not in the file.
    """
    parts = [pd.DataFrame({c: pd.Series(dtype=object) for c in ATTRIBUTE_COLUMNS})]
    for name, attribute in spec.attribute_specs():
        source = attribute.column or name
        if source not in frame.columns:
            raise MappingError(f"tables.leads.attributes.{name}: the file has no column {source!r}")
        values = frame[source]
        if attribute.values:
            values, _ = translate(values, attribute.values)
        text = as_text(values)
        if attribute.kind == "number" and attribute.scale is not None:
            numbers, _ = to_numbers(text, attribute.scale)
            # A value that does not parse stays as text, for the check to quarantine it.
            text = text.where(numbers.isna(), numbers.map(repr))
        present = text.notna()
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": lead_ids[present].to_numpy(),
                    "name": name,
                    "value": text[present].to_numpy(),
                    "kind": attribute.kind,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).astype(object)
