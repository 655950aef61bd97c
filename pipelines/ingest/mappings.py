"""Applying a mapping: export frames in, contract-shaped raw frames out.

:func:`apply_mapping` is pure: export frames in (text as read from CSV, or typed from
Parquet), contract-shaped raw frames out, ready for :func:`pipelines.inputs.validate_inputs`.
A time or boolean that does not parse is passed on as it was, so the contract check rejects
its row with the value; a number that does not parse is reported in
:attr:`MappedExport.rejected` (pandera could only reject its whole table).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from pipelines.contracts import BOOLEAN_COLUMNS, INPUT_TABLES, TIME_COLUMNS
from pipelines.ingest.derived import attribute_rows, rows_where, stage_entry_rows
from pipelines.ingest.lookups import LookupCounts, join_lookups
from pipelines.ingest.spec import (
    INTEGER_COLUMNS,
    NUMBER_COLUMNS,
    ColumnSpec,
    Mapping,
    MappingError,
    TableMapping,
    contract_columns,
)
from pipelines.ingest.values import (
    as_text,
    normalize_key,
    normalized_keys,
    to_boolean_words,
    to_numbers,
    to_utc_times,
    translate,
)


@dataclass
class MappedExport:
    """Contract-shaped raw tables and what the mapping did to the export."""

    tables: dict[str, pd.DataFrame]
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    ignored: dict[str, list[str]] = field(default_factory=dict)
    outcome_only: dict[str, list[str]] = field(default_factory=dict)
    absent: dict[str, list[str]] = field(default_factory=dict)
    unmapped_values: dict[str, pd.Series] = field(default_factory=dict)
    filtered: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # lead column → (stage, labels of the leads rows it was filled for from the stage
    # history): the import counts those that load, so its note matches the store.
    filled_from_stages: dict[str, tuple[str, pd.Index]] = field(default_factory=dict)
    lookups: list[LookupCounts] = field(default_factory=list)
    stage_entries: Counter[str] = field(default_factory=Counter)
    attributes: pd.DataFrame | None = None


def _coalesce(first: pd.Series, second: pd.Series) -> pd.Series:
    if first.dtype != second.dtype:
        first, second = first.astype("object"), second.astype("object")
    return first.where(first.notna(), second)


def _convert(
    table: str, source: str, values: pd.Series, spec: ColumnSpec, zone: str, export: MappedExport
) -> tuple[pd.Series, pd.Series]:
    """One source column → the contract column's values, and numbers that did not parse."""
    no_failures = pd.Series(dtype="object")
    if spec.values:
        values, unmapped = translate(values, spec.values, spec.unmapped == "keep")
        if len(unmapped):
            export.unmapped_values[f"{table}.{source}"] = unmapped
    if spec.default is not None:
        values = as_text(values).where(as_text(values).notna(), spec.default)
    if spec.to in TIME_COLUMNS[table]:
        times = to_utc_times(values, spec.format, spec.timezone or zone, spec.date_as == "end")
        return times, no_failures
    if spec.to in BOOLEAN_COLUMNS.get(table, ()):
        if spec.true_values or spec.false_values:
            return to_boolean_words(values, spec.true_values, spec.false_values), no_failures
        return values if pd.api.types.is_bool_dtype(values) else as_text(values), no_failures
    if spec.to in NUMBER_COLUMNS.get(table, ()):
        return to_numbers(values, spec.scale, integer=spec.to in INTEGER_COLUMNS)
    return as_text(values), no_failures


