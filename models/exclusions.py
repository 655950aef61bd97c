"""Input columns kept out of a model: excluded on purpose (``--exclude``) or found leaking.

:class:`BlankColumns` is a pipeline step that sets the named model-input columns to
missing, at fit and at predict alike, so the served model can never use them. The same
step goes in front of every baseline, so a column dropped from LightGBM never reaches a
baseline either. :func:`feature_sources` tells which input columns a transformed feature
is computed from, so a feature dropped by the single-feature leakage check keeps its
inputs out of the baselines too.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

# Raw leads columns that reach the model under other names (PII is reduced to flags).
MODEL_INPUTS_OF = {"email": ("email_present", "email_free_mail"), "phone": ("phone_present",)}


class BlankColumns(TransformerMixin, BaseEstimator):
    """Sets ``columns`` to missing (NaN for numbers, None for text); others pass through."""

    def __init__(self, columns: tuple[str, ...] = ()) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> BlankColumns:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        present = [c for c in self.columns if c in X.columns]
        if not present:
            return X
        out = X.copy()
        for column in present:
            numeric = pd.api.types.is_numeric_dtype(out[column])
            out[column] = np.nan if numeric else None
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_


def model_input_columns(names: Iterable[str], available: Iterable[str]) -> tuple[str, ...]:
    """The model-input columns of raw ``names`` (``email`` → its flags), among ``available``.

    Raises:
        ValueError: a name matches no model-input column.
    """
    known = list(available)
    out: list[str] = []
    for name in names:
        matches = [c for c in MODEL_INPUTS_OF.get(name, (name,)) if c in known]
        if not matches:
            shown = ", ".join(sorted(known)[:12])
            raise ValueError(f"--exclude: no input column {name!r} (columns: {shown}, ...)")
        out.extend(m for m in matches if m not in out)
    return tuple(out)


def feature_sources(features: object, X: pd.DataFrame, rows: int = 500) -> dict[str, list[str]]:
    """For each transformed feature, the input columns it changes with.

    Each input column in turn is blanked on a sample of ``X`` and the fitted ``features``
    step re-applied: the features whose values change are computed from that column.
    """
    sample = X.head(rows)
    base = features.transform(sample)  # type: ignore[attr-defined]
    sources: dict[str, list[str]] = {f: [] for f in base.columns}
    for column in sample.columns:
        blanked = features.transform(BlankColumns((column,)).fit(sample).transform(sample))  # type: ignore[attr-defined]
        for feature in base.columns:
            if not _same(base[feature], blanked[feature]):
                sources[feature].append(column)
    return sources


def _same(a: pd.Series, b: pd.Series) -> bool:
    """Equal values, missing where missing (any dtype)."""
    left, right = a.astype("object"), b.astype("object")
    both_missing = left.isna() & right.isna()
    return bool(((left == right) | both_missing).all())


def inputs_of(features: Iterable[str], sources: dict[str, list[str]]) -> tuple[str, ...]:
    """The input columns behind ``features`` (each once, in order)."""
    out: dict[str, None] = {}
    for feature in features:
        out.update(dict.fromkeys(sources.get(feature, [])))
    return tuple(out)


def blanking(pipeline: Pipeline, columns: tuple[str, ...]) -> Pipeline:
    """``pipeline`` with a :class:`BlankColumns` step in front (unchanged without columns)."""
    if not columns:
        return pipeline
    return Pipeline([("blank", BlankColumns(columns)), *pipeline.steps])
