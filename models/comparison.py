"""Side-by-side holdout metrics for LightGBM and its baselines."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.evaluation import classification_metrics


def evaluation_table(y: np.ndarray, p_by_model: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per model (in the order given) with the columns of ``classification_metrics``.

    Args:
        y: holdout labels (0/1).
        p_by_model: model name → predicted conversion probabilities for the same rows.

    Returns:
        A frame with a ``model`` column followed by the metric columns.

    Raises:
        ValueError: a model's probabilities do not match ``y`` in length.
    """
    y = np.asarray(y)
    rows = []
    for name, p in p_by_model.items():
        p = np.asarray(p)
        if p.shape != y.shape:
            raise ValueError(f"model {name!r}: {p.shape[0]} probabilities for {y.shape[0]} labels")
        rows.append({"model": name, **classification_metrics(y, p)})
    if not rows:
        names = classification_metrics(np.array([0, 1]), np.array([0.5, 0.5]))
        return pd.DataFrame(columns=["model", *names])
    return pd.DataFrame(rows)


def auc_gain_interval(
    y: np.ndarray,
    p: np.ndarray,
    p_reference: np.ndarray,
    groups: np.ndarray | None = None,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """ROC AUC of ``p`` minus that of ``p_reference``, with a paired bootstrap interval.

    Rows are resampled by ``groups`` (e.g. ``lead_id``: the snapshots of one lead are not
    independent) or one by one when ``groups`` is None; both models see the same resample.
    Resamples with a single class are skipped.

    Returns:
        (gain on the full holdout, lower bound, upper bound).
    """
    y, p, p_reference = np.asarray(y), np.asarray(p), np.asarray(p_reference)
    gain = float(roc_auc_score(y, p) - roc_auc_score(y, p_reference))
    keys = np.arange(len(y)) if groups is None else np.asarray(groups)
    _, group_of_row = np.unique(keys, return_inverse=True)
    n_groups = int(group_of_row.max()) + 1 if len(y) else 0
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n_boot):
        # A resample as weights: each row counts as often as its group was drawn.
        weight = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[group_of_row]
        drawn = weight > 0
        if len(np.unique(y[drawn])) < 2:
            continue
        gains.append(
            roc_auc_score(y, p, sample_weight=weight)
            - roc_auc_score(y, p_reference, sample_weight=weight)
        )
    if not gains:
        return gain, float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(gains, [tail, 1.0 - tail])
    return gain, float(low), float(high)
