"""The served object of per-segment training: one model that routes each lead by segment.

:class:`SegmentedModel` holds a global pipeline and one pipeline per segment that beat it
on its own holdout (:mod:`models.segments`). It is an sklearn classifier (``predict_proba``),
so it is logged, registered and served like any pipeline: ``models:/NAME@champion``,
``mlflow models serve`` and ``spark_udf`` route by the segment column of each row. The
scorer asks :meth:`SegmentedModel.routes` which pipeline scores which rows, so a lead's
reasons come from the model that scored it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

GLOBAL = "(global)"
MISSING = "(missing)"


def segment_keys(values: pd.Series) -> np.ndarray:
    """Each row's segment name: the column's value as text, ``(missing)`` when empty."""
    text = values.astype("object").where(values.notna(), MISSING).astype(str)
    return text.to_numpy(dtype=object)


class SegmentedModel(ClassifierMixin, BaseEstimator):
    """Routes each row to its segment's fitted pipeline, else to the global one.

    Args:
        column: the model-input column naming a row's segment.
        global_model: the fitted pipeline for every row without a segment model.
        segment_models: fitted pipelines by segment name (see :func:`segment_keys`).
    """

    def __init__(
        self, column: str, global_model: Any, segment_models: dict[str, Any] | None = None
    ) -> None:
        self.column = column
        self.global_model = global_model
        self.segment_models = segment_models

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.global_model.classes_)

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def route(self, X: pd.DataFrame) -> np.ndarray:
        """The name of the model that scores each row: a segment, or ``(global)``."""
        if self.column not in X.columns:
            raise ValueError(f"model input is missing the segment column {self.column}")
        keys = segment_keys(X[self.column])
        known = np.isin(keys, list(self.segment_models or {}))
        return np.where(known, keys, GLOBAL)

    def routes(self, X: pd.DataFrame) -> list[tuple[str, Any, np.ndarray]]:
        """(name, pipeline, row positions) for every model that scores some rows of ``X``."""
        route = self.route(X)
        out = []
        for name in dict.fromkeys(route):
            model = self.global_model if name == GLOBAL else (self.segment_models or {})[name]
            out.append((str(name), model, np.flatnonzero(route == name)))
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        proba = np.zeros((len(X), 2))
        for _, model, rows in self.routes(X):
            proba[rows] = model.predict_proba(X.iloc[rows])
        return proba

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def routes_of(model: Any, X: pd.DataFrame) -> list[tuple[str, Any, np.ndarray]]:
    """Which pipeline scores which rows of ``X``: every row by ``model`` itself, unless it
    routes (:class:`SegmentedModel`)."""
    route = getattr(model, "routes", None)
    if route is None:
        return [(GLOBAL, model, np.arange(len(X)))]
    return list(route(X))


def main_pipeline(model: Any) -> Any:
    """The pipeline behind ``model``: itself, or a routing model's global pipeline."""
    return getattr(model, "global_model", model)
