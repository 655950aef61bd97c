"""The `leadscore` command line: thin commands over the library.

Exit codes (for schedulers): 0 ok; 2 bad input or usage (a table breaks the contract, a bad
option, a bad config); 3 no champion model; 4 store unavailable (cannot open, missing
table); 5 another run holds the store's lock; 6 not enough data to train.
Heavy libraries are imported inside commands so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from scoring.cli_import import register as register_import
from scoring.cli_reports import register as register_reports

EXIT_BAD_INPUT = 2
EXIT_NO_CHAMPION = 3
EXIT_STORE_UNAVAILABLE = 4
EXIT_LOCKED = 5
EXIT_INSUFFICIENT_DATA = 6

app = typer.Typer(
    help="leadscore: explainable lead scoring and qualification for B2B sales teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store URI (default $LEADSCORE_STORE or duckdb:///data/leadscore.duckdb)."
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config-dir", help="Directory of YAML configs (default ./configs).")
]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///data/mlflow.db).",
    ),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Date (YYYY-MM-DD) the run is as of.")]
FlatOpt = Annotated[
    Path | None,
    typer.Option("--flat", dir_okay=False, help="Flat mode: one CSV or Parquet table, no history."),
]


class Engine(StrEnum):
    embedded = "embedded"
    spark = "spark"


EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="embedded (DuckDB, one machine) or spark (install leadscore\\[spark]; Java 17).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the master URL (default: the usual Spark settings, else "
        "local[*]).",
    ),
]
ModelNameOpt = Annotated[
    str | None,
    typer.Option(
        "--model-name", help="Flat mode: registered model name (default lead-conversion-flat)."
    ),
]


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Maps library errors to one-line messages and documented exit codes."""
    from pipelines.config import ConfigError
    from pipelines.contracts import ContractError
    from pipelines.storage import StoreError, StoreLocked, TableNotFound

    try:
        yield
    except StoreLocked as err:
        _fail(str(err), EXIT_LOCKED)
    except (TableNotFound, StoreError) as err:
        _fail(str(err), EXIT_STORE_UNAVAILABLE)
    except (ContractError, ConfigError) as err:
        _fail(str(err), EXIT_BAD_INPUT)
    except Exception as err:
        from models import InsufficientDataError, NoChampionError

        if isinstance(err, NoChampionError):
            _fail(str(err), EXIT_NO_CHAMPION)
        if isinstance(err, InsufficientDataError):
            _fail(str(err), EXIT_INSUFFICIENT_DATA)
        raise


def _parse_date(value: str | None) -> Any:
    import pandas as pd

    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
        # A plain date means midnight UTC; an explicit offset is honoured.
        return (
            stamp.tz_localize("UTC").normalize()
            if stamp.tzinfo is None
            else stamp.tz_convert("UTC")
        )
    except ValueError:
        _fail(f"--as-of: {value!r} is not a date (expected YYYY-MM-DD)", EXIT_BAD_INPUT)


def _data_dir(store_uri: str | None) -> Path:
    """Where MLflow's sqlite file goes by default: beside a local store, else ./data."""
    from pipelines.storage import DuckDBStore, FileStore, open_store

    store = open_store(store_uri)
    if isinstance(store, DuckDBStore):
        return store.path.parent
    if isinstance(store, FileStore):
        return store.root
    return Path("data")


@app.command()
def generate(
    leads: Annotated[int, typer.Option("--leads", min=10, help="Number of leads.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same CRM).")] = 0,
    store: StoreOpt = None,
    dialect: Annotated[
        str | None,
        typer.Option(
            "--dialect",
            help="Write CSV exports shaped like salesforce, hubspot or flat (one table, a "
            "label) to --out instead of the store.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", file_okay=False, help="Directory for --dialect files.")
    ] = None,
) -> None:
    """Generate a synthetic CRM (leads, activities, stage history) into the store."""
    if dialect is not None:
        _generate_dialect(leads, seed, dialect, out)
        return
    with _errors():
        from pipelines.inputs import write_inputs
        from pipelines.storage import open_store
        from pipelines.synthetic import generate_crm

        target = open_store(store)
        with console.status(f"generating {leads:,} leads"):
            tables = generate_crm(leads, seed=seed)
            written = write_inputs(target, tables)
        summary = ", ".join(f"{n:,} {t}" for t, n in written.items())
        console.print(f"wrote {summary} to [bold]{target.uri}[/]")


