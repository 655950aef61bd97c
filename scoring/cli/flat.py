"""Flat mode in the CLI: ``leadscore train --flat`` and ``leadscore score --flat``.

The commands of :mod:`scoring.cli.train` and :mod:`scoring.cli.score` hand over here when
``--flat FILE`` is given. Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scoring.cli.errors import EXIT_BAD_INPUT, fail
from scoring.cli.options import console, write_output
from scoring.cli.tables import print_evaluation, print_table

FLAT_TABLE = "flat_lead_scores"


def _write_frame(scores: Any, tmp: Path, target: Path) -> None:
    """The ranked list as Parquet or CSV, by the extension of ``target``; a CSV shows the
    reasons in words, as `export` writes them."""
    from scoring.flat import as_csv

    if target.suffix.lower() in (".parquet", ".pq"):
        scores.to_parquet(tmp, index=False)
    else:
        as_csv(scores).to_csv(tmp, index=False)


def _read_table(path: Path) -> Any:
    from pipelines.ingest import ExportFileError, read_export

    try:
        return read_export(path)
    except ExportFileError as err:
        fail(f"--flat: {err}", EXIT_BAD_INPUT)


def train_flat_command(
    path: Path,
    label: str | None,
    id_column: str | None,
    exclude: list[str] | None,
    model_name: str | None,
    config_dir: Path | None,
    tracking: str,
    time_column: str | None = None,
    ordered: bool = False,
) -> None:
    """Reads the table, trains, prints the split, the leakage checks and the evaluation."""
    from models import TrainConfig
    from models.flat import FlatConfig, FlatInputError, prepare_flat, train_flat
    from pipelines import load_config
    from scoring.config import ScoringConfig
    from scoring.provenance import file_provenance

    if not label:
        fail("--flat needs --label COLUMN (the outcome: 1/0, true/false or yes/no)", EXIT_BAD_INPUT)
    if time_column and ordered:
        fail("--time-column and --ordered: give one (a time column, or rows already in order)")
    train_cfg = load_config(TrainConfig, "train", config_dir)
    cfg = load_config(FlatConfig, "flat", config_dir)
    grades = load_config(ScoringConfig, "scoring", config_dir).grades
    frame = _read_table(path)
    try:
        data = prepare_flat(
            frame, label, id_column, tuple(exclude or ()), cfg.pii_pattern, time_column, ordered
        )
    except FlatInputError as err:
        fail(str(err), EXIT_BAD_INPUT)
    _print_input(path, frame, data, label)
    with console.status("training LightGBM and the baselines, logging to MLflow"):
        tags = file_provenance(path, data.ids)
        result = train_flat(data, cfg, train_cfg, tracking, model_name, grades, tags)
    _print_columns(result.kinds, data, console)
    sizes = result.sizes
    console.print(
        f"split {result.split}: train {sizes['train']:,} / calibration "
        f"{sizes['calibration']:,} / test {sizes['test']:,}; calibration: {result.calibration}",
        highlight=False,
    )
    _print_leakage(result, train_cfg)
    print_evaluation(result.evaluation, f"Holdout evaluation (split {result.split})")
    for note in result.notes[1:]:
        console.print(note, highlight=False)
    state = "promoted to [bold green]@champion[/]" if result.promoted else "[yellow]not promoted[/]"
    console.print(
        f"trained {result.model_name} v{result.version} ({result.winner}; run {result.run_id}); "
        f"{state}: {result.reason}\nMLflow: {tracking}"
    )


def _print_input(path: Path, frame: Any, data: Any, label: str) -> None:
    if data.order is None:
        console.print(
            "[bold yellow]NOT point-in-time:[/] a random split; time cannot protect against "
            "leakage here (rows in time order? use --ordered or --time-column)"
        )
    without_time = (
        f"; {data.rows_without_time:,} without a readable time" if data.time_column else ""
    )
    console.print(
        f"read {len(frame):,} rows from {path.name}; label {label!r} "
        f"({data.y.mean():.1%} positive); {data.rows_without_label:,} rows without a label"
        f"{without_time} left out",
        highlight=False,
    )


def _print_leakage(result: Any, train_cfg: Any) -> None:
    leak = train_cfg.leakage
    for row in result.fill_rates[result.fill_rates["action"] != "ok"].itertuples():
        verb = "[red]left out[/]" if row.action == "drop" else "[yellow]check[/]"
        console.print(
            f"  {verb} {row.column}: filled for {row.fill_outcome:.0%} of positive rows, "
            f"{row.fill_other:.0%} of the others (filled only with the outcome?)",
            highlight=False,
        )
    console.print(
        f"leakage report (single-column AUC on the training rows; check ≥ {leak.warn_auc}, "
        f"drop ≥ {leak.drop_auc}):" + ("" if len(result.leakage) else " nothing flagged")
    )
    for row in result.leakage.drop_duplicates("column").itertuples():
        verb = (
            "[red]dropped[/]"
            if row.action == "drop"
            else "[yellow]check this is known before the outcome:[/]"
        )
        console.print(f"  {verb} {row.column} (AUC alone {row.auc:.3f})")


def _print_columns(kinds: dict[str, str], data: Any, console: Any) -> None:
    groups: dict[str, list[str]] = {}
    for column, kind in kinds.items():
        groups.setdefault(kind, []).append(str(column))
    used = ", ".join(
        f"{len(groups[k])} {k}" for k in ("numeric", "category", "text") if k in groups
    )
    console.print(f"columns used: {used or 'none'}", highlight=False)
    personal = groups.get("email", []) + groups.get("pii", [])
    if personal:
        console.print(
            f"personal data, used only as given/missing: {', '.join(personal)}", highlight=False
        )
    left_out = [f"{c} (identifier)" for c in groups.get("identifier", [])]
    left_out += [f"{c} (constant)" for c in groups.get("constant", [])]
    left_out += [f"{c} (--exclude)" for c in data.excluded]
    if data.id_column:
        left_out.insert(0, f"{data.id_column} (--id)")
    if left_out:
        console.print(f"left out: {', '.join(left_out)}", highlight=False)


def score_flat_command(
    path: Path,
    model_name: str | None,
    id_column: str | None,
    out: Path | None,
    store: str | None,
    config_dir: Path | None,
    top: int = 10,
) -> None:
    """Scores every row with ``models:/<model_name>@champion``; writes the ranked list."""
    import mlflow
    import pandas as pd

    from models import get_champion, load_pipeline
    from models.flat import FlatConfig
    from pipelines import load_config
    from pipelines.storage import open_store
    from scoring.config import ScoringConfig
    from scoring.flat import FLAT_SCORE_COLUMNS, score_flat

    cfg = load_config(ScoringConfig, "scoring", config_dir)
    model_name = model_name or load_config(FlatConfig, "flat", config_dir).model_name
    champion = get_champion(model_name)
    pipeline = load_pipeline(champion)
    params = mlflow.get_run(champion.run_id).data.params if champion.run_id else {}
    if params.get("mode") != "flat":
        fail(
            f"{model_name} is not a flat-mode model; score it with `leadscore score`",
            EXIT_BAD_INPUT,
        )
    frame = _read_table(path)
    id_column = id_column or (
        params.get("id_column") if params.get("id_column") != "None" else None
    )
    if id_column and id_column not in frame.columns:
        fail(f"--id: no column {id_column!r} in {path.name}", EXIT_BAD_INPUT)
    ids = frame[id_column] if id_column else pd.Series([f"row {i + 1}" for i in range(len(frame))])
    try:
        scores = score_flat(pipeline, frame, ids, cfg.grades, cfg.reasons)
    except ValueError as err:
        fail(f"{path.name}: {err}", EXIT_BAD_INPUT)
        return
    scores = scores.assign(
        model_name=model_name, model_version=champion.version, scored_at=pd.Timestamp.now(tz="UTC")
    )[list(FLAT_SCORE_COLUMNS)]
    if store is not None:
        open_store(store).write(FLAT_TABLE, scores)
        where = f"table {FLAT_TABLE} of {store}"
    else:
        target = out or Path("data") / f"{model_name}-scores.csv"
        write_output(target, lambda tmp: _write_frame(scores, tmp, target))
        where = str(target)
    console.print(
        f"scored {len(scores):,} rows of {path.name} with {model_name} v{champion.version}; wrote {where}"
    )
    _print_top(scores.head(top), console)


def _print_top(scores: Any, console: Any) -> None:
    import json

    import pandas as pd

    rows = pd.DataFrame(
        {
            "#": scores["rank"].map(str),
            "id": scores["lead_id"].map(str),
            "score": scores["score"].map(lambda v: f"{v:.1f}"),
            "grade": scores["grade"],
            "top reasons": scores["top_reasons"].map(lambda r: "; ".join(json.loads(r)[:3])),
        }
    )
    print_table(rows, f"Top {len(scores)} rows", right=("#", "score"), no_wrap=("id",))
