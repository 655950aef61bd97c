"""What an import may do to the store: the rules that keep a careless import from destroying it.

An export is a snapshot of the CRM, but a header-only file, a wrong file or a half-finished
export is too. So before anything is written, each input table's rows before and after the
import are compared:

- ``leads`` can never be left empty (a store without leads is useless to every command);
- a table the import replaces is not emptied, nor shrunk by more than ``max_shrink`` of its
  rows, unless the import says so (``replace``);
- a table the import has no file for is kept as it is, unless ``replace_all`` empties it;
- ``lead_attributes`` (the loaded leads' mapped attributes replace theirs) follows the same
  rules: a mapping that lost its ``attributes:`` cannot silently drop the stored ones;
- a store holding a generated CRM is replaced whole (:func:`options_for`).

A refused import writes nothing: not the tables, not the quarantine, not even a lock file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from pipelines.config import Frozen
from pipelines.contracts import INPUT_TABLES
from pipelines.storage import Store, read_metadata

ATTRIBUTES = "lead_attributes"

__all__ = [
    "ImportRefused",
    "ImportSettings",
    "LoadOptions",
    "LoadPlan",
    "TableChange",
    "options_for",
    "plan_load",
]


class ImportSettings(Frozen):
    """``configs/import.yaml``: how much an import may take away without being told to."""

    max_shrink: float = Field(
        0.5,
        ge=0,
        le=1,
        description="refuse an import that removes more than this share of a table's rows "
        "(0: never shrink; 1: any shrink short of emptying) unless --replace",
    )


class ImportRefused(ValueError):
    """The import would empty or shrink a table past the rules; nothing was written.

    ``report`` is the import's :class:`~pipelines.ingest.ImportReport` (what it read and
    would have loaded), for a caller that prints it.
    """

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class LoadOptions:
    """How an import treats the tables already in the store (see the module docstring)."""

    max_shrink: float = 0.5
    replace: bool = False
    replace_all: bool = False
    dry_run: bool = False  # read, map, validate and plan; write nothing


@dataclass(frozen=True)
class TableChange:
    """One input table's rows before and after the import."""

    table: str
    before: int | None  # None: the store has no such table yet
    after: int
    replaced: bool  # False: the import keeps the table as it is

    def describe(self) -> str:
        """``leads 10,000 → 9,998``, ``stage_history kept (1,200 rows)`` or ``leads new (500)``."""
        if not self.replaced:
            return f"{self.table} kept ({self.before or 0:,} rows, not in this import)"
        if self.before is None:
            return f"{self.table} new ({self.after:,} rows)"
        return f"{self.table} {self.before:,} → {self.after:,}"


@dataclass(frozen=True)
class LoadPlan:
    """Every input table's change, and why the import may not go ahead (empty: it may)."""

    changes: tuple[TableChange, ...]
    refusals: tuple[str, ...]

    def refusal(self) -> str | None:
        """One line naming every table that would be lost, or None when none would."""
        if not self.refusals:
            return None
        return f"import refused, nothing written: {'; '.join(self.refusals)}"


def options_for(store: Store, options: LoadOptions) -> tuple[LoadOptions, str | None]:
    """``options`` as they apply to this store, and a note when they differ.

    A store holding a *generated* CRM (``data_origin``) is disposable, and keeping its
    synthetic activities beside imported leads would mix two CRMs: the import replaces it
    whole (``replace`` and ``replace_all``). A store without that record is treated as data.
    """
    if options.replace_all or read_metadata(store).get("data_origin") != "generated":
        return options, None
    note = "the store held a generated CRM: this import replaces all of it"
    return dataclasses.replace(options, replace=True, replace_all=True), note


def _refusal(change: TableChange, max_shrink: float, replace: bool) -> str | None:
    before, after = change.before or 0, change.after
    if change.table == "leads" and after == 0:
        return f"leads would be empty ({before:,} → 0 rows): the export has no loadable lead"
    if replace or not change.replaced or before == 0 or after >= before:
        return None
    if after == 0:
        return f"{change.table} would be emptied ({before:,} → 0 rows; --replace to accept)"
    lost = 1 - after / before
    if lost > max_shrink:
        return (
            f"{change.table} would shrink by {lost:.0%} ({before:,} → {after:,} rows), more "
            f"than max_shrink {max_shrink:.0%} (--replace to accept, --max-shrink to change)"
        )
    return None


def plan_load(
    store: Store, loaded: dict[str, int], options: LoadOptions, attributes: int | None = None
) -> LoadPlan:
    """Compares each input table's rows in the store with what the import would leave.

    Args:
        loaded: rows the import would write, for each table it has a file for.
        options: ``max_shrink``, the largest share of a table's rows an import may remove
            unasked; ``replace``, accept any shrink or emptying (never an empty ``leads``);
            ``replace_all``, tables without a file are emptied (on purpose), not kept.
        attributes: rows ``lead_attributes`` would hold after the import (None: the import
            leaves no such table); it is held to the same rules as the input tables.
    """
    max_shrink, replace, replace_all = options.max_shrink, options.replace, options.replace_all
    changes, refusals = [], []
    for table in INPUT_TABLES:
        before = store.count(table) if store.exists(table) else None
        replaced = table in loaded or replace_all
        after = loaded.get(table, 0) if replaced else (before or 0)
        change = TableChange(table, before, after, replaced)
        changes.append(change)
        asked = replace or (replace_all and table not in loaded)
        if (why := _refusal(change, max_shrink, asked)) is not None:
            refusals.append(why)
    if attributes is not None:
        before = store.count(ATTRIBUTES) if store.exists(ATTRIBUTES) else None
        change = TableChange(ATTRIBUTES, before, attributes, replaced=True)
        changes.append(change)
        if (why := _refusal(change, max_shrink, replace)) is not None:
            refusals.append(why)
    return LoadPlan(tuple(changes), tuple(refusals))
