"""``leadscore export`` and ``leadscore report``: what reps and managers read.

:func:`register` adds both commands to the main typer app. The helpers of
:mod:`scoring.cli` (error mapping, date parsing, console) and every heavy library are
imported inside the commands, so ``scoring.cli`` may import this module at any point
without an import cycle and ``leadscore --help`` stays fast.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store URI (default $LEADSCORE_STORE or duckdb:///data/leadscore.duckdb)."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Date (YYYY-MM-DD) of the scoring run (default: the latest)."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config-dir", help="Directory of YAML configs (default ./configs).")
]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)]


class ExportFormat(StrEnum):
    csv = "csv"
    html = "html"


def _format_of(out: Path, fmt: ExportFormat | None) -> ExportFormat:
    from scoring.cli import EXIT_BAD_INPUT, _fail

    if fmt is not None:
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    if suffix in ("htm", "html"):
        return ExportFormat.html
    if suffix == "csv":
        return ExportFormat.csv
    _fail(f"--format: cannot tell from {out.name!r}; pass --format csv or html", EXIT_BAD_INPUT)
    raise AssertionError("unreachable")  # _fail raises


def _write(out: Path, content: str) -> None:
    """Writes ``content`` to ``out`` atomically (a temporary file renamed over it)."""
    from scoring.cli import EXIT_BAD_INPUT, _fail

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        _fail(f"cannot write {out}: {err.strerror or err}", EXIT_BAD_INPUT)


def _read_reference(path: Path) -> pd.DataFrame:
    import pandas as pd

    from scoring.cli import EXIT_BAD_INPUT, _fail

    if not path.is_file():
        _fail(f"--reference: {path} is not a file", EXIT_BAD_INPUT)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        _fail(f"--reference: {path.name} must be a .parquet or .csv file", EXIT_BAD_INPUT)
    try:
        return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as err:
        _fail(f"--reference: cannot read {path}: {err}", EXIT_BAD_INPUT)
        raise


def export(
    out: OutOpt,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="csv or html (default: from the extension of --out)."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this rep's leads.")] = None,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write each rep's ranked list (grade, score, qualification, BANT, reasons, trend) as CSV or HTML."""
    from scoring import cli

    kind = _format_of(out, fmt)
    with cli._errors():
        from pipelines.contracts import split_valid
        from pipelines.storage import open_store
        from scoring.export import export_frame, render_export_html, to_csv
        from scoring.lists import read_lead_scores

        target = open_store(store)
        scores = read_lead_scores(target, cli._parse_date(as_of))
        if scores.empty:
            day = as_of or "any date"
            cli._fail(f"no scored leads as of {day}; run `leadscore score`", cli.EXIT_BAD_INPUT)
        leads, _ = split_valid("leads", target.read("leads"))
        frame = export_frame(scores, leads, owner)
        if frame.empty:
            cli._fail(f"no scored leads for owner {owner!r}", cli.EXIT_BAD_INPUT)
        day = scores["as_of"].iloc[0]
        model = f"{scores['model_name'].iloc[0]} v{scores['model_version'].iloc[0]}"
        content = to_csv(frame) if kind is ExportFormat.csv else render_export_html(
            frame, day, owner, model
        )  # fmt: skip
        _write(out, content)
        cli.console.print(
            f"wrote {len(frame):,} leads as of {day.date()} to {out}",
            highlight=False,
            soft_wrap=True,
        )


def report(
    out: OutOpt = Path("report.html"),
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            help="Sample of training features (.parquet or .csv) for feature drift "
            "(default: the champion's training sample in MLflow).",
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", help="MLflow tracking URI (for the training sample)."),
    ] = None,
    model_name: Annotated[
        str, typer.Option("--model-name", help="Registered model name.")
    ] = "lead-conversion",
    window_days: Annotated[
        int, typer.Option("--window-days", min=7, help="Cohort and closed-deal window.")
    ] = 365,
    dormant_days: Annotated[
        int, typer.Option("--dormant-days", min=1, help="Dormant after this many idle days.")
    ] = 30,
    disqualify_days: Annotated[
        int, typer.Option("--disqualify-days", min=1, help="Suggest disqualifying after this.")
    ] = 90,
) -> None:
    """Write the pipeline and model health report: one self-contained HTML page with charts."""
    from scoring import cli

    with cli._errors():
        from pipelines.config import FeaturesConfig, load_config
        from pipelines.contracts import LeadScores
        from pipelines.inputs import read_inputs
        from pipelines.storage import open_store
        from scoring.report import ReportInputs, current_features, render_report

        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        target = open_store(store)
        with cli.console.status("reading and validating the CRM tables"):
            tables = read_inputs(target)
            scores = None
            if target.exists("lead_scores"):
                scores = LeadScores.validate(target.read("lead_scores"))
        day = cli._parse_date(as_of)
        if day is None:
            day = scores["as_of"].max() if scores is not None and len(scores) else None
        if day is None:
            day = tables.data_end().ceil("D")
        ref = current = None
        if reference is not None:
            ref = _read_reference(reference)
        else:
            from models import configure, load_reference
            from models.registry import tracking_uri as resolve_tracking

            configure(resolve_tracking(tracking_uri, cli._data_dir(store)))
            ref = load_reference(model_name)
        if ref is not None:
            with cli.console.status("building features of the open leads for drift"):
                current = current_features(
                    tables.leads, tables.activities, tables.stage_history, day, features_cfg
                )
        inputs = ReportInputs(
            leads=tables.leads,
            activities=tables.activities,
            stage_history=tables.stage_history,
            lead_scores=scores,
            as_of=day,
            stages=features_cfg.stages,
            horizon_days=features_cfg.horizon_days,
            window_days=window_days,
            dormant_days=dormant_days,
            disqualify_days=disqualify_days,
            reference=ref,
            current_features=current,
        )
        with cli.console.status("computing metrics and drawing charts"):
            html = render_report(inputs)
        _write(out, html)
        cli.console.print(
            f"wrote the report as of {day.date()} to {out}", highlight=False, soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    """Adds the ``export`` and ``report`` commands to ``app``."""
    app.command("export")(export)
    app.command("report")(report)
