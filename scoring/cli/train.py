"""``leadscore train``, ``promote`` and ``models``: models in and out of the registry."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, EXIT_NO_CHAMPION, errors, fail
from scoring.cli.options import (
    AllowFutureOpt,
    ConfigOpt,
    EngineName,
    EngineOpt,
    FlatOpt,
    ModelNameOpt,
    PlainOpt,
    SparkMasterOpt,
    StoreOpt,
    TrackingOpt,
    TrainAsOfOpt,
    check_in_data,
    console,
    existing_store,
    parse_date,
    pick_engine,
    require_tracking,
    use_tracking,
)
from scoring.cli.tables import print_evaluation, print_folds, print_segments, print_table

NameOpt = Annotated[str, typer.Option("--name", help="Registered model name.")]
SegmentByOpt = Annotated[
    str | None,
    typer.Option(
        "--segment-by",
        help="Also a model per value of this input column (source, industry, a mapped "
        "attribute) where it has the data and beats the global model on its holdout.",
    ),
]
VERSION_NUMBERS = ("version", "AUC", "Brier")


def train(
    store: StoreOpt = None,
    config_dir: ConfigOpt = None,
    tracking_uri: TrackingOpt = None,
    as_of: TrainAsOfOpt = None,
    flat: FlatOpt = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Flat mode: the outcome column (1/0, yes/no).")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Flat mode: the column naming each row.")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="An input column the model must not use (repeatable)."),
    ] = None,
    model_name: ModelNameOpt = None,
    time_column: Annotated[
        str | None,
        typer.Option(
            "--time-column", help="Flat mode: split by this time column (earliest rows train)."
        ),
    ] = None,
    ordered: Annotated[
        bool,
        typer.Option("--ordered", help="Flat mode: the rows are in time order; split by position."),
    ] = False,
    engine: EngineOpt = EngineName.embedded,
    spark_master: SparkMasterOpt = None,
    segment_by: SegmentByOpt = None,
    allow_future: AllowFutureOpt = False,
) -> None:
    """Train a conversion model on point-in-time snapshots, log it to MLflow, gate promotion.

    With --flat FILE: train on one table with a --label column and no event history. With
    --engine spark the snapshots' event features are computed on Spark; the model is still
    fitted on this machine.
    """
    if flat is not None and segment_by:
        fail("--segment-by goes with point-in-time training, not with --flat", EXIT_BAD_INPUT)
    if flat is not None:
        with errors():
            from scoring.cli.flat import train_flat_command

            tracking = use_tracking(store, tracking_uri)
            train_flat_command(
                flat,
                label,
                id_column,
                exclude,
                model_name,
                config_dir,
                tracking,
                time_column,
                ordered,
            )
        return
    if label or id_column or model_name or time_column or ordered:
        fail(
            "--label, --id, --model-name, --time-column and --ordered go with --flat FILE",
            EXIT_BAD_INPUT,
        )
    with errors():
        day = parse_date(as_of, allow_future)
        opened = existing_store(store)
        if day is not None:
            check_in_data(opened, day, allow_future)
        _train_point_in_time(
            opened,
            store,
            config_dir,
            tracking_uri,
            day,
            engine,
            spark_master,
            tuple(exclude or ()),
            segment_by,
        )


def _train_point_in_time(
    opened: Any,
    store: str | None,
    config_dir: Any,
    tracking_uri: str | None,
    as_of: Any,
    engine_name: EngineName,
    spark_master: str | None,
    exclude: tuple[str, ...],
    segment_by: str | None = None,
) -> None:
    from models import TrainConfig, require_leads, train_model
    from pipelines import FeaturesConfig, load_config
    from scoring.config import ScoringConfig
    from scoring.provenance import store_provenance

    train_cfg = load_config(TrainConfig, "train", config_dir)
    if exclude:
        train_cfg = train_cfg.model_copy(update={"exclude": (*train_cfg.exclude, *exclude)})
    features_cfg = load_config(FeaturesConfig, "features", config_dir)
    grades = load_config(ScoringConfig, "scoring", config_dir).grades
    engine = pick_engine(engine_name, spark_master)
    tracking = use_tracking(store, tracking_uri)
    with console.status("reading and validating the CRM tables"):
        tables = engine.training_tables(opened)
    require_leads(tables)  # before anything asks the data's dates
    if tables.rows_rejected:
        console.print(
            f"[yellow]{tables.rows_rejected} input rows fail the contract and are left out[/]"
        )
    with console.status(
        "building snapshots, training, evaluating against baselines, refitting, logging to MLflow"
    ):
        try:
            result = train_model(
                tables,
                train_cfg,
                features_cfg,
                tracking,
                as_of,
                grades,
                engine.feature_builder(),
                store_provenance(opened, tables),
                segment_by,
            )
        except ValueError as err:
            if not str(err).startswith("--segment-by"):
                raise
            fail(str(err), EXIT_BAD_INPUT)
    print_training(result, tracking)


def print_training(result: Any, tracking: str) -> None:
    """The folds, the evaluation, what the leakage checks did and the gate's verdict."""
    console.print(
        f"trained {result.model_name} v{result.version} (run {result.run_id}); "
        f"calibration: {result.calibration}",
        highlight=False,
    )
    print_folds(result.fold_counts, result.folds)
    if result.folds.adapted:
        console.print(f"[yellow]{result.folds.adapted}[/]", highlight=False)
    print_evaluation(result.evaluation)
    if not result.segments.empty:
        print_segments(result.segments)
    for row in result.leakage.itertuples():
        verb = (
            "[red]dropped[/]"
            if row.action == "drop"
            else "[yellow]check this is known before the outcome:[/]"
        )
        console.print(f"{verb} {row.feature} (AUC alone {row.auc:.3f})")
    flagged = result.fill_rates[result.fill_rates["action"] != "ok"].drop_duplicates("column")
    for row in flagged.itertuples():  # the report is sorted: each column's largest gap
        verb = "[red]excluded[/]" if row.action == "drop" else "[yellow]check[/]"
        console.print(
            f"{verb} {row.column}: filled for {row.fill_outcome:.0%} of {row.outcome} leads, "
            f"{row.fill_other:.0%} of the others (filled when leads close?)",
            highlight=False,
        )
    if result.trained_through is not None:
        console.print(
            f"served model: refitted on every labelled snapshot through "
            f"{result.trained_through.date()} (holdout metrics above are the evaluated fit's)",
            highlight=False,
        )
    state = "promoted to [bold green]@champion[/]" if result.promoted else "[yellow]not promoted[/]"
    console.print(f"{state}: {result.reason}\nMLflow: {tracking}")


