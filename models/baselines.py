"""Baselines that LightGBM must beat on the same holdout.

Each baseline is one unfitted ``Pipeline([("features", ...), ("model", ...)])`` that takes
the model-input frame (:func:`pipelines.features.model_input`) and exposes ``predict_proba``,
so it is fitted, calibrated (:func:`models.estimator.fit_calibrated`) and evaluated exactly
like the LightGBM pipeline:

- ``rule_points``: the marketing-automation way. Points per signal (high-intent activities
  in the last 30 days, seniority, decision maker, budget, timeframe, unsubscribes, free
  mail...) with the weights of :class:`~models.config.RulePointWeights`, summed to one
  score. A one-feature logistic regression fitted on the training fold maps the points to a
  probability; it is monotone, so the ranking (AUC, lift) is that of the points alone.
- ``naive_bayes``: the way Odoo scores leads. The frequency of each field value among won
  versus lost leads, multiplied across a handful of categorical fields (``CategoricalNB``).
- ``logistic``: logistic regression on the same feature families as LightGBM: imputed
  numbers with missing indicators, log1p on counts and amounts, standardised; one-hot
  categories (missing is its own level, unseen levels are ignored).

The ``features`` step of each returns a DataFrame (what ``fit_calibrated`` expects); for
``rule_points`` it is the single ``rule_points`` column, and :func:`rule_points_breakdown`
shows the points of every rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from models.config import BaselineSettings, RulePointWeights
from pipelines import FeaturesConfig
from pipelines.features import FAMILIES, Family, StageFeatures

RULE_FAMILIES = ("authority", "budget", "timing", "fit", "engagement")
NAIVE_BAYES_FAMILIES = ("authority", "timing", "fit", "stage")
# Field values counted by the naive Bayes baseline, as the feature families expose them.
NAIVE_BAYES_FIELDS = (
    "fit_source",
    "fit_industry",
    "fit_country",
    "bant_authority_seniority",
    "bant_timing_months",
    "stage_current",
    "fit_employees_band",
)
# Non-negative, heavy-tailed counts and amounts: log1p before standardising.
LOG_COLUMNS = re.compile(
    r"^(eng_(?!trend$).+|bant_budget(_per_employee|_to_revenue)?|bant_need_words"
    r"|fit_employees|fit_annual_revenue|stage_(days_in_stage|backward_moves|lead_age_days))$"
)


def build_family_union(names: Sequence[str], features_cfg: FeaturesConfig) -> FeatureUnion:
    """The named feature families side by side, with pandas output."""
    steps: list[tuple[str, Family]] = []
    for name in names:
        if name not in FAMILIES:
            raise ValueError(f"unknown feature family {name!r}; known: {', '.join(FAMILIES)}")
        family = StageFeatures(features_cfg.stages) if name == "stage" else FAMILIES[name]()
        steps.append((name, family))
    return FeatureUnion(steps, verbose_feature_names_out=False).set_output(transform="pandas")


def rule_points_breakdown(features: pd.DataFrame, weights: RulePointWeights) -> pd.DataFrame:
    """Points per rule for each row of a family frame (authority, budget, timing, fit, engagement).

    Missing values earn no points. Column ``total`` is the score.
    """
    window = weights.activity_window_days
    cap = weights.max_points_per_activity
    out = pd.DataFrame(index=features.index)
    for kind, per_event in weights.activity_points.items():
        count = features[f"eng_{kind}_{window}d"].fillna(0.0)
        points = per_event * count
        out[kind] = points.clip(upper=cap) if cap is not None else points
    for kind, points in weights.negative_points.items():
        out[kind] = np.where(features[f"eng_{kind}_count"].fillna(0.0) > 0, points, 0.0)
    seniority = features["bant_authority_seniority"].astype("object")
    out["seniority"] = seniority.map(weights.seniority_points).astype("float64").fillna(0.0)
    flags = {
        "decision_maker": (
            features["bant_authority_decision_maker"] == 1.0,
            weights.decision_maker_points,
        ),
        "budget_stated": (features["bant_budget_missing"] == 0.0, weights.budget_stated_points),
        "timeframe": (
            features["bant_timing_months"] <= weights.timeframe_max_months,
            weights.timeframe_points,
        ),
        "free_mail": (features["fit_free_mail"] == 1.0, weights.free_mail_points),
    }
    for name, (condition, points) in flags.items():
        out[name] = np.where(condition.to_numpy(dtype=bool), points, 0.0)
    out["total"] = out.sum(axis=1)
    return out.astype("float64")


class RulePoints(TransformerMixin, BaseEstimator):
    """The summed rule points as one column, ``rule_points``; nothing is learned."""

    def __init__(self, weights: RulePointWeights | None = None) -> None:
        self.weights = weights

    def fit(self, X: pd.DataFrame, y: object = None) -> RulePoints:
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        total = rule_points_breakdown(X, self.weights or RulePointWeights())["total"]
        return pd.DataFrame({"rule_points": total}, index=X.index)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(["rule_points"], dtype=object)


def shift_codes(codes: np.ndarray) -> np.ndarray:
    """Ordinal codes + 1, so missing, rare and unseen values (-1) share code 0."""
    return np.asarray(codes) + 1.0


def log1p_nonnegative(values: np.ndarray) -> np.ndarray:
    """log1p of values clipped at 0 (NaN stays NaN for the imputer)."""
    return np.log1p(np.clip(np.asarray(values, dtype="float64"), 0.0, None))


def _log_columns(frame: pd.DataFrame) -> list[str]:
    numeric = frame.select_dtypes("number").columns
    return [c for c in numeric if LOG_COLUMNS.match(c)]


def _linear_columns(frame: pd.DataFrame) -> list[str]:
    numeric = frame.select_dtypes("number").columns
    return [c for c in numeric if not LOG_COLUMNS.match(c)]


def _categorical_columns(frame: pd.DataFrame) -> list[str]:
    return list(frame.select_dtypes(exclude="number").columns)


def build_rule_points(
    weights: RulePointWeights, features_cfg: FeaturesConfig, max_iter: int = 2000
) -> Pipeline:
    """Rule points → one-feature logistic regression, ``p = sigmoid(a + b * points)``."""
    _check_rule_columns(weights, features_cfg)
    features = Pipeline(
        [
            ("families", build_family_union(RULE_FAMILIES, features_cfg)),
            ("points", RulePoints(weights)),
        ]
    ).set_output(transform="pandas")
    return Pipeline([("features", features), ("model", LogisticRegression(max_iter=max_iter))])


def build_naive_bayes(alpha: float, features_cfg: FeaturesConfig) -> Pipeline:
    """Won/lost frequencies of field values (``CategoricalNB``).

    Values are coded 1..K from the training fold; missing, rare (grouped by the fit family)
    and unseen values share code 0. When a field had no missing value in training, code 0
    has only the smoothing prior ``alpha`` in both classes, which nudges an unseen value
    towards the smaller class; the fields used here are missing often enough in CRM data
    that code 0 is learned like any other value.
    """
    codes = ColumnTransformer(
        [
            (
                "codes",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
                ),
                list(NAIVE_BAYES_FIELDS),
            )
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    features = Pipeline(
        [
            ("families", build_family_union(NAIVE_BAYES_FAMILIES, features_cfg)),
            ("codes", codes),
            ("shift", FunctionTransformer(shift_codes, feature_names_out="one-to-one")),
        ]
    ).set_output(transform="pandas")
    return Pipeline([("features", features), ("model", CategoricalNB(alpha=alpha))])


def build_logistic(
    cfg: BaselineSettings, features_cfg: FeaturesConfig, families: Sequence[str]
) -> Pipeline:
    """Logistic regression (L2, no class weights) on the feature families."""
    counts = Pipeline(
        [
            ("log1p", FunctionTransformer(log1p_nonnegative, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    # Missing is a level of its own; a level unseen in training encodes as all zeros.
    categories = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    columns = ColumnTransformer(
        [
            ("counts", counts, _log_columns),
            ("numbers", numbers, _linear_columns),
            ("categories", categories, _categorical_columns),
        ]
    )
    features = Pipeline(
        [("families", build_family_union(families, features_cfg)), ("columns", columns)]
    ).set_output(transform="pandas")
    model = LogisticRegression(C=cfg.logistic_c, max_iter=cfg.logistic_max_iter)
    return Pipeline([("features", features), ("model", model)])


def build_baselines(
    cfg: BaselineSettings,
    features_cfg: FeaturesConfig,
    families: Sequence[str] = tuple(FAMILIES),
) -> dict[str, Pipeline]:
    """The unfitted baselines by name: ``rule_points``, ``naive_bayes``, ``logistic``.

    Args:
        cfg: rule weights and baseline hyperparameters (``train.yaml: baselines``).
        features_cfg: feature settings (engagement windows, stage order).
        families: the feature families of the logistic baseline; pass LightGBM's
            (``TrainConfig.families``) to compare the models on the same features.

    Raises:
        ValueError: a rule reads an activity type or window the engagement features lack.
    """
    return {
        "rule_points": build_rule_points(cfg.rule_points, features_cfg, cfg.logistic_max_iter),
        "naive_bayes": build_naive_bayes(cfg.naive_bayes_alpha, features_cfg),
        "logistic": build_logistic(cfg, features_cfg, families),
    }


def _check_rule_columns(weights: RulePointWeights, features_cfg: FeaturesConfig) -> None:
    engagement = features_cfg.engagement
    if weights.activity_window_days not in engagement.windows_days:
        raise ValueError(
            f"baselines.rule_points.activity_window_days={weights.activity_window_days} is not "
            f"an engagement window; choose one of {list(engagement.windows_days)}"
        )
    unknown = [
        kind
        for kind in (*weights.activity_points, *weights.negative_points)
        if kind not in engagement.activity_types
    ]
    if unknown:
        raise ValueError(
            f"baselines.rule_points: unknown activity types {unknown}; "
            f"known: {list(engagement.activity_types)}"
        )
