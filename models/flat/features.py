"""Flat mode: one table, one row per lead, a label, and no event history.

:class:`FlatFeatures` turns any such table into model inputs without knowing its columns:
at ``fit`` it decides each column's kind from the training rows, after placeholder values
("Select", "", "n/a", ...) are read as missing:

- ``numeric``: at least ``numeric_share`` of the present values parse as numbers;
- ``category``: at most ``max_categories`` distinct values; levels seen at least
  ``min_category_count`` times are kept, rarer and unseen ones share ``(other)``;
- ``text``: more distinct values (free text such as a job title or a stated need): its
  word count and a strength, the mean smoothed conversion log-odds of its words, learned
  at fit and cross-fitted on the training rows (as for the stated need of the main path);
- ``email`` / ``pii``: e-mail addresses (by their content), and phone numbers in a column
  named like one (``pii_pattern``), are reduced to present/absent (and free-mail for
  e-mail addresses); their values are never used, logged or written;
- ``identifier`` (every value distinct: text, or whole numbers) and ``constant`` columns
  are left out and reported.

:func:`build_flat_pipeline` wraps it the way :func:`models.estimator.build_pipeline` wraps
the feature families: input check → features → leakage drop → LightGBM.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from models.baselines import shift_codes
from models.config import TrainConfig
from models.estimator import DropFeatures, RequireColumns, build_classifier
from models.linear import CenteredLogistic
from pipelines import FeaturesConfig, Frozen

OTHER = "(other)"
_TOKEN = re.compile(r"[a-z][a-z0-9]+")
_NAME = re.compile(r"[^0-9a-z]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")
SKIPPED_KINDS = ("identifier", "constant")


class FlatConfig(Frozen):
    """Flat-mode settings (``configs/flat.yaml``); LightGBM, seed, calibration, leakage
    thresholds and the promotion gate come from ``configs/train.yaml``."""

    model_name: str = "lead-conversion-flat"
    test_size: float = Field(0.2, gt=0, lt=0.5, description="share held out for testing")
    calibration_size: float = Field(0.2, ge=0, lt=0.5, description="share for calibration")
    placeholders: tuple[str, ...] = (
        "",
        "select",
        "-",
        "--",
        "n/a",
        "na",
        "none",
        "null",
        "nan",
        "#n/a",
        "not provided",
    )
    numeric_share: float = Field(0.95, gt=0.5, le=1.0)
    max_categories: int = Field(50, ge=2, description="more distinct values: free text")
    min_category_count: int = Field(10, ge=1, description="rarer levels share '(other)'")
    text_min_count: int = Field(10, ge=1, description="a word counts once seen this often")
    pii_pattern: str = Field(r"phone|mobile|fax|e-?mail", description="names of personal data")
    free_mail_domains: tuple[str, ...] = FeaturesConfig().free_mail_domains


def feature_name(column: str) -> str:
    """A model-safe name for a source column: lower case, words joined by underscores."""
    return _NAME.sub("_", str(column).lower()).strip("_") or "column"


def clean_values(values: pd.Series, placeholders: tuple[str, ...]) -> pd.Series:
    """Trimmed text (object); missing, blank and placeholder values become None."""
    missing = [p.casefold() for p in placeholders]
    out = np.full(len(values), None, dtype=object)
    present = values.notna().to_numpy()
    text = values[present].astype(str).str.strip()
    keep = ~text.str.casefold().isin(missing).to_numpy()
    out[np.flatnonzero(present)[keep]] = text[keep].to_numpy(dtype=object)
    return pd.Series(out, index=values.index, dtype=object)


def _tokens(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.lower().str.findall(_TOKEN).map(set)


def learn_word_weights(
    values: pd.Series, y: np.ndarray, min_count: int, smoothing: float = 10.0
) -> dict[str, float]:
    """Smoothed conversion log-odds of each word (relative to the base rate)."""
    exploded = pd.DataFrame({"token": _tokens(values).to_numpy(), "y": y}).explode("token")
    stats = exploded.dropna().groupby("token")["y"].agg(["sum", "count"])
    stats = stats[stats["count"] >= min_count]
    prior = float(np.mean(y)) if len(y) else 0.0
    rate = (stats["sum"] + smoothing * prior) / (stats["count"] + smoothing)
    eps = 1e-6
    log_odds = np.log((rate + eps) / (1 - rate + eps)) - np.log((prior + eps) / (1 - prior + eps))
    return {str(k): float(v) for k, v in log_odds.items()}


def text_strength(values: pd.Series, weights: dict[str, float]) -> pd.Series:
    scores = _tokens(values).map(lambda ts: [weights[t] for t in ts if t in weights])
    return scores.map(lambda ws: float(np.mean(ws)) if ws else np.nan).astype("float64")


class FlatFeatures(TransformerMixin, BaseEstimator):
    """Generic features for a flat table (see the module docstring for the column kinds)."""

    def __init__(self, cfg: FlatConfig | None = None, n_splits: int = 5) -> None:
        self.cfg = cfg
        self.n_splits = n_splits

    def settings(self) -> FlatConfig:
        return self.cfg or FlatConfig()

    def _kind(self, column: str, values: pd.Series) -> str:
        cfg = self.settings()
        present = values.dropna()
        if len(present) and present.str.match(_EMAIL).mean() >= 0.5:
            return "email"
        named = re.search(cfg.pii_pattern, str(column), re.IGNORECASE)
        if named and len(present) and present.str.match(_PHONE).mean() >= 0.5:
            return "pii"
        if present.nunique() < 2:
            return "constant"
        numbers = pd.to_numeric(present, errors="coerce")
        distinct = present.nunique() == len(present) and len(present) >= 100
        if numbers.notna().mean() >= cfg.numeric_share:
            whole = bool((numbers.dropna() % 1 == 0).all())
            return "identifier" if distinct and whole else "numeric"
        if present.nunique() <= cfg.max_categories:
            return "category"
        return "identifier" if distinct and present.str.count(" ").mean() < 1 else "text"

    def fit(self, X: pd.DataFrame, y: object = None) -> FlatFeatures:
        cfg = self.settings()
        labels = np.asarray(y, dtype="float64")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.kinds_: dict[str, str] = {}
        self.levels_: dict[str, list[str]] = {}
        self.weights_: dict[str, dict[str, float]] = {}
        for column in X.columns:
            values = clean_values(X[column], cfg.placeholders)
            kind = self.kinds_[column] = self._kind(column, values)
            if kind == "category":
                counts = values.value_counts()
                self.levels_[column] = sorted(counts[counts >= cfg.min_category_count].index)
            elif kind == "text":
                self.weights_[column] = learn_word_weights(values, labels, cfg.text_min_count)
        out, self.source_names_ = self._features(X.head(2), self.weights_)
        self.feature_names_out_ = np.asarray(out.columns, dtype=object)
        return self

    def fit_transform(self, X: pd.DataFrame, y: object = None, **_: object) -> pd.DataFrame:
        """Fits, then transforms with text strengths cross-fitted on the training rows."""
        self.fit(X, y)
        out = self._features(X, self.weights_)[0]
        labels = np.asarray(y, dtype="float64")
        texts = [c for c, kind in self.kinds_.items() if kind == "text"]
        if texts and len(X) >= self.n_splits:
            cfg = self.settings()
            folds = KFold(self.n_splits, shuffle=True, random_state=0).split(X)
            for train_idx, test_idx in folds:
                for column in texts:
                    values = clean_values(X[column], cfg.placeholders)
                    weights = learn_word_weights(
                        values.iloc[train_idx], labels[train_idx], cfg.text_min_count
                    )
                    strength = text_strength(values.iloc[test_idx], weights)
                    out.iloc[test_idx, out.columns.get_loc(self.source_names_[column][1])] = (
                        strength.to_numpy()
                    )
        return out

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.kinds_ if self.kinds_[c] not in SKIPPED_KINDS and c not in X]
        if missing:
            raise ValueError(f"flat input is missing column(s) {', '.join(map(str, missing))}")
        return self._features(X, self.weights_)[0]

    def _features(
        self, X: pd.DataFrame, weights: dict[str, dict[str, float]]
    ) -> tuple[pd.DataFrame, dict[str, list[str]]]:
        """The features, and the feature names of each source column."""
        cfg = self.settings()
        out: dict[str, pd.Series] = {}
        names: dict[str, list[str]] = {}
        for column, kind in self.kinds_.items():
            if kind in SKIPPED_KINDS:
                continue
            name = feature_name(column)
            values = clean_values(X[column], cfg.placeholders)
            parts: dict[str, pd.Series] = {}
            if kind == "numeric":
                parts[name] = pd.to_numeric(values, errors="coerce").astype("float64")
            elif kind == "category":
                levels = self.levels_[column]
                known = values.where(values.isin(levels) | values.isna(), OTHER)
                parts[name] = pd.Series(
                    pd.Categorical(known, categories=[*levels, OTHER]), index=X.index
                )
            elif kind == "text":
                words = values.fillna("").str.split().str.len().astype("float64")
                parts[f"{name}_words"] = words.where(values.notna())
                parts[f"{name}_strength"] = text_strength(values, weights[column])
            else:
                parts[f"{name}_present"] = values.notna().astype("float64")
                if kind == "email":
                    domain = values.fillna("").str.rsplit("@", n=1).str[-1].str.lower()
                    free = domain.isin(cfg.free_mail_domains).astype("float64")
                    parts[f"{name}_free_mail"] = free.where(values.notna())
            for feature, series in parts.items():
                unique = feature
                while unique in out:
                    unique += "_"
                out[unique] = series
                names.setdefault(column, []).append(unique)
        return pd.DataFrame(out, index=X.index), names

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_out_

    def sources(self) -> dict[str, str]:
        """Feature name → the source column it comes from."""
        return {f: c for c, features in self.source_names_.items() for f in features}


def build_flat_pipeline(cfg: FlatConfig, train_cfg: TrainConfig) -> Pipeline:
    """The unfitted flat pipeline: input check → generic features → leakage drop → LightGBM."""
    return Pipeline(
        [
            ("inputs", RequireColumns()),
            ("features", FlatFeatures(cfg)),
            ("select", DropFeatures()),
            ("model", build_classifier(train_cfg)),
        ]
    )


def as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as plain values, for imputers and encoders."""
    return frame.astype("object").where(frame.notna(), np.nan)


