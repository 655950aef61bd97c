"""One model object from the feature frame to a calibrated probability.

``build_pipeline`` returns the unfitted ``Pipeline(inputs → features → select → LightGBM)``:
``inputs`` refuses a frame missing a column seen at fit (never silently filled), ``features``
are the feature families, ``select`` drops what the leakage check flagged. ``fit_calibrated``
fits it, then calibrates the frozen classifier on a later fold, giving one ``Pipeline`` that
is logged, evaluated and served as a whole.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss
from sklearn.pipeline import FeatureUnion, Pipeline

from models.config import LeakageSettings, TrainConfig
from models.exclusions import BlankColumns
from models.leakage import leakage_report
from models.sampling import fit_sample
from pipelines import FeaturesConfig
from pipelines.features import FAMILIES

log = logging.getLogger(__name__)


class RequireColumns(TransformerMixin, BaseEstimator):
    """Passes the frame through; at transform, a column seen at fit must be present (a custom
    ``attr_`` attribute absent from the batch is added, missing)."""

    def fit(self, X: pd.DataFrame, y: object = None) -> RequireColumns:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        # A custom attribute that no lead of this batch has is missing for each of them:
        # that is what the data says, not a broken input.
        attributes = [c for c in missing if str(c).startswith("attr_")]
        if attributes:
            X = X.assign(**dict.fromkeys(attributes, np.nan))
            missing = [c for c in missing if c not in attributes]
        if missing:
            raise ValueError(
                f"model input is missing column(s) {', '.join(missing)}; they are never filled in"
            )
        return X

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_


class DropFeatures(TransformerMixin, BaseEstimator):
    """Drops the named features (those the leakage check flagged at training)."""

    def __init__(self, columns: tuple[str, ...] = ()) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> DropFeatures:
        self.feature_names_out_ = np.asarray(
            [c for c in X.columns if c not in self.columns], dtype=object
        )
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if list(X.columns) == list(self.feature_names_out_):
            return X  # nothing to drop: no copy of the features
        return X[list(self.feature_names_out_)]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_out_


def build_features(train_cfg: TrainConfig, features_cfg: FeaturesConfig) -> FeatureUnion:
    """The feature families named in the config, side by side, with pandas output."""
    steps = []
    for name in train_cfg.families:
        if name not in FAMILIES:
            raise ValueError(f"unknown feature family {name!r}; known: {', '.join(FAMILIES)}")
        family = (
            FAMILIES[name](features_cfg.stages)
            if name in ("stage", "interactions")
            else FAMILIES[name]()
        )
        steps.append((name, family))
    union = FeatureUnion(steps, verbose_feature_names_out=False)
    return union.set_output(transform="pandas")


def build_classifier(train_cfg: TrainConfig) -> LGBMClassifier:
    params = train_cfg.lightgbm.model_dump()
    return LGBMClassifier(
        objective="binary", random_state=train_cfg.seed, verbose=-1, deterministic=True, **params
    )


def build_pipeline(
    train_cfg: TrainConfig, features_cfg: FeaturesConfig, excluded: tuple[str, ...] = ()
) -> Pipeline:
    """The unfitted pipeline: input check → blanked inputs → feature families → leakage
    drop → LightGBM."""
    return Pipeline(
        [
            ("inputs", RequireColumns()),
            ("blank", BlankColumns(excluded)),
            ("features", build_features(train_cfg, features_cfg)),
            ("select", DropFeatures()),
            ("model", build_classifier(train_cfg)),
        ]
    )


UNCONSTRAINED = ("eng_trend", "eng_prior_count", "eng_value_sum", "eng_days_since_first")


def monotone_constraints(columns: list[str], cfg: FeaturesConfig) -> list[int]:
    """LightGBM monotone constraints so that more engagement never lowers the score.

    +1 for counts and intensities of engagement, -1 for days since the last (high-intent)
    activity and for negative events (unsubscribe, bounce), 0 for everything else.
    """
    negative = (*(f"eng_{t}_" for t in cfg.engagement.negative_types), "eng_negative_count")

    def sign(column: str) -> int:
        if (
            not column.startswith("eng_")
            or column in UNCONSTRAINED
            or column.startswith("eng_other_")
        ):
            return 0
        if column.startswith(negative) or column.startswith("eng_days_since"):
            return -1
        return 1

    return [sign(c) for c in columns]


def fit_calibrated(
    pipeline: Pipeline,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_cal: pd.DataFrame | None,
    y_cal: np.ndarray | None,
    method: str = "auto",
    sample_weight: np.ndarray | None = None,
    features: pd.DataFrame | None = None,
) -> tuple[Pipeline, str]:
    """Fits ``pipeline`` on the training fold and calibrates it on the calibration fold.

    With ``method="auto"`` both isotonic and sigmoid are fitted on half of the calibration
    fold and the one with the lower Brier score on the other half wins; it is then refitted
    on the whole fold.

    ``sample_weight`` weighs the training rows in the final estimator's fit. ``features``:
    the steps through ``features`` are already fitted on ``X_train`` and this is their
    output (:func:`drop_leaking_features`'); only the later steps are fitted, on it.

    Returns:
        The fitted ``Pipeline`` (its last step calibrated when a fold is given) and the
        calibration method used (``"none"`` without a fold).
    """
    weights = (
        {} if sample_weight is None else {f"{pipeline.steps[-1][0]}__sample_weight": sample_weight}
    )
    if features is None:
        pipeline.fit(X_train, y_train, **weights)
    else:
        pipeline[len(features_step_of(pipeline)) :].fit(features, y_train, **weights)
    if X_cal is None or y_cal is None or len(np.unique(y_cal)) < 2:
        return pipeline, "none"
    transform, classifier = pipeline[:-1], pipeline[-1]
    Xt_cal = transform.transform(X_cal)
    if method == "auto":
        method = _choose_calibration(classifier, Xt_cal, np.asarray(y_cal))
    calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method)
    calibrated.fit(Xt_cal, y_cal)
    return Pipeline([*transform.steps, (pipeline.steps[-1][0], calibrated)]), method


def _choose_calibration(classifier: LGBMClassifier, Xt: pd.DataFrame, y: np.ndarray) -> str:
    order = np.random.default_rng(0).permutation(len(y))
    half = len(y) // 2
    fit_idx, eval_idx = order[:half], order[half:]
    if len(np.unique(y[fit_idx])) < 2 or len(np.unique(y[eval_idx])) < 2:
        return "sigmoid"
    scores = {}
    for method in ("isotonic", "sigmoid"):
        cal = CalibratedClassifierCV(FrozenEstimator(classifier), method=method)
        cal.fit(Xt.iloc[fit_idx], y[fit_idx])
        scores[method] = brier_score_loss(y[eval_idx], cal.predict_proba(Xt.iloc[eval_idx])[:, 1])
    return min(scores, key=lambda m: scores[m])


def drop_leaking_features(
    pipeline: Pipeline, X_train: pd.DataFrame, y_train: np.ndarray, leak: LeakageSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fits the inputs and features steps on the training fold, screens each feature alone
    for leakage, and sets the ``select`` step to drop the features flagged ``drop``.

    Returns:
        The leakage report and the transformed training features.
    """
    Xt_train = features_step_of(pipeline).fit_transform(X_train, y_train)
    sample = fit_sample(len(Xt_train), leak.sample_rows)
    Xs, ys = (Xt_train, y_train) if sample is None else (Xt_train.iloc[sample], y_train[sample])
    report = leakage_report(Xs, ys, leak.drop_auc, leak.drop_correlation, leak.warn_auc)
    dropped = tuple(report.loc[report["action"] == "drop", "feature"])
    for name in dropped:
        log.warning("dropping feature %s: it predicts the label suspiciously well on its own", name)
    pipeline.set_params(select__columns=dropped)
    return report, Xt_train


def features_step_of(pipeline: Pipeline) -> Pipeline:
    """The steps up to and including ``features``: the features before the leakage drop
    (qualification rules read them, so a dropped feature never breaks a rule)."""
    names = [name for name, _ in pipeline.steps]
    return pipeline[: names.index("features") + 1]


def scoring_frames(pipeline: Pipeline, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features of ``X`` before the leakage drop (for rules and reasons) and the
    classifier's input after it."""
    before = features_step_of(pipeline)
    features = before.transform(X)
    return features, pipeline[len(before.steps) : -1].transform(features)


def booster_of(pipeline: Pipeline) -> LGBMClassifier:
    """The fitted LightGBM classifier inside a (possibly calibrated) pipeline."""
    model = pipeline[-1]
    if isinstance(model, CalibratedClassifierCV):
        return model.calibrated_classifiers_[0].estimator.estimator
    return model
