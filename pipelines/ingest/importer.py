"""``leadscore import``: CRM export files → mapping → contract check → the store.

Rows that fail go to ``quarantine`` with the check they failed; a duplicated lead id keeps
its most recently created row (:mod:`pipelines.ingest.duplicates`). The others replace the
store's tables the import has files for; a table without a file is kept, and an import
that would empty or shrink a table is refused (:mod:`pipelines.ingest.loading`). The whole
import is one :meth:`~pipelines.storage.Store.write_batch`: one transaction, or files
committed together, so a killed import leaves the old tables.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.attributes import attribute_names
from pipelines.contracts import empty_table, quarantine_rows
from pipelines.ingest.duplicates import SUPERSEDED, resolve_duplicate_leads
from pipelines.ingest.loading import (
    ImportRefused,
    LoadOptions,
    LoadPlan,
    options_for,
    plan_load,
)
from pipelines.ingest.mappings import MappedExport, map_export
from pipelines.ingest.spec import Mapping, MappingError
from pipelines.inputs import CrmTables, member_of, validate_inputs
from pipelines.storage import Append, Operation, Overwrite, Part, Store, metadata_operation

EXPORT_SUFFIXES = (".csv", ".csv.gz", ".txt", ".parquet", ".pq")
_ORPHAN_SLICE_ROWS = 2_000_000  # kept rows read at a time to find those of departed leads


class ExportFileError(ValueError):
    """An export file is missing or cannot be read as CSV or Parquet."""


def read_export(path: str | Path) -> pd.DataFrame:
    """Reads a CSV (all columns as text, blanks as missing) or Parquet export file.

    Raises:
        ExportFileError: the file does not exist, or is not a CSV or Parquet file.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportFileError(f"{path}: no such file")
    name = path.name.lower()
    if not name.endswith(EXPORT_SUFFIXES):
        raise ExportFileError(f"{path}: expected a .csv or .parquet file")
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        # utf-8-sig: spreadsheet tools start CSV files with a byte-order mark.
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise ExportFileError(f"{path}: cannot be read ({str(err).splitlines()[0]})") from None


@dataclass
class ImportReport:
    """What an import read, loaded, set aside and ignored, per contract table."""

    run_id: str
    rows_read: dict[str, int]
    rows_filtered: dict[str, int]
    rows_loaded: dict[str, int]
    rows_quarantined: dict[str, int]
    reasons: dict[str, Counter[str]]
    mapped: MappedExport
    notes: list[str] = field(default_factory=list)
    leads: pd.DataFrame = field(default_factory=pd.DataFrame)  # the leads it loads
    plan: LoadPlan = field(default_factory=lambda: LoadPlan((), ()))
    written: bool = False  # False for a dry run


def _with_mapping_failures(
    mapped: MappedExport,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, pd.Index]]:
    """Frames without the rows whose numbers did not parse, and those rows' positions."""
    raw: dict[str, pd.DataFrame | None] = {}
    dropped: dict[str, pd.Index] = {}
    for table, frame in mapped.tables.items():
        bad = mapped.rejected.get(table)
        rows = pd.Index(np.unique(bad["row_index"])) if bad is not None else pd.Index([])
        dropped[table] = rows
        raw[table] = frame.drop(index=rows)
    return raw, dropped


def validate_mapped(mapped: MappedExport) -> CrmTables:
    """Validates mapped tables; rows the mapping could not parse are rejected with the rest.

    Rejections address rows of ``mapped.tables`` (their positions); an activity or stage
    row of a lead rejected for a number it could not parse fails ``lead_quarantined``.
    """
    raw, dropped = _with_mapping_failures(mapped)
    raw["leads"], superseded = resolve_duplicate_leads(raw["leads"])  # type: ignore[arg-type]
    for name in ("activities", "stage_history"):
        raw.setdefault(name, None)
    superseded_stages = _drop_superseded_stage_entries(mapped, raw, superseded)
    attributes = None
    if mapped.attributes is not None and mapped.attribute_sources is not None:
        # A superseded copy of a duplicated lead takes its attributes with it.
        from_superseded = np.isin(mapped.attribute_sources, superseded["row_index"])
        attributes = raw["lead_attributes"] = mapped.attributes[~from_superseded]
    tables = validate_inputs(raw)
    bad_leads = mapped.tables["leads"].loc[dropped["leads"], "lead_id"]
    for table, kept in raw.items():
        if kept is None or table not in mapped.tables:
            continue
        source, rejected = tables.rejected[table]
        # split_valid addressed the kept rows by position: map back to the mapped frame.
        rejected = rejected.assign(row_index=kept.index.to_numpy()[rejected["row_index"]])
        orphan = (rejected["check"] == "references_leads") & rejected["failure_case"].isin(
            bad_leads.astype(str)
        )
        rejected.loc[orphan, "check"] = "lead_quarantined"
        own = [
            mapped.rejected.get(table),
            {"leads": superseded, "stage_history": superseded_stages}.get(table),
        ]
        if any(frame is not None and len(frame) for frame in own):
            parts = [frame for frame in (*own, rejected) if frame is not None and len(frame)]
            rejected = pd.concat(parts, ignore_index=True)
        tables.rejected[table] = (mapped.tables[table], rejected.reset_index(drop=True))
    if attributes is not None:
        tables.rejected["lead_attributes"] = _attribute_rejections(mapped, attributes, tables)
    tables.raw_counts = {t: len(f) for t, f in mapped.tables.items()}
    return tables


