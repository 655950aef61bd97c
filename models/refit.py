"""The served model: the evaluated pipeline refitted on every labelled snapshot.

Evaluation needs a model that never saw the holdout, so the evaluated fit ends its
training data a calibration fold and two purge gaps before the latest labelled date. On a
real CRM that can be half a year of the most relevant history, and an early-history
artefact that later data corrects stays in the model. So after evaluation the same
pipeline (same settings, same leakage drops, same blanked inputs) is fitted again on all
labelled snapshots — train, calibration and test folds — and *that* model is registered
and served; its holdout metrics are those of the evaluated fit.

Calibration is cross-fitted: the sigmoid (or isotonic) map is fitted on the evaluated
fit's out-of-time scores of the calibration and test folds, which the evaluated fit never
trained on, and then applied to the refitted model's scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from models.estimator import booster_of


@dataclass(frozen=True)
class Refit:
    """The refitted pipeline and what it was fitted on."""

    pipeline: Pipeline
    rows: int
    trained_through: pd.Timestamp
    calibration_rows: int


def _base(evaluated: Pipeline) -> Pipeline:
    """The evaluated pipeline's steps, unfitted, with its classifier (not the calibrator)."""
    steps = [(name, clone(step)) for name, step in evaluated.steps[:-1]]
    return Pipeline([*steps, (evaluated.steps[-1][0], clone(booster_of(evaluated)))])


def refit_on_all(
    evaluated: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    snapshot_at: pd.Series,
    calibration: pd.Series,
    method: str,
    sample_weight: np.ndarray | None = None,
) -> Refit:
    """Fits ``evaluated``'s pipeline again on every row of ``X`` and calibrates it.

    Args:
        evaluated: the fitted, evaluated pipeline (its last step calibrated or not).
        X, y: every labelled snapshot (model input and label).
        snapshot_at: each row's snapshot time.
        calibration: mask of the rows the evaluated fit did not train on (the calibration
            and test folds): the calibrator is fitted on its scores of these rows.
        method: the calibration method the evaluated fit used (``"none"``: no calibrator).
        sample_weight: training weights (sampled negatives), 1 for unsampled rows.

    Returns:
        The refit, with the last snapshot date it saw.
    """
    base = _base(evaluated)
    name = base.steps[-1][0]
    weights = {} if sample_weight is None else {f"{name}__sample_weight": sample_weight}
    base.fit(X, y, **weights)
    out_of_time = calibration.to_numpy(dtype=bool)
    if method == "none" or len(np.unique(y[out_of_time])) < 2:
        return Refit(base, len(X), snapshot_at.max(), 0)
    pipeline = calibrate_refit(evaluated, base, X[out_of_time], y[out_of_time], method)
    return Refit(pipeline, len(X), snapshot_at.max(), int(out_of_time.sum()))


def calibrate_refit(
    evaluated: Pipeline, base: Pipeline, X_oot: pd.DataFrame, y_oot: np.ndarray, method: str
) -> Pipeline:
    """``base`` (a refit of ``evaluated``, its classifier uncalibrated) with the calibration
    map fitted on ``evaluated``'s scores of ``X_oot``, rows it never trained on."""
    name = base.steps[-1][0]
    calibrator = CalibratedClassifierCV(FrozenEstimator(booster_of(evaluated)), method=method)
    calibrator.fit(evaluated[:-1].transform(X_oot), y_oot)
    # The fitted map now reads the refitted classifier's scores.
    served = FrozenEstimator(base[-1])
    calibrator.estimator = served
    for fitted in calibrator.calibrated_classifiers_:
        fitted.estimator = served
    return Pipeline([*base.steps[:-1], (name, calibrator)])
