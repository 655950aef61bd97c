"""``leadscore import``: load a CRM export (Salesforce, HubSpot, your own) through a mapping.

:func:`register` adds the command to the main typer app (``import`` is a Python keyword, so
the function is ``import_``). Helpers of :mod:`scoring.cli` and heavy libraries are
imported inside the command, so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pipelines.importer import ImportReport


def _summary(report: ImportReport) -> list[str]:
    lines = []
    for table, read in report.rows_read.items():
        parts = [f"read {read:,}"]
        if report.rows_filtered.get(table):
            parts.append(f"left out by the mapping's `where` {report.rows_filtered[table]:,}")
        parts.append(f"loaded {report.rows_loaded[table]:,}")
        parts.append(f"quarantined {report.rows_quarantined.get(table, 0):,}")
        reasons = report.reasons.get(table)
        why = (
            ", ".join(f"{reason}: {n:,}" for reason, n in reasons.most_common(4)) if reasons else ""
        )
        lines.append(f"{table}: {', '.join(parts)}" + (f" ({why})" if why else ""))
    mapped = report.mapped
    for table, columns in mapped.ignored.items():
        if columns:
            lines.append(f"ignored {table} columns (not in the mapping): {', '.join(columns)}")
    for table, columns in mapped.outcome_only.items():
        if columns:
            lines.append(f"outcome only, never features ({table}): {', '.join(columns)}")
    for table, columns in mapped.absent.items():
        if columns:
            lines.append(f"mapped but not in the {table} file (left empty): {', '.join(columns)}")
    for column, counts in mapped.unmapped_values.items():
        shown = ", ".join(f"{value!r} ({n:,})" for value, n in counts.head(5).items())
        more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
        lines.append(f"values not in the mapping for {column}, kept as they are: {shown}{more}")
    lines.extend(report.notes)
    return lines


def import_(
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            help="A mapping name in configs/mappings/ (salesforce, hubspot) or a YAML path.",
        ),
    ],
    leads: Annotated[
        Path, typer.Option("--leads", dir_okay=False, help="Leads export (CSV or Parquet).")
    ],
    activities: Annotated[
        Path | None,
        typer.Option("--activities", dir_okay=False, help="Activities export (optional)."),
    ] = None,
    stage_history: Annotated[
        Path | None,
        typer.Option("--stage-history", dir_okay=False, help="Stage/status history (optional)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Store URI (default $LEADSCORE_STORE or duckdb:///data/leadscore.duckdb).",
        ),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option("--config-dir", help="Directory of YAML configs (default ./configs)."),
    ] = None,
) -> None:
    """Import a CRM export through a mapping: bad rows to quarantine, the rest into the store."""
    from scoring.cli import EXIT_BAD_INPUT, _errors, _fail, console

    with _errors():
        from pipelines.importer import ExportFileError, import_exports
        from pipelines.mappings import load_mapping
        from pipelines.storage import open_store

        spec = load_mapping(mapping, config_dir)
        files = {"leads": leads, "activities": activities, "stage_history": stage_history}
        given = {table: path for table, path in files.items() if path is not None}
        target = open_store(store)
        try:
            with console.status("reading, mapping and validating the export"):
                report = import_exports(spec, given, target)
        except ExportFileError as err:
            _fail(str(err), EXIT_BAD_INPUT)
            return
        for line in _summary(report):
            console.print(line, highlight=False, soft_wrap=True)
        quarantined = sum(report.rows_quarantined.values())
        where = f" (quarantine run {report.run_id})" if quarantined else ""
        console.print(f"wrote leads, activities and stage_history to [bold]{target.uri}[/]{where}")


def register(app: typer.Typer) -> None:
    """Adds ``import`` to ``app``."""
    app.command(name="import")(import_)
