"""Sampling the training rows where the whole fold is more than a step needs.

Two places: the negatives of a big training fold (``snapshots.negative_rate``, weighted
back in LightGBM's fit), and the rows the baselines and the leakage report are fitted on,
which rank and screen as well on half a million rows as on ten million.
"""

from __future__ import annotations

import numpy as np


def automatic_negative_rate(labels: np.ndarray, max_rows: int) -> float:
    """The share of negatives to keep so that a fold of ``labels`` keeps about ``max_rows``
    rows with every positive; 1.0 (keep all) when it has no more than ``max_rows``."""
    labels = np.asarray(labels)
    if len(labels) <= max_rows:
        return 1.0
    positives = int((labels == 1).sum())
    negatives = len(labels) - positives
    return float(min(1.0, max(max_rows - positives, 1) / max(negatives, 1)))


def fit_sample(n_rows: int, max_rows: int, seed: int = 0) -> np.ndarray | None:
    """Sorted positions of at most ``max_rows`` of ``n_rows`` rows, drawn with ``seed``;
    None when all of them fit (the caller then uses every row, unchanged)."""
    if n_rows <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))