def _stage_fill_notes(mapped: MappedExport, tables: CrmTables) -> list[str]:
    """How many *loaded* leads got an outcome time from the stage history."""
    _, bad = tables.rejected["leads"]
    notes = []
    for column, (stage, filled) in mapped.filled_from_stages.items():
        count = int((~filled.isin(bad["row_index"])).sum())
        if count:
            notes.append(f"{count} leads got {column} from their first '{stage}' stage entry")
    return notes


def _kept_orphan_notes(store: Store, plan: LoadPlan, leads: pd.DataFrame) -> list[str]:
    """Kept tables' rows that name a lead the new ``leads`` lacks (read slice by slice)."""
    notes = []
    for change in plan.changes:
        if change.replaced or not change.before:
            continue
        parts = max(1, -(-change.before // _ORPHAN_SLICE_ROWS))
        orphans = 0
        for index in range(parts):
            ids = store.read(change.table, part=Part(index, parts))["lead_id"]
            orphans += int((~member_of(ids, leads["lead_id"])).sum())
        if orphans:
            notes.append(
                f"{change.table} kept: {orphans:,} of its {change.before:,} rows name leads "
                "not in this import (set aside as references_leads when read; --replace-all "
                "empties the table)"
            )
    return notes


def _operations(
    run_id: str, tables: CrmTables, given: list[str], options: LoadOptions
) -> tuple[list[Operation], dict[str, pd.DataFrame]]:
    """The import's writes, one batch: the tables it replaces, its quarantine, its origin."""
    valid = {
        "leads": tables.leads.drop(columns=attribute_names(tables.leads.columns)),
        "activities": tables.activities,
        "stage_history": tables.stage_history,
    }
    replaced = {
        name: (frame if name in given and frame is not None else empty_table(name))
        for name, frame in valid.items()
        if name in given or options.replace_all
    }
    operations: list[Operation] = [Overwrite(n, f) for n, f in replaced.items()]
    quarantine = pd.concat(
        [quarantine_rows(run_id, name, raw, bad) for name, (raw, bad) in tables.rejected.items()],
        ignore_index=True,
    )
    if len(quarantine):
        operations.append(Append("quarantine", quarantine))
    operations.append(metadata_operation("data_origin", "imported"))
    return operations, replaced


def _drop_superseded_stage_entries(
    mapped: MappedExport, raw: dict[str, pd.DataFrame | None], superseded: pd.DataFrame
) -> pd.DataFrame | None:
    """Takes the stage rows made from a superseded copy's dates out of ``raw``; returns
    their rejections (``superseded_duplicate``)."""
    sources, stages = mapped.stage_entry_sources, raw.get("stage_history")
    if sources is None or stages is None:
        return None
    gone = sources.index[np.isin(sources.to_numpy(), superseded["row_index"])]
    gone = gone[gone.isin(stages.index)]
    raw["stage_history"] = stages.drop(index=gone)
    return pd.DataFrame(
        {
            "column": "lead_id",
            "check": SUPERSEDED,
            "failure_case": stages.loc[gone, "lead_id"].astype(str).to_numpy(),
            "row_index": gone.to_numpy(dtype="int64"),
        }
    )


def _lead_rejections(attributes: pd.DataFrame, rows: np.ndarray, check: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": "lead_id",
            "check": check,
            "failure_case": attributes.loc[rows, "lead_id"].astype(str).to_numpy(),
            "row_index": attributes.index[rows].to_numpy(dtype="int64"),
        }
    )


def _attribute_rejections(
    mapped: MappedExport, kept: pd.DataFrame, tables: CrmTables
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rejected attribute rows, addressed in ``mapped.attributes``: the check's, those of a
    superseded duplicate, and those of a lead that was not loaded (``lead_quarantined``)."""
    attributes = mapped.attributes
    assert attributes is not None
    _, rejected = tables.rejected["lead_attributes"]
    rejected = rejected.assign(row_index=kept.index.to_numpy()[rejected["row_index"]])
    superseded = ~attributes.index.isin(kept.index)
    rejected = pd.concat(
        [rejected, _lead_rejections(attributes, superseded, SUPERSEDED)], ignore_index=True
    )
    orphan = ~attributes["lead_id"].isin(tables.leads["lead_id"]) & ~attributes.index.isin(
        rejected["row_index"]
    )
    more = _lead_rejections(attributes, orphan.to_numpy(), "lead_quarantined")
    return attributes, pd.concat([rejected, more], ignore_index=True)


def read_lookups(mapping: Mapping, files: dict[str, Path] | None) -> dict[str, pd.DataFrame]:
    """Reads the lookup files given by name (``--lookup NAME=FILE``).

    Raises:
        MappingError: a name the mapping has no lookup for.
        ExportFileError: a file cannot be read.
    """
    known = {name for spec in mapping.tables.values() for name in spec.lookups}
    for name in files or {}:
        if name not in known:
            raise MappingError(
                f"--lookup {name}: the mapping has no lookup of that name "
                f"(its lookups: {', '.join(sorted(known)) or 'none'})"
            )
    return {name: read_export(path) for name, path in (files or {}).items()}


def attributes_after_import(
    store: Store, loaded_leads: pd.Series, attributes: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The ``lead_attributes`` table once the loaded leads' rows replace theirs (None: no
    table before, none now)."""
    if attributes is None and not store.exists("lead_attributes"):
        return None
    parts = [] if attributes is None else [attributes]
    if store.exists("lead_attributes"):
        old = store.read("lead_attributes")
        parts.insert(0, old[~old["lead_id"].isin(loaded_leads)])
    frame = pd.concat(parts, ignore_index=True) if parts else empty_table("lead_attributes")
    return frame[list(empty_table("lead_attributes").columns)]


def _attribute_rows(store: Store, tables: CrmTables) -> int | None:
    """Rows ``lead_attributes`` would hold after the import (None: no such table)."""
    after = attributes_after_import(store, tables.leads["lead_id"], tables.attributes)
    return None if after is None else len(after)


def import_exports(
    mapping: Mapping,
    files: dict[str, Path],
    store: Store,
    run_id: str | None = None,
    options: LoadOptions | None = None,
    lookups: dict[str, Path] | None = None,
) -> ImportReport:
    """Reads the export files (keyed by contract table), maps, validates and loads them.

    The store's tables are compared with what the import would leave first
    (:func:`~pipelines.ingest.loading.plan_load`); a refused import, or a dry run, writes
    nothing. Otherwise every write (tables, quarantine, ``lead_attributes``,
    ``data_origin=imported``) is one batch, under the store's lock.

    Args:
        lookups: the files of the mapping's ``lookups:``, by name.

    Raises:
        ExportFileError: a file cannot be read.
        MappingError: the mapping does not fit the files.
        ContractError: a table is unusable as a whole.
        ImportRefused: the import would empty or shrink a table past ``options``.
    """
    run_id = run_id or f"import-{uuid.uuid4().hex[:12]}"
    frames = {table: read_export(path) for table, path in files.items()}
    mapped = map_export(mapping, frames, read_lookups(mapping, lookups))
    tables = validate_mapped(mapped)
    given = list(frames)
    if "stage_history" not in frames and mapped.stage_entries:
        given.append("stage_history")  # derived from the leads file's stage dates
    options, replacing = options_for(store, options or LoadOptions())
    operations, replaced = _operations(run_id, tables, given, options)
    loaded = {name: len(frame) for name, frame in replaced.items() if name in given}
    # Tables the mapping derives from the leads file are reported like files read.
    read = {t: len(f) for t, f in frames.items()}
    if "stage_history" not in frames and mapped.stage_entries:
        read["stage_history"] = sum(mapped.stage_entries.values())
    shown = dict(loaded)
    if tables.attributes is not None and mapped.attributes is not None:
        read["lead_attributes"] = len(mapped.attributes)
        shown["lead_attributes"] = len(tables.attributes)
    report = ImportReport(
        run_id=run_id,
        rows_read=read,
        rows_filtered={t: mapped.filtered.get(t, 0) for t in read},
        rows_loaded=shown,
        rows_quarantined={
            t: int(bad["row_index"].nunique()) for t, (_, bad) in tables.rejected.items()
        },
        reasons={
            name: Counter(f"{r.column} {r.check}" for r in bad.itertuples())
            for name, (_, bad) in tables.rejected.items()
        },
        mapped=mapped,
        notes=[*mapped.notes, *_stage_fill_notes(mapped, tables), *filter(None, [replacing])],
        leads=tables.leads,
        plan=plan_load(store, loaded, options, _attribute_rows(store, tables)),
    )  # planned before the lock: a refusal touches nothing
    if (why := report.plan.refusal()) is not None:
        raise ImportRefused(why, report)
    report.notes.extend(_kept_orphan_notes(store, report.plan, tables.leads))
    if options.dry_run:
        return report
    with store.lock("scoring"):
        # The loaded leads' attribute rows replace theirs, the other leads' are kept.
        attributes = attributes_after_import(store, tables.leads["lead_id"], tables.attributes)
        rows = None if attributes is None else len(attributes)
        report.plan = plan_load(store, loaded, options, rows)  # the store may have changed
        if (why := report.plan.refusal()) is not None:
            raise ImportRefused(why, report)
        if attributes is not None:
            operations.append(Overwrite("lead_attributes", attributes))
        store.write_batch(operations)
    report.written = True
    return report
