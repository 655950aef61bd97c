"""``leadscore top``, ``export`` and ``report``: what reps and managers read."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, errors, fail
from scoring.cli.options import (
    AllowFutureOpt,
    ConfigOpt,
    OutOpt,
    OwnerOpt,
    PlainOpt,
    RunAsOfOpt,
    StoreOpt,
    TrackingOpt,
    check_in_data,
    console,
    existing_store,
    existing_tracking,
    parse_date,
    write_output,
)
from scoring.cli.tables import print_table

if TYPE_CHECKING:
    import pandas as pd

    from pipelines.storage import Store


def top(
    owner: OwnerOpt = None,
    n: Annotated[int, typer.Option("-n", min=1, help="How many leads.")] = 20,
    as_of: RunAsOfOpt = None,
    store: StoreOpt = None,
    allow_future: AllowFutureOpt = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Also every reason and the BANT checklist.")
    ] = False,
    plain: PlainOpt = False,
) -> None:
    """Show the ranked leads (overall, or one rep's): who each lead is, and why it ranks there."""
    with errors():
        from pipelines import split_valid
        from scoring.reports import TOP_NUMBERS, read_lead_scores, top_list

        target, day_asked = _store_and_day(store, as_of, allow_future)
        scores = read_lead_scores(target, day_asked)
        if owner is not None and not (scores["owner_id"] == owner).any():
            fail(f"no scored leads for owner {owner!r}", EXIT_BAD_INPUT)
        leads, _ = split_valid("leads", target.read("leads"))
        rows = top_list(scores, leads, owner, n, wide)
        day = scores["as_of"].iloc[0].date() if len(scores) else "-"
        title = f"Top {len(rows)} leads as of {day}" + (f" for {owner}" if owner else "")
        print_table(rows, title, TOP_NUMBERS, plain, no_wrap=("lead", "company"))


def _store_and_day(
    store: str | None, as_of: str | None, allow_future: bool
) -> tuple[Store, pd.Timestamp | None]:
    """The existing store (opened read-only by every read) and the checked --as-of."""
    day = parse_date(as_of, allow_future)
    target = existing_store(store)
    if day is not None:
        check_in_data(target, day, allow_future)
    return target, day


class ExportFormat(StrEnum):
    csv = "csv"
    html = "html"


def _format_of(out: Path, fmt: ExportFormat | None) -> ExportFormat:
    if fmt is not None:
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    if suffix in ("htm", "html"):
        return ExportFormat.html
    if suffix == "csv":
        return ExportFormat.csv
    fail(f"--format: cannot tell from {out.name!r}; pass --format csv or html", EXIT_BAD_INPUT)
    raise AssertionError("unreachable")  # _fail raises


def _read_reference(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        fail(f"--reference: {path} is not a file", EXIT_BAD_INPUT)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        fail(f"--reference: {path.name} must be a .parquet or .csv file", EXIT_BAD_INPUT)
    try:
        return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as err:
        fail(f"--reference: cannot read {path}: {err}", EXIT_BAD_INPUT)
        raise


def export(
    out: OutOpt,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="csv or html (default: from the extension of --out)."),
    ] = None,
    owner: OwnerOpt = None,
    as_of: RunAsOfOpt = None,
    store: StoreOpt = None,
    allow_future: AllowFutureOpt = False,
) -> None:
    """Write each rep's ranked list (grade, score, qualification, BANT, reasons, trend) as CSV or HTML."""
    kind = _format_of(out, fmt)
    with errors():
        from pipelines import split_valid
        from scoring.reports import export_frame, read_lead_scores, render_export_html, to_csv

        target, day = _store_and_day(store, as_of, allow_future)
        scores = read_lead_scores(target, day)
        if scores.empty:
            fail(
                f"no scored leads as of {as_of or 'any date'}; run `leadscore score`",
                EXIT_BAD_INPUT,
            )
        leads, _ = split_valid("leads", target.read("leads"))
        frame = export_frame(scores, leads, owner)
        if frame.empty:
            fail(f"no scored leads for owner {owner!r}", EXIT_BAD_INPUT)
        day = scores["as_of"].iloc[0]
        model = f"{scores['model_name'].iloc[0]} v{scores['model_version'].iloc[0]}"
        content = to_csv(frame) if kind is ExportFormat.csv else render_export_html(
            frame, day, owner, model
        )  # fmt: skip
        write_output(out, content)
        console.print(
            f"wrote {len(frame):,} leads as of {day.date()} to {out}",
            highlight=False,
            soft_wrap=True,
        )


def report(
    out: OutOpt = Path("report.html"),
    as_of: RunAsOfOpt = None,
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
    tracking_uri: TrackingOpt = None,
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
    allow_future: AllowFutureOpt = False,
) -> None:
    """Write the pipeline and model health report: one self-contained HTML page with charts."""
    with errors():
        from pipelines import FeaturesConfig, LeadScores, load_config, read_inputs
        from scoring.reports import ReportInputs, current_features, render_report

        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        target, day = _store_and_day(store, as_of, allow_future)
        with console.status("reading and validating the CRM tables"):
            tables = read_inputs(target)
            scores = None
            if target.exists("lead_scores"):
                scores = LeadScores.validate(target.read("lead_scores"))
        if day is None:
            day = scores["as_of"].max() if scores is not None and len(scores) else None
        if day is None:
            day = tables.data_end().ceil("D")
        ref = current = None
        if reference is not None:
            ref = _read_reference(reference)
        else:
            from models import load_reference

            # No registry yet (never trained here): no drift section, and none created.
            if existing_tracking(store, tracking_uri) is not None:
                ref = load_reference(model_name)
        if ref is not None:
            with console.status("building features of the open leads for drift"):
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
        with console.status("computing metrics and drawing charts"):
            html = render_report(inputs)
        write_output(out, html)
        console.print(
            f"wrote the report as of {day.date()} to {out}", highlight=False, soft_wrap=True
        )
