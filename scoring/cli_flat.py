"""Flat mode in the CLI: ``leadscore train --flat`` and ``leadscore score --flat``.

The commands of :mod:`scoring.cli` hand over here when ``--flat FILE`` is given. The
helpers of :mod:`scoring.cli` and every heavy library are imported inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FLAT_TABLE = "flat_lead_scores"


def _read_table(path: Path) -> Any:
    from pipelines.importer import ExportFileError, read_export
    from scoring.cli import EXIT_BAD_INPUT, _fail

    try:
        return read_export(path)
    except ExportFileError as err:
        _fail(f"--flat: {err}", EXIT_BAD_INPUT)


def train_flat_command(
    path: Path,
    label: str | None,
    id_column: str | None,
    exclude: list[str] | None,
    model_name: str | None,
    config_dir: Path | None,
    tracking: str,
) -> None:
    """Reads the table, trains, prints the split, the leakage report and the evaluation."""
    from models.config import TrainConfig
    from models.flat import FlatConfig
    from models.flat_training import FlatInputError, prepare_flat, train_flat
    from pipelines.config import load_config
    from scoring.cli import EXIT_BAD_INPUT, _evaluation_table, _fail, console
    from scoring.config import ScoringConfig

    if not label:
        _fail(
            "--flat needs --label COLUMN (the outcome: 1/0, true/false or yes/no)", EXIT_BAD_INPUT
        )
        return
    train_cfg = load_config(TrainConfig, "train", config_dir)
    cfg = load_config(FlatConfig, "flat", config_dir)
    grades = load_config(ScoringConfig, "scoring", config_dir).grades.model_dump()
    frame = _read_table(path)
    try:
        data = prepare_flat(frame, label, id_column, tuple(exclude or ()), cfg.pii_pattern)
    except FlatInputError as err:
        _fail(str(err), EXIT_BAD_INPUT)
        return
    console.print(
        f"[bold yellow]NOT point-in-time:[/] a random split; time cannot protect against "
        f"leakage here\nread {len(frame):,} rows from {path.name}; label {label!r} "
        f"({data.y.mean():.1%} positive); {data.rows_without_label:,} rows without a label left out",
        highlight=False,
    )
    with console.status("training, evaluating against baselines, logging to MLflow"):
        result = train_flat(data, cfg, train_cfg, tracking, model_name, grades)
    _print_columns(result.kinds, data, console)
    sizes = result.sizes
    console.print(
        f"split (stratified by the label, seed {train_cfg.seed}): train {sizes['train']:,} / "
        f"calibration {sizes['calibration']:,} / test {sizes['test']:,}; calibration: {result.calibration}"
    )
    leak = train_cfg.leakage
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
    table = _evaluation_table(result.evaluation)
    table.title = "Holdout evaluation (random stratified split, NOT point-in-time)"
    console.print(table)
    for note in result.notes[1:]:
        console.print(note, highlight=False)
    state = "promoted to [bold green]@champion[/]" if result.promoted else "[yellow]not promoted[/]"
    console.print(
        f"trained {result.model_name} v{result.version} (run {result.run_id}); {state}: "
        f"{result.reason}\nMLflow: {tracking}"
    )


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

    from models.flat import FlatConfig
    from models.registry import get_champion, load_pipeline
    from pipelines.config import load_config
    from pipelines.storage import open_store
    from scoring.cli import EXIT_BAD_INPUT, _fail, console
    from scoring.config import ScoringConfig
    from scoring.flat_scoring import FLAT_SCORE_COLUMNS, score_flat

    cfg = load_config(ScoringConfig, "scoring", config_dir)
    model_name = model_name or load_config(FlatConfig, "flat", config_dir).model_name
    champion = get_champion(model_name)
    pipeline = load_pipeline(champion)
    params = mlflow.get_run(champion.run_id).data.params if champion.run_id else {}
    if params.get("mode") != "flat":
        _fail(
            f"{model_name} is not a flat-mode model; score it with `leadscore score`",
            EXIT_BAD_INPUT,
        )
    frame = _read_table(path)
    id_column = id_column or (
        params.get("id_column") if params.get("id_column") != "None" else None
    )
    if id_column and id_column not in frame.columns:
        _fail(f"--id: no column {id_column!r} in {path.name}", EXIT_BAD_INPUT)
    ids = frame[id_column] if id_column else pd.Series([f"row {i + 1}" for i in range(len(frame))])
    try:
        scores = score_flat(pipeline, frame, ids, cfg.grades, cfg.reasons)
    except ValueError as err:
        _fail(f"{path.name}: {err}", EXIT_BAD_INPUT)
        return
    scores = scores.assign(
        model_name=model_name, model_version=champion.version, scored_at=pd.Timestamp.now(tz="UTC")
    )[list(FLAT_SCORE_COLUMNS)]
    if store is not None:
        open_store(store).write(FLAT_TABLE, scores)
        where = f"table {FLAT_TABLE} of {store}"
    else:
        target = out or Path("data") / f"{model_name}-scores.csv"
        _write_scores(scores, target)
        where = str(target)
    console.print(
        f"scored {len(scores):,} rows of {path.name} with {model_name} v{champion.version}; wrote {where}"
    )
    _print_top(scores.head(top), console)


def _write_scores(scores: Any, target: Path) -> None:
    from scoring.cli import EXIT_BAD_INPUT, _fail
    from scoring.flat_scoring import as_csv

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if target.suffix.lower() in (".parquet", ".pq"):
            scores.to_parquet(tmp, index=False)
        else:
            as_csv(scores).to_csv(tmp, index=False)  # reasons in words, as `export` writes them
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        _fail(f"cannot write {target}: {err.strerror or err}", EXIT_BAD_INPUT)


def _print_top(scores: Any, console: Any) -> None:
    import json

    from rich.table import Table

    table = Table(title=f"Top {len(scores)} rows")
    for column in ("#", "id", "score", "grade", "top reasons"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left")
    for row in scores.itertuples():
        reasons = "; ".join(json.loads(row.top_reasons)[:3])
        table.add_row(str(row.rank), str(row.lead_id), f"{row.score:.1f}", row.grade, reasons)
    console.print(table)