def _generate_dialect(leads: int, seed: int, dialect: str, out: Path | None) -> None:
    """Writes the synthetic CRM as CSV exports of a CRM (or one flat table) to ``out``."""
    from pipelines.synthetic import DIALECTS, EXPORT_FILES, generate_crm, to_dialect

    if dialect not in DIALECTS:
        _fail(f"--dialect: {dialect!r} is not one of {', '.join(DIALECTS)}", EXIT_BAD_INPUT)
    if out is None:
        _fail("--dialect needs --out DIR (where the CSV files go)", EXIT_BAD_INPUT)
        return
    with console.status(f"generating {leads:,} leads as a {dialect} export"):
        frames = to_dialect(generate_crm(leads, seed=seed), dialect, seed)
        out.mkdir(parents=True, exist_ok=True)
        for table, frame in frames.items():
            frame.to_csv(out / EXPORT_FILES[dialect][table], index=False)
    for table, frame in frames.items():
        console.print(f"wrote {len(frame):,} rows to {out / EXPORT_FILES[dialect][table]}")


@app.command()
def train(
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
    tracking_uri: TrackingOpt = None,
    as_of: AsOfOpt = None,
    flat: FlatOpt = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Flat mode: the outcome column (1/0, yes/no).")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Flat mode: the column naming each row.")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Flat mode: a column to leave out (repeatable)."),
    ] = None,
    model_name: ModelNameOpt = None,
    engine: EngineOpt = Engine.embedded,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Train a conversion model on point-in-time snapshots, log it to MLflow, gate promotion.

    With --flat FILE: train on one table with a --label column and no event history. With
    --engine spark the snapshots' event features are computed on Spark; the model is still
    fitted on this machine.
    """
    if flat is not None:
        with _errors():
            from models.registry import tracking_uri as resolve_tracking
            from scoring.cli_flat import train_flat_command

            tracking = resolve_tracking(tracking_uri, _data_dir(store))
            train_flat_command(flat, label, id_column, exclude, model_name, config_dir, tracking)
        return
    if label or id_column or exclude or model_name:
        _fail("--label, --id, --exclude and --model-name go with --flat FILE", EXIT_BAD_INPUT)
    with _errors():
        from models import TrainConfig, train_model
        from models.registry import tracking_uri as resolve_tracking
        from pipelines.config import FeaturesConfig, load_config
        from scoring.config import ScoringConfig

        train_cfg = load_config(TrainConfig, "train", config_dir)
        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        tracking = resolve_tracking(tracking_uri, _data_dir(store))
        builder = _feature_builder(engine, spark_master)
        with console.status("reading and validating the CRM tables"):
            tables = _training_tables(engine, spark_master, store)
        if tables.rows_rejected:
            console.print(
                f"[yellow]{tables.rows_rejected} input rows fail the contract and are left out[/]"
            )
        grades = load_config(ScoringConfig, "scoring", config_dir).grades.model_dump()
        with console.status(
            "building snapshots, training, evaluating against baselines, logging to MLflow"
        ):
            result = train_model(
                tables, train_cfg, features_cfg, tracking, _parse_date(as_of), grades, builder
            )
        console.print(
            f"trained {result.model_name} v{result.version} (run {result.run_id}); calibration: {result.calibration}\n"
            f"rows: {result.fold_sizes}; holdout {result.folds.test_start.date()}..{result.folds.test_end.date()}"
        )
        console.print(_evaluation_table(result.evaluation))
        for row in result.leakage.itertuples():
            verb = (
                "[red]dropped[/]"
                if row.action == "drop"
                else "[yellow]check this is known before the outcome:[/]"
            )
            console.print(f"{verb} {row.feature} (AUC alone {row.auc:.3f})")
        state = (
            "promoted to [bold green]@champion[/]" if result.promoted else "[yellow]not promoted[/]"
        )
        console.print(f"{state}: {result.reason}\nMLflow: {tracking}")


def _spark(master: str | None) -> Any:
    """The Spark session, or exit 2 with a one-line reason (no pyspark, no Java)."""
    from pipelines.spark_engine import SparkUnavailable, spark_session

    try:
        return spark_session(master)
    except SparkUnavailable as err:
        _fail(str(err), EXIT_BAD_INPUT)


def _feature_builder(engine: Engine, master: str | None) -> Any:
    """The training feature builder of ``engine``: DuckDB here, or Spark."""
    from pipelines.features import build_feature_frame

    if engine is Engine.embedded:
        if master:
            _fail("--spark-master goes with --engine spark", EXIT_BAD_INPUT)
        return build_feature_frame
    import functools

    from pipelines.spark_engine import build_feature_frame_spark

    return functools.partial(build_feature_frame_spark, _spark(master))


def _training_tables(engine: Engine, master: str | None, store: str | None) -> Any:
    """The validated inputs: read here, or on Spark with the events left there."""
    from pipelines.inputs import read_inputs
    from pipelines.storage import open_store, store_uri

    if engine is Engine.embedded:
        return read_inputs(open_store(store))
    from pipelines.spark_inputs import training_tables_spark

    uri = store_uri(store)
    return training_tables_spark(_spark(master), uri)


def _evaluation_table(evaluation: Any) -> Any:
    from rich.table import Table

    table = Table(title="Holdout evaluation (latest period)")
    columns = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top20")
    headers = ("AUC", "PR AUC", "Brier", "log loss", "ECE", "lift@10%", "capture@20%")
    table.add_column("model", no_wrap=True, min_width=11)
    for header in headers:
        table.add_column(header, justify="right")
    for row in evaluation.to_dict(orient="records"):
        table.add_row(row["model"], *(f"{row[c]:.4f}" for c in columns))
    return table


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Registered version to make @champion.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (recorded in the champion history).")
    ],
    store: StoreOpt = None,
    tracking_uri: TrackingOpt = None,
    name: Annotated[str, typer.Option("--name", help="Registered model name.")] = "lead-conversion",
) -> None:
    """Force a version to @champion, bypassing the gate; the reason is recorded."""
    with _errors():
        from models import configure, set_champion
        from models.registry import tracking_uri as resolve_tracking

        if not reason.strip():
            _fail("--reason must say why the gate is bypassed", EXIT_BAD_INPUT)
        configure(resolve_tracking(tracking_uri, _data_dir(store)))
        set_champion(name, version, f"forced: {reason.strip()}")
        console.print(f"{name} v{version} is now @champion (forced: {reason.strip()})")


@app.command()
def score(
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
    tracking_uri: TrackingOpt = None,
    flat: FlatOpt = None,
    model_name: ModelNameOpt = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Flat mode: the row id column (default: training's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            dir_okay=False,
            help="Flat mode: CSV or Parquet file for the ranked list "
            "(default data/<model-name>-scores.csv; with --store: a table instead).",
        ),
    ] = None,
    engine: EngineOpt = Engine.embedded,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Score every open lead with the champion model and write the ranked list (nightly job).

    With --flat FILE: score every row of one table with a flat-mode model.
    """
    if flat is not None:
        with _errors():
            from models import configure
            from models.registry import tracking_uri as resolve_tracking
            from scoring.cli_flat import score_flat_command

            configure(resolve_tracking(tracking_uri, _data_dir(store)))
            target = store if out is None and store is not None else None
            score_flat_command(flat, model_name, id_column, out, target, config_dir)
        return
    if model_name or id_column or out:
        _fail("--model-name, --id and --out go with --flat FILE", EXIT_BAD_INPUT)
    with _errors():
        import pandas as pd
        from rich.progress import Progress

        from models import configure
        from models.registry import tracking_uri as resolve_tracking
        from pipelines.config import FeaturesConfig, load_config
        from pipelines.storage import open_store
        from scoring.config import ScoringConfig
        from scoring.scorer import run_scoring

        cfg = load_config(ScoringConfig, "scoring", config_dir)
        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        configure(resolve_tracking(tracking_uri, _data_dir(store)))
        day = _parse_date(as_of) or pd.Timestamp.now(tz="UTC").normalize()
        if engine is Engine.spark:
            from pipelines.storage import store_uri
            from scoring.spark_scorer import run_scoring_spark

            session = _spark(spark_master)
            uri = store_uri(store)
            with err_console.status(f"scoring on Spark ({session.sparkContext.master})"):
                result = run_scoring_spark(session, uri, day, cfg, features_cfg)
        elif spark_master:
            _fail("--spark-master goes with --engine spark", EXIT_BAD_INPUT)
        else:
            with Progress(console=err_console, transient=True) as bar:
                task = bar.add_task("scoring (leads read)", total=None)
                result = run_scoring(
                    open_store(store),
                    day,
                    cfg,
                    features_cfg,
                    lambda done, total: bar.update(task, completed=done, total=total),
                )
        console.print(
            f"scored {result.rows_scored:,} open leads as of {day.date()} with {result.model.name} "
            f"v{result.model.version}; {result.rows_quarantined} input rows quarantined (run {result.run_id})"
        )


