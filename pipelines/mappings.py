"""Column mappings: a CRM export (Salesforce, HubSpot, your own) onto the data contract.

A mapping is a YAML file (``configs/mappings/<name>.yaml``) loaded into frozen pydantic
models that reject unknown keys, so a typo is an error naming the key. Per input table it
says which source column becomes which contract column, how picklist values translate,
how booleans and times are written (format, time zone), which constants to fill in, which
rows to keep, and which status fields define the outcome. Status fields never become a
contract column, so they can never become features.

:func:`apply_mapping` is pure: export frames in (text as read from CSV, or typed from
Parquet), contract-shaped raw frames out, ready for :func:`pipelines.inputs.validate_inputs`.
A time or boolean that does not parse is passed on as it was, so the contract check rejects
its row with the value; a number that does not parse is reported in
:attr:`MappedExport.rejected` (pandera could only reject its whole table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from pipelines.config import ConfigError, Frozen, config_dir
from pipelines.contracts import BOOLEAN_COLUMNS, INPUT_TABLES, SCHEMAS, TIME_COLUMNS
from pipelines.value_parsing import (
    as_text,
    normalize_key,
    normalized_keys,
    to_boolean_words,
    to_numbers,
    to_utc_times,
    translate,
)

TableName = Literal["leads", "activities", "stage_history"]
NUMBER_COLUMNS = {
    "leads": ("employees", "annual_revenue", "budget", "deal_value"),
    "activities": ("value",),
}
INTEGER_COLUMNS = ("employees",)
SHIPPED_MAPPINGS = Path(__file__).resolve().parents[1] / "configs" / "mappings"
_UNION_TAGS = {"str", "ColumnSpec", "function-after[_known_zone(), str]"}


class MappingError(ConfigError):
    """A mapping file is invalid, or does not fit the export it is applied to."""


def _words(value: object) -> str | None:
    """YAML reads yes/true/1 as bool or int: picklist keys and values are text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ColumnSpec(Frozen):
    """How one source column becomes one contract column."""

    to: str = Field(description="the contract column")
    values: dict[str, str | None] = Field(
        default_factory=dict, description="source value → contract value (trimmed, any case)"
    )
    unmapped: Literal["keep", "missing"] = "keep"
    default: str | None = Field(None, description="used where the source value is empty")
    format: str | None = Field(None, description="strftime format of a time (default ISO 8601)")
    timezone: str | None = Field(None, description="zone of times without an offset")
    date_as: Literal["start", "end"] = Field(
        "start", description="a date alone is read as the start or the end of that day"
    )
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    scale: float | None = Field(None, description="numbers are multiplied by this")

    @field_validator("values", mode="before")
    @classmethod
    def _text_values(cls, value: object) -> object:
        if isinstance(value, dict):
            return {_words(k): _words(v) for k, v in value.items()}
        return value

    @field_validator("true_values", "false_values", mode="before")
    @classmethod
    def _text_words(cls, value: object) -> object:
        return [_words(v) for v in value] if isinstance(value, list | tuple) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value) if value is not None else None


class OutcomeValues(Frozen):
    """Values of a status field that mean the lead converted, or was lost."""

    converted: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()

    @field_validator("converted", "lost", mode="before")
    @classmethod
    def _text_words(cls, value: object) -> object:
        return [_words(v) for v in value] if isinstance(value, list | tuple) else value


class TableMapping(Frozen):
    """One export file onto one contract table."""

    columns: dict[str, str | ColumnSpec] = Field(
        description="source column → contract column, or a ColumnSpec"
    )
    constants: dict[str, str | float | bool] = Field(default_factory=dict)
    where: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="keep only rows whose column holds one of the values"
    )
    outcome_columns: dict[str, OutcomeValues] = Field(
        default_factory=dict, description="status fields: they define the outcome, never features"
    )

    @field_validator("where", mode="before")
    @classmethod
    def _text_where(cls, value: object) -> object:
        if isinstance(value, dict):
            return {
                k: [_words(v) for v in (vs if isinstance(vs, list) else [vs])]
                for k, vs in value.items()
            }
        return value

    def specs(self) -> list[tuple[str, ColumnSpec]]:
        """(source column, spec) pairs in file order; a bare name becomes ``ColumnSpec(to=name)``."""
        return [
            (source, spec if isinstance(spec, ColumnSpec) else ColumnSpec(to=spec))
            for source, spec in self.columns.items()
        ]


class Mapping(Frozen):
    """A whole export: one TableMapping per contract input table (``leads`` required)."""

    description: str = ""
    timezone: str = Field("UTC", description="zone of times without an offset")
    tables: dict[TableName, TableMapping]
    outcomes_from_stage_history: dict[Literal["converted_at", "lost_at"], str] = Field(
        default_factory=dict,
        description="fill an empty outcome time with the lead's first entry into this stage",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @model_validator(mode="after")
    def _fits_contract(self) -> Mapping:
        if "leads" not in self.tables:
            raise ValueError("tables: a mapping needs a 'leads' table")
        for table, spec in self.tables.items():
            _check_table(table, spec)
        if self.outcomes_from_stage_history and "stage_history" not in self.tables:
            raise ValueError("outcomes_from_stage_history: needs a 'stage_history' table")
        return self


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name, e.g. Europe/Berlin)"
        ) from None
    return value


