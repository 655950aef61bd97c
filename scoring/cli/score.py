"""``leadscore score``: the nightly job, on the engine named by ``--engine``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, errors, fail
from scoring.cli.options import (
    AllowFutureOpt,
    AsOfOpt,
    ConfigOpt,
    EngineName,
    EngineOpt,
    FlatOpt,
    ModelNameOpt,
    SparkMasterOpt,
    StoreOpt,
    TrackingOpt,
    check_in_data,
    console,
    existing_store,
    parse_date,
    pick_engine,
    require_tracking,
)


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
    engine: EngineOpt = EngineName.embedded,
    spark_master: SparkMasterOpt = None,
    allow_future: AllowFutureOpt = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Score with this version, NAME@ALIAS or NAME/VERSION, even one trained on "
            "another store (default: the champion trained on this store).",
        ),
    ] = None,
) -> None:
    """Score every open lead with the champion model and write the ranked list (nightly job).

    With --flat FILE: score every row of one table with a flat-mode model.
    """
    if flat is not None:
        if model:
            fail("--model goes with a store; flat mode takes --model-name", EXIT_BAD_INPUT)
        with errors():
            from scoring.cli.flat import score_flat_command

            require_tracking(store, tracking_uri, store_matters=False)
            target = store if out is None and store is not None else None
            score_flat_command(flat, model_name, id_column, out, target, config_dir)
        return
    if model_name or id_column or out:
        fail("--model-name, --id and --out go with --flat FILE", EXIT_BAD_INPUT)
    with errors():
        import pandas as pd
        from rich.progress import Progress

        from pipelines import FeaturesConfig, load_config
        from scoring.cli.errors import err_console
        from scoring.config import ScoringConfig

        runner = pick_engine(engine, spark_master)
        cfg = load_config(ScoringConfig, "scoring", config_dir)
        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        day = parse_date(as_of, allow_future) or pd.Timestamp.now(tz="UTC").normalize()
        opened = existing_store(store)
        check_in_data(opened, day, allow_future, "--as-of" if as_of else "today")
        require_tracking(store, tracking_uri)
        choice = _model_for(opened, cfg.model_name, model)
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task(f"scoring on {runner.describe()} (leads read)", total=None)
            result = runner.score(
                opened,
                day,
                cfg,
                features_cfg,
                lambda done, total: bar.update(task, completed=done, total=total),
                choice,
            )
        console.print(
            f"scored {result.rows_scored:,} open leads as of {day.date()} with {result.model.name} "
            f"v{result.model.version}; {result.rows_quarantined} input rows quarantined (run {result.run_id})"
        )


def _model_for(store: Any, name: str, spec: str | None) -> Any:
    """The version to score with (``--model``, else this store's champion); a champion
    without a store tag is used with a warning."""
    from scoring.cli.errors import err_console
    from scoring.provenance import choose_model

    try:
        choice = choose_model(store, name, spec)
    except ValueError as err:
        fail(f"--model: {err}", EXIT_BAD_INPUT)
    if choice.warning:
        err_console.print(f"[yellow]warning:[/] {choice.warning}", highlight=False)
    return choice.ref