@app.command()
def top(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this rep's leads.")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="How many leads.")] = 20,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show the ranked leads (overall, or one rep's) from the latest or a given scoring run."""
    with _errors():
        from rich.table import Table

        from pipelines.storage import open_store
        from scoring.lists import read_lead_scores

        scores = read_lead_scores(open_store(store), _parse_date(as_of))
        if owner is not None:
            scores = scores[scores["owner_id"] == owner]
            if scores.empty:
                _fail(f"no scored leads for owner {owner!r}", EXIT_BAD_INPUT)
        rank = "rank_in_owner" if owner else "rank_overall"
        scores = scores.sort_values(rank).head(n)
        day = scores["as_of"].iloc[0].date() if len(scores) else "-"
        table = Table(
            title=f"Top {len(scores)} leads as of {day}" + (f" for {owner}" if owner else "")
        )
        for column in ("#", "lead", "owner", "score", "grade", "probability", "expected value"):
            table.add_column(
                column, justify="right" if column not in ("lead", "owner", "grade") else "left"
            )
        for row in scores.itertuples():
            table.add_row(
                str(getattr(row, rank)),
                row.lead_id,
                row.owner_id if isinstance(row.owner_id, str) else "-",
                f"{row.score:.1f}",
                row.grade,
                f"{row.probability:.3f}",
                f"{row.expected_value:,.0f}",
            )
        console.print(table)


@app.command()
def models(
    store: StoreOpt = None,
    tracking_uri: TrackingOpt = None,
    name: Annotated[str, typer.Option("--name", help="Registered model name.")] = "lead-conversion",
) -> None:
    """List registered model versions with holdout metrics, aliases and champion history."""
    with _errors():
        from models import champion_history, configure, list_versions
        from models.registry import tracking_uri as resolve_tracking

        configure(resolve_tracking(tracking_uri, _data_dir(store)))
        versions = list_versions(name)
        if versions.empty:
            _fail(
                f"no versions of model '{name}' registered; run `leadscore train`", EXIT_NO_CHAMPION
            )
        console.print(versions.to_string(index=False))
        console.print("\nchampion history (who held @champion when):")
        events = champion_history(name)
        for event, after in zip(events, [*events[1:], None], strict=True):
            until = after["at"][:19] if after else "now"
            console.print(
                f"  v{event['version']}: {event['at'][:19]} → {until}  ({event['reason']})"
            )


register_reports(app)
register_import(app)


def main() -> None:
    """Entry point of the `leadscore` console script."""
    logging.basicConfig(
        level=os.environ.get("LEADSCORE_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # pandera imports pyspark.pandas where the spark extra is installed, and pyspark warns
    # at every import that pandas 3 is "not fully supported" (measured: it works here).
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    app(prog_name="leadscore")


if __name__ == "__main__":  # pragma: no cover
    main()