def _numbers(frame: pd.DataFrame) -> list[str]:
    return list(frame.select_dtypes("number").columns)


def _categories(frame: pd.DataFrame) -> list[str]:
    return list(frame.select_dtypes(exclude="number").columns)


def build_flat_baselines(
    cfg: FlatConfig, train_cfg: TrainConfig, categories: int
) -> dict[str, Pipeline]:
    """Baselines that work on any table: logistic regression, and naive Bayes on the
    categorical columns (when there are any). Rule points need activities and BANT fields
    a flat table does not have."""
    bl = train_cfg.baselines
    categorical = Pipeline(
        [
            ("objects", FunctionTransformer(as_objects, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    columns = ColumnTransformer(
        [("numbers", numbers, _numbers), ("categories", categorical, _categories)]
    )
    logistic = Pipeline(
        [
            (
                "features",
                Pipeline([("flat", FlatFeatures(cfg)), ("columns", columns)]).set_output(
                    transform="pandas"
                ),
            ),
            ("model", CenteredLogistic(C=bl.logistic_c, max_iter=bl.logistic_max_iter)),
        ]
    )
    baselines = {"logistic": logistic}
    if categories:
        codes = ColumnTransformer(
            [
                (
                    "codes",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-1,
                    ),
                    _categories,
                )
            ],
            remainder="drop",
        )
        shift = FunctionTransformer(shift_codes, feature_names_out="one-to-one")
        nb_features = Pipeline([("flat", FlatFeatures(cfg)), ("codes", codes), ("shift", shift)])
        baselines["naive_bayes"] = Pipeline(
            [
                ("features", nb_features.set_output(transform="pandas")),
                ("model", CategoricalNB(alpha=bl.naive_bayes_alpha)),
            ]
        )
    return baselines
