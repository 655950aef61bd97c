"""The mapping file format: a CRM export (Salesforce, HubSpot, your own) onto the data contract.

A mapping is a YAML file (``configs/mappings/<name>.yaml``) loaded into frozen pydantic
models that reject unknown keys, so a typo is an error naming the key. Per input table it
says which source column becomes which contract column, how picklist values translate,
how booleans and times are written (format, time zone), which constants to fill in, which
rows to keep, and which status fields define the outcome. Status fields never become a
contract column, so they can never become features. :mod:`pipelines.ingest.mappings`
applies a mapping to export frames.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from pipelines.config import ConfigError, Frozen, config_dir
from pipelines.contracts import SCHEMAS

TableName = Literal["leads", "activities", "stage_history"]
NUMBER_COLUMNS = {
    "leads": ("employees", "annual_revenue", "budget", "deal_value"),
    "activities": ("value",),
}
INTEGER_COLUMNS = ("employees",)
SHIPPED_MAPPINGS = Path(__file__).resolve().parents[2] / "configs" / "mappings"
_UNION_TAGS = {
    "str",
    "ColumnSpec",
    "function-after[_known_zone(), str]",
}


def _word_map(value: object) -> object:
    """A ``values:`` map with its keys and values as the mapping compares them."""
    if isinstance(value, dict):
        return {_words(k): _words(v) for k, v in value.items()}
    return value


class MappingError(ConfigError):
    """A mapping file is invalid, or does not fit the export it is applied to."""


def _words(value: object) -> str | None:
    """YAML reads yes/true/1 as bool or int: picklist keys and values are text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conditions(value: object) -> object:
    """``{column: value or [values]}`` with every value as text."""
    if isinstance(value, dict):
        return {
            k: [_words(v) for v in (vs if isinstance(vs, list | tuple) else [vs])]
            for k, vs in value.items()
        }
    return value


class TimedValue(Frozen):
    """What a column read as a time, or only where a condition holds, shares: ``when``, the
    time's ``format`` and ``timezone``, and how a date alone is read."""

    when: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="use the value only where a column holds one of these"
    )
    format: str | None = Field(None, description="strftime format of a time (default ISO 8601)")
    timezone: str | None = Field(None, description="zone of times without an offset")
    date_as: Literal["start", "end"] = Field(
        "start", description="a date alone is read as the start or the end of that day"
    )

    @field_validator("when", mode="before")
    @classmethod
    def _text_when(cls, value: object) -> object:
        return _conditions(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value) if value is not None else None


class ColumnSpec(TimedValue):
    """How one source column becomes one contract column.

    Keyed by the source column (``Id: lead_id`` or ``Id: {to: lead_id}``), or by the contract
    column with ``column`` naming the source (``converted_at: {column: close_date, when:
    {deal_stage: Won}}``): one source can then feed several contract columns.
    """

    to: str | None = Field(None, description="the contract column (default: the key)")
    column: str | None = Field(None, description="the source column, when the key is `to`")
    values: dict[str, str | None] = Field(
        default_factory=dict, description="source value → contract value (trimmed, any case)"
    )
    unmapped: Literal["keep", "missing"] = "keep"
    default: str | None = Field(None, description="used where the source value is empty")
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    scale: float | None = Field(None, description="numbers are multiplied by this")

    @field_validator("values", mode="before")
    @classmethod
    def _text_values(cls, value: object) -> object:
        return _word_map(value)

    @field_validator("true_values", "false_values", mode="before")
    @classmethod
    def _text_words(cls, value: object) -> object:
        return [_words(v) for v in value] if isinstance(value, list | tuple) else value


class OutcomeValues(Frozen):
    """Values of a status field that mean the lead converted, or was lost."""

    converted: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()

    @field_validator("converted", "lost", mode="before")
    @classmethod
    def _text_words(cls, value: object) -> object:
        return [_words(v) for v in value] if isinstance(value, list | tuple) else value


