"""Tables the commands print (rich renders them; piped output is not cut)."""

from __future__ import annotations

from typing import Any


def evaluation_table(evaluation: Any) -> Any:
    """The holdout metrics of every model as a rich table."""
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


def fold_table(counts: Any, folds: Any) -> Any:
    """The time folds: dates, rows, leads and conversions of each, and the purge gap."""
    from rich.table import Table

    table = Table(title=f"Time folds (purge gap {folds.purge_days} days)")
    for header in ("fold", "snapshot dates", "rows", "leads", "conversions"):
        table.add_column(
            header, justify="left" if header in ("fold", "snapshot dates") else "right"
        )
    for name, row in counts.iterrows():
        dates = "-" if row["rows"] == 0 else f"{row['first'].date()} .. {row['last'].date()}"
        table.add_row(
            str(name), dates, f"{row['rows']:,}", f"{row['leads']:,}", f"{row['conversions']:,}"
        )
    return table


def segment_table(segments: Any) -> Any:
    """Per-segment holdout AUC of the global and the segment model, and which one serves."""
    from rich.table import Table

    table = Table(title="Per-segment models (holdout of each segment)")
    headers = ("segment", "train leads", "conv.", "test rows", "conv.", "global AUC", "own AUC")
    for header in headers:
        table.add_column(header, justify="left" if header == "segment" else "right")
    table.add_column("model", justify="left")

    def auc(value: float) -> str:
        return "-" if value != value else f"{value:.4f}"  # NaN: no model of its own

    for row in segments.to_dict(orient="records"):
        table.add_row(
            str(row["segment"]),
            f"{row['train_leads']:,}",
            f"{row['train_conversions']:,}",
            f"{row['test_rows']:,}",
            f"{row['test_conversions']:,}",
            auc(row["global_auc"]),
            auc(row["segment_auc"]),
            f"{row['model']} ({row['why']})",
        )
    return table