def _map_table(
    table: str, spec: TableMapping, frame: pd.DataFrame, zone: str, export: MappedExport
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The contract-shaped table, and the file's rows it kept (lookup columns joined)."""
    frame = frame.reset_index(drop=True)
    keep = rows_where(frame, spec.where, f"tables.{table}.where")
    export.filtered[table] = int((~keep).sum())
    frame = frame[keep].reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    failures = []
    absent = []
    for source, column in spec.specs():
        if source not in frame.columns:
            absent.append(source)
            continue
        values, bad = _convert(table, source, frame[source], column, zone, export)
        if column.when:
            key = column.to if column.column is not None else source
            holds = rows_where(frame, column.when, f"tables.{table}.columns.{key}.when")
            values = values.where(holds, None) if values.dtype == object else values.where(holds)
            bad = bad[holds.reindex(bad.index, fill_value=False)]
        if len(bad):
            failures.append(
                pd.DataFrame(
                    {
                        "column": column.to,
                        "check": "parse_number",
                        "failure_case": bad.to_numpy(),
                        "row_index": bad.index.to_numpy(dtype="int64"),
                    }
                )
            )
        target = str(column.to)  # specs() always names the contract column
        out[target] = _coalesce(out[target], values) if target in out else values
    contract = contract_columns(table)
    missing_required = [c for c, nullable in contract.items() if not nullable and c not in out]
    missing_required = [c for c in missing_required if c not in spec.constants]
    if missing_required:
        sources = [s for s, c in spec.specs() if c.to == missing_required[0]]
        raise MappingError(
            f"the {table} file has no column {' or '.join(map(repr, sources))} "
            f"(mapped to the required {missing_required[0]!r}); columns found: "
            f"{', '.join(map(str, frame.columns[:12]))}{' ...' if len(frame.columns) > 12 else ''}"
        )
    for name, value in spec.constants.items():
        out[name] = pd.Series([value] * len(frame), index=frame.index, dtype="object")
    used = spec.source_columns()
    export.ignored[table] = [str(c) for c in frame.columns if c not in used]
    export.outcome_only[table] = [c for c in spec.outcome_columns if c in frame.columns]
    export.absent[table] = absent
    if failures:
        export.rejected[table] = pd.concat(failures, ignore_index=True)
    columns = {c: out.get(c, pd.Series(None, index=frame.index, dtype="object")) for c in contract}
    return pd.DataFrame(columns, index=frame.index), frame


def _outcome_notes(
    table: str, spec: TableMapping, frame: pd.DataFrame, mapped: pd.DataFrame
) -> list[str]:
    """Status fields that say converted/lost where the lead has no time for it."""
    notes = []
    for column, outcome in spec.outcome_columns.items():
        if column not in frame.columns:
            continue
        keys = normalized_keys(as_text(frame[column]))
        for kind, time_column in (("converted", "converted_at"), ("lost", "lost_at")):
            words = [normalize_key(v) for v in getattr(outcome, kind)]
            if not words or time_column not in mapped:
                continue
            flagged = keys.isin(words)
            count = int((flagged & mapped[time_column].isna()).sum())
            if count:
                notes.append(
                    f"{count} {table} rows are {kind} by {column} but have no {time_column}: "
                    f"without a time they count as {'never converted' if kind == 'converted' else 'still open'}"
                )
    return notes


def _first_entries(stages: pd.DataFrame, stage: str) -> pd.Series:
    """Each lead's first entry into ``stage`` (parsed times only), indexed by lead_id."""
    times = stages["entered_at"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        times = pd.to_datetime(
            times.where(times.map(lambda v: isinstance(v, pd.Timestamp))), utc=True
        )
    hits = stages.assign(entered_at=times)[stages["stage"].eq(stage) & times.notna()]
    return hits.groupby("lead_id")["entered_at"].min()


def _derive_from_leads(mapping: Mapping, kept: pd.DataFrame, export: MappedExport) -> None:
    """Stage rows from the leads file's date columns, and its attribute rows."""
    spec = mapping.tables["leads"]
    lead_ids = export.tables["leads"]["lead_id"]
    if spec.stage_entries:
        rows, made = stage_entry_rows(spec.stage_entries, kept, lead_ids, mapping.timezone)
        given = export.tables.get("stage_history")
        parts = [given, rows] if given is not None else [rows]
        export.tables["stage_history"] = pd.concat(parts, ignore_index=True)
        export.stage_entries = made
        counts = ", ".join(f"{stage} {n:,}" for stage, n in made.items())
        export.notes.append(
            f"stage_history: {sum(made.values()):,} rows from the leads file's dates ({counts})"
        )
    if spec.attributes:
        export.attributes = attribute_rows(spec, kept, lead_ids)


def map_export(
    mapping: Mapping,
    frames: dict[str, pd.DataFrame],
    lookups: dict[str, pd.DataFrame] | None = None,
) -> MappedExport:
    """Applies ``mapping`` to export frames keyed by contract table; reports what it did.

    Args:
        lookups: the files of the mapping's ``lookups:``, by name.

    Raises:
        MappingError: a file for a table the mapping lacks, a required column absent, a
            lookup file missing or with a key twice.
    """
    export = MappedExport(tables={})
    outcome_frames = {}
    for table in INPUT_TABLES:
        if table not in frames:
            continue
        if table not in mapping.tables:
            raise MappingError(f"the mapping has no {table!r} table for the {table} file")
        spec = mapping.tables[table]
        frame, counts = join_lookups(table, frames[table], spec.lookups, lookups or {})
        export.lookups.extend(counts)
        export.notes.extend(c.note() for c in counts)
        export.tables[table], outcome_frames[table] = _map_table(
            table, spec, frame, mapping.timezone, export
        )
    if "leads" not in export.tables:
        raise MappingError("a leads file is required")
    _derive_from_leads(mapping, outcome_frames["leads"], export)
    stages = export.tables.get("stage_history")
    if stages is not None:
        leads = export.tables["leads"]
        for column, stage in mapping.outcomes_from_stage_history.items():
            first = _first_entries(stages, stage)
            fill = leads["lead_id"].map(first)
            empty = leads[column].isna() & fill.notna()
            leads[column] = _coalesce(leads[column], fill.astype("datetime64[us, UTC]"))
            export.filled_from_stages[column] = (stage, leads.index[empty.to_numpy()])
    for table, kept in outcome_frames.items():
        spec = mapping.tables[table]
        export.notes.extend(_outcome_notes(table, spec, kept, export.tables[table]))
    return export


def apply_mapping(mapping: Mapping, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The contract-shaped raw tables for export frames keyed by table (see :func:`map_export`)."""
    return map_export(mapping, frames).tables
