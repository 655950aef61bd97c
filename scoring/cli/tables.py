"""Tables the commands print: rich on a terminal; piped, whole lines; ``--plain``, tab-separated.

Piped output (a cron log, ``make demo | cat``) has no terminal width to fit: rich would
wrap it at 80 columns and cut headers ("lift@…"), so the app's console is widened then
(:func:`fit_to_output`) and a table prints one uncut line per row.
"""

from __future__ import annotations

from typing import Any

import typer

from scoring.cli.options import console

# Wide enough for any row we print; rich pads nothing beyond a table's own width.
PIPED_WIDTH = 10_000


def fit_to_output() -> None:
    """Widens the console when stdout is not a terminal, so no line is wrapped or cut."""
    console.width = None if console.is_terminal else PIPED_WIDTH  # type: ignore[assignment]


def _cell(value: object) -> str:
    return " ".join(str(value).split())  # one line, no tabs


def print_table(
    frame: Any,
    title: str = "",
    right: tuple[str, ...] = (),
    plain: bool = False,
    no_wrap: tuple[str, ...] = (),
) -> None:
    """Prints a frame of text cells: a rich table, or with ``plain`` tab-separated lines.

    Args:
        frame: the rows; its column names are the headers.
        title: printed above a rich table (never in ``plain`` output, which is only data).
        right: columns aligned right (numbers).
        plain: a header line and one line per row, cells separated by tabs.
        no_wrap: columns a terminal never wraps (ids, names).
    """
    if plain:
        lines = ["\t".join(_cell(c) for c in frame.columns)]
        lines += ["\t".join(_cell(v) for v in row) for row in frame.itertuples(index=False)]
        typer.echo("\n".join(lines))  # not rich: it would expand the tabs
        return
    from rich.table import Table

    table = Table(title=title or None)
    for column in frame.columns:
        table.add_column(
            str(column),
            justify="right" if column in right else "left",
            no_wrap=column in no_wrap or not console.is_terminal,
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    console.print(table)


def evaluation_rows(evaluation: Any) -> Any:
    """The holdout metrics of every model, one row per model, as text cells."""
    import pandas as pd

    columns = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top20")
    headers = ("AUC", "PR AUC", "Brier", "log loss", "ECE", "lift@10%", "capture@20%")
    rows = [
        [row["model"], *(f"{row[c]:.4f}" for c in columns)]
        for row in evaluation.to_dict(orient="records")
    ]
    return pd.DataFrame(rows, columns=["model", *headers])


def print_evaluation(evaluation: Any, title: str = "Holdout evaluation (latest period)") -> None:
    """Prints the holdout metrics of every model."""
    rows = evaluation_rows(evaluation)
    print_table(rows, title, right=tuple(rows.columns[1:]), no_wrap=("model",))


def print_folds(counts: Any, folds: Any) -> None:
    """Prints the time folds: dates, rows, leads and conversions of each, and the purge gap."""
    import pandas as pd

    rows = [
        [
            str(name),
            "-" if row["rows"] == 0 else f"{row['first'].date()} .. {row['last'].date()}",
            f"{row['rows']:,}",
            f"{row['leads']:,}",
            f"{row['conversions']:,}",
        ]
        for name, row in counts.iterrows()
    ]
    frame = pd.DataFrame(rows, columns=["fold", "snapshot dates", "rows", "leads", "conversions"])
    title = f"Time folds (purge gap {folds.purge_days} days)"
    print_table(frame, title, right=("rows", "leads", "conversions"), no_wrap=("fold",))
