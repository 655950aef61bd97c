"""``leadscore generate`` and ``leadscore import``: data into the store.

``import`` is a Python keyword, so its function is ``import_``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, errors, fail
from scoring.cli.options import ConfigOpt, StoreOpt, console
from scoring.cli.shapes import (
    LATENT_TABLE,
    FillOnCloseOpt,
    HistoryDaysOpt,
    PeriodShiftOpt,
    SegmentDriversOpt,
    WithLatentOpt,
    crm_shape,
    generate_shaped,
)

if TYPE_CHECKING:
    from pipelines.ingest import ImportReport


def generate(
    leads: Annotated[int, typer.Option("--leads", min=10, help="Number of leads.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same CRM).")] = 0,
    store: StoreOpt = None,
    dialect: Annotated[
        str | None,
        typer.Option(
            "--dialect",
            help="Write CSV exports shaped like salesforce, hubspot, flat (one table, a label) "
            "or opportunities (with a separate accounts.csv) to --out instead of the store.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", file_okay=False, help="Directory for --dialect files.")
    ] = None,
    history_days: HistoryDaysOpt = 730,
    fill_on_close: FillOnCloseOpt = None,
    period_shift: PeriodShiftOpt = False,
    segment_drivers: SegmentDriversOpt = False,
    with_latent: WithLatentOpt = False,
) -> None:
    """Generate a synthetic CRM (leads, activities, stage history) into the store."""
    shape = crm_shape(history_days, fill_on_close, period_shift, segment_drivers, with_latent)
    if dialect is not None:
        _generate_dialect(leads, seed, dialect, out, shape)
        return
    with errors():
        from pipelines import write_inputs
        from pipelines.storage import open_store

        target = open_store(store)
        with console.status(f"generating {leads:,} leads"):
            tables = generate_shaped(leads, seed, shape)
            latent = tables.pop("latent", None)
            written = write_inputs(target, tables)
            if latent is not None:
                target.write(LATENT_TABLE, latent)
                written[LATENT_TABLE] = len(latent)
        summary = ", ".join(f"{n:,} {t}" for t, n in written.items())
        console.print(f"wrote {summary} to [bold]{target.uri}[/]")


def _generate_dialect(
    leads: int, seed: int, dialect: str, out: Path | None, shape: dict[str, Any]
) -> None:
    """Writes the synthetic CRM as CSV exports of a CRM (or one flat table) to ``out``."""
    from pipelines.synthetic import DIALECTS, EXPORT_FILES, to_dialect

    if dialect not in DIALECTS:
        fail(f"--dialect: {dialect!r} is not one of {', '.join(DIALECTS)}", EXIT_BAD_INPUT)
    if out is None:
        fail("--dialect needs --out DIR (where the CSV files go)", EXIT_BAD_INPUT)
    with console.status(f"generating {leads:,} leads as a {dialect} export"):
        tables = generate_shaped(leads, seed, shape)
        latent = tables.pop("latent", None)
        frames = to_dialect(tables, dialect, seed)
        files = {table: out / EXPORT_FILES[dialect][table] for table in frames}
        if latent is not None:
            frames[LATENT_TABLE], files[LATENT_TABLE] = latent, out / f"{LATENT_TABLE}.csv"
        out.mkdir(parents=True, exist_ok=True)
        for table, frame in frames.items():
            frame.to_csv(files[table], index=False)
    for table, frame in frames.items():
        console.print(f"wrote {len(frame):,} rows to {files[table]}")


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
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
) -> None:
    """Import a CRM export through a mapping: bad rows to quarantine, the rest into the store."""
    with errors():
        from pipelines.ingest import ExportFileError, import_exports, load_mapping
        from pipelines.storage import open_store

        spec = load_mapping(mapping, config_dir)
        files = {"leads": leads, "activities": activities, "stage_history": stage_history}
        given = {table: path for table, path in files.items() if path is not None}
        target = open_store(store)
        try:
            with console.status("reading, mapping and validating the export"):
                report = import_exports(spec, given, target)
        except ExportFileError as err:
            fail(str(err), EXIT_BAD_INPUT)
        for line in _summary(report):
            console.print(line, highlight=False, soft_wrap=True)
        quarantined = sum(report.rows_quarantined.values())
        where = f" (quarantine run {report.run_id})" if quarantined else ""
        console.print(f"wrote leads, activities and stage_history to [bold]{target.uri}[/]{where}")
