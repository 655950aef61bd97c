"""Exact per-feature contributions of a flat-mode champion, whichever model won.

A flat champion is LightGBM, logistic regression or naive Bayes (the one with the best
holdout). Each splits its log-odds exactly into one term per generic feature
(:class:`~models.flat.features.FlatFeatures` output) plus a bias:

- LightGBM: TreeSHAP (``pred_contrib``);
- logistic regression: ``coef · (design − mean design)`` per design column (the mean of the
  training design is kept at fit), summed per feature;
- naive Bayes: each feature's log-likelihood ratio minus its average over training.

The reasons of a flat list are phrased from these, as for the nightly list.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import Pipeline

from models.contributions import tree_contributions
from models.flat.features import FlatFeatures
from models.linear import CenteredLogistic


def estimator_of(pipeline: Pipeline) -> Any:
    """The fitted classifier inside a (possibly calibrated) pipeline."""
    model = pipeline[-1]
    if isinstance(model, CalibratedClassifierCV):
        return model.calibrated_classifiers_[0].estimator.estimator
    return model


def flat_features_of(pipeline: Pipeline) -> FlatFeatures:
    """The fitted generic-features step of any flat pipeline."""
    found: FlatFeatures = _find(pipeline, lambda step: isinstance(step, FlatFeatures))
    return found


def _until_flat(pipeline: Pipeline, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` through the steps up to and including the generic features."""
    for _, step in pipeline.steps[:-1]:
        if isinstance(step, Pipeline):
            for _, inner in step.steps:
                X = inner.transform(X)
                if isinstance(inner, FlatFeatures):
                    return X
        else:
            X = step.transform(X)
            if isinstance(step, FlatFeatures):
                return X
    return X


def _after_flat(pipeline: Pipeline, F: pd.DataFrame) -> pd.DataFrame:
    """The generic features ``F`` through the rest of the pipeline, up to the classifier."""
    seen = False
    for _, step in pipeline.steps[:-1]:
        inner_steps = step.steps if isinstance(step, Pipeline) else [("", step)]
        for _, inner in inner_steps:
            if seen:
                F = inner.transform(F)
            seen = seen or isinstance(inner, FlatFeatures)
    return F


def _find(pipeline: Pipeline, wanted: Any) -> Any:
    """The first step (inner pipelines searched too) for which ``wanted(step)`` holds."""
    for _, step in pipeline.steps:
        inner = step.steps if isinstance(step, Pipeline) else [("", step)]
        for _, candidate in inner:
            if wanted(candidate):
                return candidate
    raise ValueError("the pipeline has no such step")


def design_sources(columns: Any) -> list[str]:
    """For each output column of the logistic baseline's ``ColumnTransformer``, the feature
    it is computed from (one-hot levels and missing indicators included)."""
    sources: list[str] = []
    for name, pipe, cols in columns.transformers_:
        if name == "remainder" or pipe == "drop" or not len(cols):
            continue
        steps = dict(pipe.steps)
        if "onehot" in steps:
            for col, levels in zip(cols, steps["onehot"].categories_, strict=True):
                sources.extend([col] * len(levels))
            continue
        sources.extend(cols)
        indicator = getattr(steps.get("impute"), "indicator_", None)
        if indicator is not None:
            sources.extend(cols[i] for i in indicator.features_)
    return sources


def _linear(pipeline: Pipeline, model: CenteredLogistic, F: pd.DataFrame) -> pd.DataFrame:
    design = _after_flat(pipeline, F)
    columns = _find(pipeline, lambda step: hasattr(step, "transformers_"))
    sources = design_sources(columns)
    terms = (np.asarray(design, dtype="float64") - model.design_mean_) * model.coef_[0]
    out = pd.DataFrame(terms, index=F.index).T.groupby(np.asarray(sources)).sum().T
    out["bias"] = float(model.intercept_[0] + model.coef_[0] @ model.design_mean_)
    return out


def _naive_bayes(pipeline: Pipeline, model: CategoricalNB, F: pd.DataFrame) -> pd.DataFrame:
    coded = _after_flat(pipeline, F)
    codes = np.asarray(coded, dtype="int64")
    names = [str(name).split("__", 1)[-1] for name in coded.columns]
    out, bias = {}, float(model.class_log_prior_[1] - model.class_log_prior_[0])
    for j, name in enumerate(names):
        ratio = model.feature_log_prob_[j][1] - model.feature_log_prob_[j][0]
        counts = model.category_count_[j].sum(axis=0)
        average = float(ratio @ (counts / counts.sum()))
        out[name] = ratio[np.clip(codes[:, j], 0, len(ratio) - 1)] - average
        bias += average
    frame = pd.DataFrame(out, index=F.index)
    frame["bias"] = bias
    return frame


def flat_contributions(pipeline: Pipeline, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The generic features of ``X`` and each feature's log-odds contribution (+ ``bias``).

    Raises:
        ValueError: the pipeline's classifier has no exact decomposition here.
    """
    model = estimator_of(pipeline)
    F = _until_flat(pipeline, X)
    if isinstance(model, LGBMClassifier):
        Xt = pipeline[:-1].transform(X)
        values = tree_contributions(model.booster_, Xt)
        return F, pd.DataFrame(values, columns=[*Xt.columns, "bias"], index=X.index)
    if isinstance(model, CenteredLogistic):
        return F, _linear(pipeline, model, F)
    if isinstance(model, CategoricalNB):
        return F, _naive_bayes(pipeline, model, F)
    raise ValueError(f"no exact contributions for a {type(model).__name__} model")
