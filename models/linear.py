"""Logistic regression whose predictions split exactly into per-column contributions."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression


class CenteredLogistic(LogisticRegression):
    """Logistic regression that keeps the mean of its training design matrix, so a
    prediction's log-odds split into ``coef · (x − mean)`` per column plus a bias."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CenteredLogistic:
        super().fit(X, y, sample_weight=sample_weight)
        design = np.asarray(X, dtype="float64")
        self.design_mean_ = np.average(design, axis=0, weights=sample_weight)
        return self
