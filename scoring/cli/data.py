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
    latent_tables,
)

if TYPE_CHECKING:
    from models import LeakageSettings
    from pipelines.ingest import ImportReport
    from pipelines.storage import Store


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
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a store that holds an imported CRM.")
    ] = False,
) -> None:
    """Generate a synthetic CRM (leads, activities, stage history) into the store.

    A store holding an imported CRM is refused (exit 2) unless --force.
    """
    shape = crm_shape(history_days, fill_on_close, period_shift, segment_drivers, with_latent)
    if dialect is not None:
        _generate_dialect(leads, seed, dialect, out, shape)
        return
    with errors():
        from pipelines import write_inputs
        from pipelines.storage import open_store, read_metadata

        target = open_store(store)
        # Only a store known to hold an import is protected: older stores have no record.
        if not force and read_metadata(target).get("data_origin") == "imported":
            fail(
                f"store {target.uri} holds an imported CRM: generate would overwrite it "
                "(--force to do so, or --store for another store)",
                EXIT_BAD_INPUT,
            )
        with console.status(f"generating {leads:,} leads"):
            tables = generate_shaped(leads, seed, shape)
            extra = latent_tables(target, tables.pop("latent", None))
            written = write_inputs(target, tables, origin="generated", extra=extra)
            if not len(extra.get(LATENT_TABLE, ())):
                written.pop(LATENT_TABLE, None)  # an emptied stale table is not news
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


ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace", help="Accept that a table shrinks by more than --max-shrink, or empties."
    ),
]
ReplaceAllOpt = Annotated[
    bool,
    typer.Option(
        "--replace-all", help="Empty the tables this import has no file for (default: kept)."
    ),
]
MaxShrinkOpt = Annotated[
    float | None,
    typer.Option(
        "--max-shrink",
        min=0.0,
        max=1.0,
        help="Refuse to remove more than this share of a table's rows "
        "(default: max_shrink in configs/import.yaml, 0.5).",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print what the import would do; write nothing.")
]


def _lookup_files(options: list[str] | None) -> dict[str, Path]:
    """``--lookup NAME=FILE`` options by name; a malformed or repeated one exits 2."""
    files: dict[str, Path] = {}
    for option in options or []:
        name, sep, path = option.partition("=")
        if not sep or not name.strip() or not path.strip():
            fail(
                f"--lookup {option!r}: expected NAME=FILE, e.g. accounts=accounts.csv",
                EXIT_BAD_INPUT,
            )
        if name.strip() in files:
            fail(f"--lookup {name.strip()}: given twice", EXIT_BAD_INPUT)
        files[name.strip()] = Path(path.strip())
    return files


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
    replace: ReplaceOpt = False,
    replace_all: ReplaceAllOpt = False,
    max_shrink: MaxShrinkOpt = None,
    dry_run: DryRunOpt = False,
    lookup: Annotated[
        list[str] | None,
        typer.Option(
            "--lookup",
            help="NAME=FILE: the file of the mapping's lookup NAME (e.g. accounts=accounts.csv), "
            "joined by its key; repeat for several.",
        ),
    ] = None,
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
) -> None:
    """Import a CRM export through a mapping: bad rows to quarantine, the rest into the store.

    Refused (exit 2, nothing written) when it would leave leads empty, or empty or shrink a
    table by more than --max-shrink without --replace. Tables without a file are kept.
    """
    with errors():
        from models import TrainConfig
        from pipelines import load_config
        from pipelines.ingest import (
            ExportFileError,
            ImportRefused,
            ImportSettings,
            LoadOptions,
            import_exports,
            load_mapping,
        )
        from pipelines.storage import open_store

        spec = load_mapping(mapping, config_dir)
        settings = load_config(ImportSettings, "import", config_dir)
        leakage = load_config(TrainConfig, "train", config_dir).leakage
        options = LoadOptions(
            max_shrink=settings.max_shrink if max_shrink is None else max_shrink,
            replace=replace,
            replace_all=replace_all,
            dry_run=dry_run,
        )
        files = {"leads": leads, "activities": activities, "stage_history": stage_history}
        given = {table: path for table, path in files.items() if path is not None}
        target = open_store(store)
        try:
            with console.status("reading, mapping and validating the export"):
                report = import_exports(
                    spec, given, target, options=options, lookups=_lookup_files(lookup)
                )
        except ExportFileError as err:
            fail(str(err), EXIT_BAD_INPUT)
        except ImportRefused as err:
            _print_import(err.report, leakage)
            fail(str(err), EXIT_BAD_INPUT)
        _print_import(report, leakage)
        _print_outcome(report, target)


def _print_import(report: ImportReport, leakage: LeakageSettings) -> None:
    from scoring.cli.import_summary import fill_rate_lines, table_lines

    for line in [*table_lines(report), *fill_rate_lines(report.leads, leakage)]:
        console.print(line, highlight=False, soft_wrap=True, markup=False)


def _print_outcome(report: ImportReport, target: Store) -> None:
    from scoring.cli.import_summary import plan_line

    if not report.written:
        console.print(f"dry run, nothing written; would leave {plan_line(report.plan)}")
        return
    quarantined = sum(report.rows_quarantined.values())
    where = f" (quarantine run {report.run_id})" if quarantined else ""
    console.print(
        f"wrote to [bold]{target.uri}[/]: {plan_line(report.plan)}{where}",
        highlight=False,
        soft_wrap=True,
    )
