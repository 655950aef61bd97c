"""``leadscore score``: the nightly job, on the engine named by ``--engine``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, errors, fail
from scoring.cli.options import (
    AsOfOpt,
    ConfigOpt,
    EngineName,
    EngineOpt,
    FlatOpt,
    ModelNameOpt,
    SparkMasterOpt,
    StoreOpt,
    TrackingOpt,
    console,
    parse_date,
    pick_engine,
    use_tracking,
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
) -> None:
    """Score every open lead with the champion model and write the ranked list (nightly job).

    With --flat FILE: score every row of one table with a flat-mode model.
    """
    if flat is not None:
        with errors():
            from scoring.cli.flat import score_flat_command

            use_tracking(store, tracking_uri)
            target = store if out is None and store is not None else None
            score_flat_command(flat, model_name, id_column, out, target, config_dir)
        return
    if model_name or id_column or out:
        fail("--model-name, --id and --out go with --flat FILE", EXIT_BAD_INPUT)
    with errors():
        import pandas as pd
        from rich.progress import Progress

        from pipelines import FeaturesConfig, load_config
        from pipelines.storage import open_store
        from scoring.cli.errors import err_console
        from scoring.config import ScoringConfig

        runner = pick_engine(engine, spark_master)
        cfg = load_config(ScoringConfig, "scoring", config_dir)
        features_cfg = load_config(FeaturesConfig, "features", config_dir)
        use_tracking(store, tracking_uri)
        day = parse_date(as_of) or pd.Timestamp.now(tz="UTC").normalize()
        opened = open_store(store)
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task(f"scoring on {runner.describe()} (leads read)", total=None)
            result = runner.score(
                opened,
                day,
                cfg,
                features_cfg,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        console.print(
            f"scored {result.rows_scored:,} open leads as of {day.date()} with {result.model.name} "
            f"v{result.model.version}; {result.rows_quarantined} input rows quarantined (run {result.run_id})"
        )
