"""Sanity checks before fitting: features that predict the label too well are suspects.

A feature whose single-feature ROC AUC, or |correlation| with the label, reaches the drop
threshold almost certainly encodes the outcome (a status field, a date filled in after the
sale); it is dropped and reported. Between the warn and drop thresholds it is listed as
"check this is known before the outcome".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def _as_numbers(values: pd.Series, y: np.ndarray) -> np.ndarray:
    """Numbers for a single-feature AUC: categories by their in-sample conversion rate;
    missing values as their own group (its conversion rate)."""
    if (
        isinstance(values.dtype, pd.CategoricalDtype)
        or values.dtype == object
        or pd.api.types.is_string_dtype(values)
    ):
        keys = values.astype("object").where(values.notna(), "__missing__")
        return keys.map(pd.Series(y, index=values.index).groupby(keys).mean()).to_numpy(
            dtype="float64"
        )
    numbers = values.to_numpy(dtype="float64")
    if np.isnan(numbers).all():
        return np.zeros(len(numbers))
    missing = np.isnan(numbers)
    if missing.any():
        rate = float(np.mean(y[missing]))
        # Place missing values where their conversion rate ranks them among the values.
        numbers = numbers.copy()
        numbers[missing] = (
            np.nanmax(numbers) + 1 if rate >= float(np.mean(y)) else np.nanmin(numbers) - 1
        )
    return numbers


def single_feature_auc(values: pd.Series, y: np.ndarray) -> float:
    """max(AUC, 1 - AUC) of one feature alone; 0.5 when the feature is constant."""
    numbers = _as_numbers(values, y)
    if np.unique(numbers).size < 2 or np.unique(y).size < 2:
        return 0.5
    auc = float(roc_auc_score(y, numbers))
    return max(auc, 1.0 - auc)


def label_correlation(values: pd.Series, y: np.ndarray) -> float:
    numbers = _as_numbers(values, y)
    if np.nanstd(numbers) == 0 or np.std(y) == 0:
        return 0.0
    return float(abs(np.corrcoef(numbers, y)[0, 1]))


def leakage_report(
    X: pd.DataFrame,
    y: np.ndarray,
    drop_auc: float = 0.95,
    drop_corr: float = 0.95,
    warn_auc: float = 1.0,
) -> pd.DataFrame:
    """One row per feature at or above a threshold: feature, auc, correlation, action.

    ``action`` is ``drop`` (AUC ≥ drop_auc or |corr| ≥ drop_corr) or ``check`` (AUC ≥ warn_auc).
    """
    y = np.asarray(y).astype(int)
    rows = []
    for column in X.columns:
        auc = single_feature_auc(X[column], y)
        corr = label_correlation(X[column], y)
        if auc >= drop_auc or corr >= drop_corr:
            rows.append({"feature": column, "auc": auc, "correlation": corr, "action": "drop"})
        elif auc >= warn_auc:
            rows.append({"feature": column, "auc": auc, "correlation": corr, "action": "check"})
    report = pd.DataFrame(rows, columns=["feature", "auc", "correlation", "action"])
    return report.sort_values("auc", ascending=False, ignore_index=True)