def contract_columns(table: str) -> dict[str, bool]:
    """The contract columns of an input table → whether they may be empty."""
    return {name: col.nullable for name, col in SCHEMAS[table].to_schema().columns.items()}


def _check_table(table: str, spec: TableMapping) -> None:
    columns = contract_columns(table)
    known = ", ".join(columns)
    mapped: set[str] = set()
    for source, column in spec.specs():
        if column.to not in columns:
            raise ValueError(
                f"tables.{table}.columns.{source}: {column.to!r} is not a column of {table} "
                f"(columns: {known})"
            )
        mapped.add(column.to)
    for name in spec.constants:
        if name not in columns:
            raise ValueError(f"tables.{table}.constants.{name}: not a column of {table} ({known})")
        if name in mapped:
            raise ValueError(f"tables.{table}.constants.{name}: also mapped from a source column")
    for name in spec.outcome_columns:
        if name in spec.columns:
            raise ValueError(
                f"tables.{table}.outcome_columns.{name}: a status field defines the outcome "
                "only; it cannot also map to a contract column"
            )
    required = [c for c, nullable in columns.items() if not nullable]
    for name in required:
        if name not in mapped and name not in spec.constants:
            raise ValueError(f"tables.{table}.columns: no source column maps to {name!r}")


def load_mapping(name_or_path: str | Path, directory: str | Path | None = None) -> Mapping:
    """Loads a mapping by name (``<config dir>/mappings/<name>.yaml``, else the shipped one of
    that name) or from a file path.

    Raises:
        MappingError: one line naming the file and the offending key.
    """
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        # The config directory first (your own mappings), then the ones shipped beside the code.
        folders = [config_dir(directory) / "mappings", SHIPPED_MAPPINGS]
        found = [
            f / f"{name_or_path}.yaml" for f in folders if (f / f"{name_or_path}.yaml").is_file()
        ]
        if not found:
            names = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.yaml")})
            raise MappingError(
                f"no mapping named {str(name_or_path)!r} in {folders[0]} "
                f"(known: {', '.join(names) or 'none'}); or pass a path to a .yaml file"
            )
        path = found[0]
    if not path.is_file():
        raise MappingError(f"mapping file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise MappingError(f"{path}: not valid YAML ({err.__class__.__name__})") from None
    try:
        return Mapping.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        # A misspelt key shows as extra + missing: name the key the file has.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = ".".join(str(p) for p in first["loc"] if p not in _UNION_TAGS)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise MappingError(f"{path}: {key + ': ' if key else ''}{message}") from None


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
    """The contract-shaped table, and the outcome-only columns of the rows kept."""
    frame = frame.reset_index(drop=True)
    keep = pd.Series(True, index=frame.index)
    for name, allowed in spec.where.items():
        if name not in frame.columns:
            raise MappingError(f"tables.{table}.where: the {table} file has no column {name!r}")
        keys = normalized_keys(as_text(frame[name]))
        keep &= keys.isin([normalize_key(v) for v in allowed])
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
        out[column.to] = _coalesce(out[column.to], values) if column.to in out else values
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
    used = {*spec.columns, *spec.where, *spec.outcome_columns}
    export.ignored[table] = [str(c) for c in frame.columns if c not in used]
    export.outcome_only[table] = [c for c in spec.outcome_columns if c in frame.columns]
    export.absent[table] = absent
    if failures:
        export.rejected[table] = pd.concat(failures, ignore_index=True)
    columns = {c: out.get(c, pd.Series(None, index=frame.index, dtype="object")) for c in contract}
    return pd.DataFrame(columns, index=frame.index), frame[export.outcome_only[table]]


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


def map_export(mapping: Mapping, frames: dict[str, pd.DataFrame]) -> MappedExport:
    """Applies ``mapping`` to export frames keyed by contract table; reports what it did.

    Raises:
        MappingError: a file for a table the mapping lacks, or a required column absent.
    """
    export = MappedExport(tables={})
    outcome_frames = {}
    for table in INPUT_TABLES:
        if table not in frames:
            continue
        if table not in mapping.tables:
            raise MappingError(f"the mapping has no {table!r} table for the {table} file")
        export.tables[table], outcome_frames[table] = _map_table(
            table, mapping.tables[table], frames[table], mapping.timezone, export
        )
    if "leads" not in export.tables:
        raise MappingError("a leads file is required")
    stages = export.tables.get("stage_history")
    if stages is not None:
        leads = export.tables["leads"]
        for column, stage in mapping.outcomes_from_stage_history.items():
            first = _first_entries(stages, stage)
            fill = leads["lead_id"].map(first)
            empty = leads[column].isna() & fill.notna()
            leads[column] = _coalesce(leads[column], fill.astype("datetime64[us, UTC]"))
            if empty.any():
                export.notes.append(
                    f"{int(empty.sum())} leads got {column} from their first '{stage}' stage entry"
                )
    for table, outcomes in outcome_frames.items():
        spec = mapping.tables[table]
        export.notes.extend(_outcome_notes(table, spec, outcomes, export.tables[table]))
    return export


def apply_mapping(mapping: Mapping, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The contract-shaped raw tables for export frames keyed by table (see :func:`map_export`)."""
    return map_export(mapping, frames).tables
