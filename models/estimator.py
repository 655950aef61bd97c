"""One model object from the feature frame to a calibrated probability.

``build_pipeline`` returns the unfitted ``Pipeline(features → LightGBM)``; ``fit_calibrated``
fits it, then calibrates the frozen classifier on a later fold, giving one ``Pipeline`` that
is logged, evaluated and served as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss
from sklearn.pipeline import FeatureUnion, Pipeline

from models.config import TrainConfig
from pipelines.config import FeaturesConfig
from pipelines.families import FAMILIES, StageFeatures


def build_features(train_cfg: TrainConfig, features_cfg: FeaturesConfig) -> FeatureUnion:
    """The feature families named in the config, side by side, with pandas output."""
    steps = []
    for name in train_cfg.families:
        if name not in FAMILIES:
            raise ValueError(f"unknown feature family {name!r}; known: {', '.join(FAMILIES)}")
        family = StageFeatures(features_cfg.stages) if name == "stage" else FAMILIES[name]()
        steps.append((name, family))
    union = FeatureUnion(steps, verbose_feature_names_out=False)
    return union.set_output(transform="pandas")


def build_classifier(train_cfg: TrainConfig) -> LGBMClassifier:
    params = train_cfg.lightgbm.model_dump()
    return LGBMClassifier(
        objective="binary", random_state=train_cfg.seed, verbose=-1, deterministic=True, **params
    )


def build_pipeline(train_cfg: TrainConfig, features_cfg: FeaturesConfig) -> Pipeline:
    """The unfitted pipeline: feature families → LightGBM."""
    return Pipeline(
        [
            ("features", build_features(train_cfg, features_cfg)),
            ("model", build_classifier(train_cfg)),
        ]
    )


def fit_calibrated(
    pipeline: Pipeline,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_cal: pd.DataFrame | None,
    y_cal: np.ndarray | None,
    method: str = "auto",
) -> tuple[Pipeline, str]:
    """Fits ``pipeline`` on the training fold and calibrates it on the calibration fold.

    With ``method="auto"`` both isotonic and sigmoid are fitted on half of the calibration
    fold and the one with the lower Brier score on the other half wins; it is then refitted
    on the whole fold.

    Returns:
        The fitted ``Pipeline`` (its last step calibrated when a fold is given) and the
        calibration method used (``"none"`` without a fold).
    """
    pipeline.fit(X_train, y_train)
    if X_cal is None or y_cal is None or len(np.unique(y_cal)) < 2:
        return pipeline, "none"
    features, classifier = pipeline.named_steps["features"], pipeline.named_steps["model"]
    Xt_cal = features.transform(X_cal)
    if method == "auto":
        method = _choose_calibration(classifier, Xt_cal, np.asarray(y_cal))
    calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method)
    calibrated.fit(Xt_cal, y_cal)
    return Pipeline([("features", features), ("model", calibrated)]), method


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


def booster_of(pipeline: Pipeline) -> LGBMClassifier:
    """The fitted LightGBM classifier inside a (possibly calibrated) pipeline."""
    model = pipeline.named_steps["model"]
    if isinstance(model, CalibratedClassifierCV):
        return model.calibrated_classifiers_[0].estimator.estimator
    return model