def promote(
    version: Annotated[str, typer.Argument(help="Registered version to make @champion.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (recorded in the champion history).")
    ],
    store: StoreOpt = None,
    tracking_uri: TrackingOpt = None,
    name: NameOpt = "lead-conversion",
) -> None:
    """Force a version to @champion, bypassing the gate; the reason is recorded."""
    with errors():
        from models import set_champion

        if not reason.strip():
            fail("--reason must say why the gate is bypassed", EXIT_BAD_INPUT)
        require_tracking(store, tracking_uri)
        set_champion(name, version, f"forced: {reason.strip()}")
        console.print(f"{name} v{version} is now @champion (forced: {reason.strip()})")


def models(
    store: StoreOpt = None,
    tracking_uri: TrackingOpt = None,
    name: NameOpt = "lead-conversion",
    plain: PlainOpt = False,
) -> None:
    """List registered model versions with holdout metrics, aliases and champion history."""
    with errors():
        from models import champion_history, list_versions
        from scoring.provenance import FINGERPRINT_TAG, STORE_ID_TAG, STORE_URI_TAG

        require_tracking(store, tracking_uri)
        versions = list_versions(name, (STORE_ID_TAG, STORE_URI_TAG, FINGERPRINT_TAG))
        if versions.empty:
            fail(
                f"no versions of model '{name}' registered; run `leadscore train`", EXIT_NO_CHAMPION
            )
        print_table(_version_rows(versions), f"Versions of {name}", VERSION_NUMBERS, plain)
        console.print("\nchampion history (who held @champion when):")
        events = champion_history(name)
        for event, after in zip(events, [*events[1:], None], strict=True):
            until = after["at"][:19] if after else "now"
            console.print(
                f"  v{event['version']}: {event['at'][:19]} → {until}  ({event['reason']})"
            )


def _version_rows(versions: Any) -> Any:
    """The registered versions as text cells (metrics to 4 places, "-" when not logged) and
    the store and data each was trained on."""
    import pandas as pd

    from scoring.provenance import FINGERPRINT_TAG, STORE_ID_TAG, STORE_URI_TAG

    def tag(name: str) -> Any:
        return versions[name].fillna("-") if name in versions else "-"

    def metric(value: object) -> str:
        return "-" if value is None or pd.isna(value) else f"{float(value):.4f}"  # type: ignore[arg-type]

    rows = pd.DataFrame(
        {
            "version": versions["version"].map(str),
            "created (UTC)": versions["created"],
            "aliases": versions["aliases"].replace("", "-"),
            "AUC": versions["test_roc_auc"].map(metric),
            "Brier": versions["test_brier"].map(metric),
            "run": versions["run_id"],
            "store": tag(STORE_ID_TAG),
            "store uri": tag(STORE_URI_TAG),
            "data": tag(FINGERPRINT_TAG),
        }
    )
    if "segments" in versions:  # per-segment training: who has a model of its own
        rows["segments"] = versions["segments"].replace("", "-")
    return rows
