"""Holdout metrics for conversion-probability models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean predicted| over equal-count bins, weighted by bin size."""
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk):
            error += len(chunk) * abs(float(np.mean(y[chunk])) - float(np.mean(p[chunk])))
    return error / len(y)


def top_share_positives(y: np.ndarray, p: np.ndarray, n: int) -> float:
    """Expected positives among the ``n`` best-scored rows, ties shared evenly.

    Rows tied with the n-th best score form one block; the block contributes its mean
    label for each of its places inside the top ``n``. So the figure depends only on the
    scores and labels, never on the order of the rows.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if n <= 0 or len(y) == 0:
        return 0.0
    cut = np.sort(p)[::-1][min(n, len(p)) - 1]
    above = p > cut
    tied = p == cut
    places = min(n, len(p)) - int(above.sum())
    return float(y[above].sum() + places * y[tied].mean())


def lift_at(y: np.ndarray, p: np.ndarray, fraction: float) -> tuple[float, float]:
    """(lift, capture) of the top ``fraction`` of leads by probability, ties shared evenly."""
    n = max(1, int(round(len(y) * fraction)))
    base = float(np.mean(y)) if len(y) else 0.0
    found = top_share_positives(y, p, n)
    lift = (found / n) / base if base > 0 else float("nan")
    capture = found / float(np.sum(y)) if np.sum(y) > 0 else float("nan")
    return lift, capture


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier, log loss, ECE, lift and capture at 10% and 20%."""
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0)
    both = len(np.unique(y)) == 2
    metrics = {
        "n": float(len(y)),
        "positive_rate": float(np.mean(y)) if len(y) else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
    }
    for fraction in (0.1, 0.2):
        lift, capture = lift_at(y, p, fraction)
        metrics[f"lift_top{int(fraction * 100)}"] = lift
        metrics[f"capture_top{int(fraction * 100)}"] = capture
    return metrics


def rate_by_group(y: np.ndarray, groups: pd.Series) -> pd.DataFrame:
    """Leads and observed conversion rate per group (e.g. per grade)."""
    frame = pd.DataFrame({"group": groups.to_numpy(), "y": np.asarray(y)})
    return (
        frame.groupby("group", observed=True)["y"]
        .agg(leads="count", conversion_rate="mean")
        .reset_index()
    )