AttributeKind = Literal["category", "number", "text"]
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LOOKUP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class LookupSpec(Frozen):
    """A second file joined by a key, many rows to one: ``--lookup NAME=FILE`` names it."""

    key: str = Field(description="the column of this table's file holding the key")
    lookup_key: str | None = Field(None, description="the key column of the lookup file")


class StageEntry(TimedValue):
    """A date column of the leads file that is the time the lead entered ``stage``."""

    column: str
    stage: str


class AttributeSpec(Frozen):
    """A custom per-lead column: a category, a number or free text."""

    kind: AttributeKind
    column: str | None = Field(None, description="the source column (default: the name)")
    values: dict[str, str | None] = Field(default_factory=dict)
    scale: float | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _text_values(cls, value: object) -> object:
        return _word_map(value)


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

    lookups: dict[str, LookupSpec] = Field(
        default_factory=dict,
        description="files joined to this one by a key (--lookup NAME=FILE); their columns "
        "are named NAME.column",
    )
    stage_entries: tuple[StageEntry, ...] = Field(
        (), description="date columns of the leads file that are stage entries"
    )
    attributes: dict[str, AttributeSpec] = Field(
        default_factory=dict,
        description="custom per-lead columns known from creation (table lead_attributes); "
        "`name: kind` reads the column of that name",
    )

    @field_validator("attributes", mode="before")
    @classmethod
    def _kind_alone(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: {"kind": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("where", mode="before")
    @classmethod
    def _text_where(cls, value: object) -> object:
        return _conditions(value)

    def specs(self) -> list[tuple[str, ColumnSpec]]:
        """(source column, spec) pairs in file order, each spec with its contract column."""
        out = []
        for key, spec in self.columns.items():
            if not isinstance(spec, ColumnSpec):
                out.append((key, ColumnSpec(to=spec)))
            elif spec.column is not None:
                out.append((spec.column, spec.model_copy(update={"to": spec.to or key})))
            else:
                out.append((key, spec))
        return out

    def attribute_specs(self) -> list[tuple[str, AttributeSpec]]:
        """(attribute name, spec) pairs."""
        return list(self.attributes.items())

    def source_columns(self) -> set[str]:
        """Every column of the file the mapping reads (the others are reported as ignored)."""
        used = {s for s, _ in self.specs()} | set(self.where) | set(self.outcome_columns)
        for _, column in self.specs():
            used |= set(column.when)
        for entry in self.stage_entries:
            used |= {entry.column, *entry.when}
        used |= {spec.column or name for name, spec in self.attribute_specs()}
        return used


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
        has_stages = "stage_history" in self.tables or self.tables["leads"].stage_entries
        if self.outcomes_from_stage_history and not has_stages:
            raise ValueError(
                "outcomes_from_stage_history: needs a 'stage_history' table or stage_entries"
            )
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


def _check_extensions(table: str, spec: TableMapping) -> None:
    """Lookups, stage entries and attributes: names that are valid and in the right table."""
    for name in spec.lookups:
        if not LOOKUP_NAME.match(name):
            raise ValueError(f"tables.{table}.lookups.{name}: use letters, digits, _ and -")
    if table != "leads" and (spec.stage_entries or spec.attributes):
        raise ValueError(f"tables.{table}: stage_entries and attributes belong to leads")
    for name, _ in spec.attribute_specs():
        if not ATTRIBUTE_NAME.match(name):
            raise ValueError(
                f"tables.{table}.attributes.{name}: a name is [a-z][a-z0-9_], 40 at most"
            )
    for key, column in spec.columns.items():
        if isinstance(column, ColumnSpec) and column.column is None and column.to is None:
            raise ValueError(f"tables.{table}.columns.{key}: give `to` (or `column`)")


def _check_table(table: str, spec: TableMapping) -> None:
    _check_extensions(table, spec)
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
        if name in {s for s, _ in spec.specs()}:
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
