"""Feature families as sklearn transformers: BANT, firmographic fit, engagement, stage and
custom attributes.

Each family reads the columns it needs from the feature frame
(:func:`pipelines.features.build_feature_frame`) and returns a DataFrame whose columns are
prefixed by family (``bant_authority_seniority``, ``fit_industry``, ``eng_pricing_page_view_30d``).
Missing stays missing (NaN or a missing category); categories are fixed at ``fit`` and an
unseen level becomes missing at transform time.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold

from pipelines.config import StageConfig
from pipelines.features.titles import DEPARTMENTS, SENIORITIES, parse_job_titles, seniority_rank

TIMEFRAME_MONTHS = {"0-1m": 1.0, "1-3m": 3.0, "3-6m": 6.0, "6-12m": 12.0, "12m+": 18.0}
EMPLOYEE_BANDS = (0, 10, 50, 200, 1000, 5000)
REVENUE_BANDS = (0.0, 1e6, 1e7, 5e7, 2.5e8, 1e9)
_TOKEN = re.compile(r"[a-z][a-z0-9]+")


class Family(TransformerMixin, BaseEstimator):
    """Base: stores the output names at fit so ``get_feature_names_out`` works."""

    def fit(self, X: pd.DataFrame, y: object = None) -> Family:
        self.feature_names_out_ = np.asarray(self._features(X.head(2)).columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return self._features(X)

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_out_


def _category(values: pd.Series, categories: list[str]) -> pd.Series:
    """A categorical with fixed levels: unseen values and missing become NaN."""
    known = values.astype("object")
    # Unseen levels are set to missing first: pandas will stop doing it silently.
    known = known.where(known.isin(categories), None)
    return pd.Series(pd.Categorical(known, categories=categories), index=values.index)


def _band(values: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """Ordinal band (1 = below the second edge, ...); missing stays missing."""
    numbers = values.astype("float64")
    band = pd.Series(np.digitize(numbers.fillna(-1), edges), index=values.index).astype("float64")
    return band.where(numbers.notna())


def _levels(values: pd.Series, min_count: int) -> list[str]:
    counts = values.dropna().astype(str).value_counts()
    return sorted(counts[counts >= min_count].index.tolist())


class AuthorityFeatures(Family):
    """Seniority and department parsed from the job title, with the declared decision maker."""

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        parsed = parse_job_titles(X["job_title"])
        rank = parsed["seniority"].map(seniority_rank).astype("float64")
        dm = X["is_decision_maker"].astype("float64")
        # Authority level: a declared decision maker counts as senior as a VP.
        level = np.fmax(rank, np.where(dm == 1.0, seniority_rank("vp"), np.nan))
        return pd.DataFrame(
            {
                "bant_authority_seniority": _category(parsed["seniority"], list(SENIORITIES)),
                "bant_authority_department": _category(parsed["department"], list(DEPARTMENTS)),
                "bant_authority_decision_maker": dm,
                "bant_authority_level": pd.Series(level, index=X.index, dtype="float64"),
            },
            index=X.index,
        )


class NeedFeatures(Family):
    """Stated need: present, length, and a need strength learned from past outcomes.

    ``fit`` learns smoothed log-odds of conversion for each word seen in at least
    ``min_count`` needs; the strength of a need is the mean weight of its known words.
    ``fit_transform`` cross-fits (each fold scored by weights learned on the others) so the
    model never trains on a strength computed from its own label.
    """

    def __init__(self, min_count: int = 20, smoothing: float = 10.0, n_splits: int = 5) -> None:
        self.min_count = min_count
        self.smoothing = smoothing
        self.n_splits = n_splits

    def fit(self, X: pd.DataFrame, y: object = None) -> NeedFeatures:
        self.weights_ = self._learn(X["need"], np.asarray(y))
        return super().fit(X, y)

    def fit_transform(self, X: pd.DataFrame, y: object = None, **_: object) -> pd.DataFrame:
        self.fit(X, y)
        labels = np.asarray(y)
        strength = pd.Series(np.nan, index=X.index, dtype="float64")
        folds = KFold(self.n_splits, shuffle=True, random_state=0).split(X)
        for train_idx, test_idx in folds:
            weights = self._learn(X["need"].iloc[train_idx], labels[train_idx])
            strength.iloc[test_idx] = self._strength(X["need"].iloc[test_idx], weights).to_numpy()
        out = self._features(X)
        out["bant_need_strength"] = strength
        return out

    def _learn(self, need: pd.Series, y: np.ndarray) -> dict[str, float]:
        docs = need.fillna("").astype(str).str.lower().str.findall(_TOKEN).map(set)
        exploded = pd.DataFrame({"token": docs, "y": y}).explode("token").dropna()
        stats = exploded.groupby("token")["y"].agg(["sum", "count"])
        stats = stats[stats["count"] >= self.min_count]
        prior = float(np.mean(y)) if len(y) else 0.0
        rate = (stats["sum"] + self.smoothing * prior) / (stats["count"] + self.smoothing)
        eps = 1e-6
        log_odds = np.log((rate + eps) / (1 - rate + eps)) - np.log(
            (prior + eps) / (1 - prior + eps)
        )
        return {str(k): float(v) for k, v in log_odds.items()}

    @staticmethod
    def _strength(need: pd.Series, weights: dict[str, float]) -> pd.Series:
        # Each distinct need once: a few hundred texts recur across a million leads.
        codes, uniques = pd.factorize(need, use_na_sentinel=True)
        tokens = pd.Series(uniques, dtype="object").astype(str).str.lower().str.findall(_TOKEN)
        scores = [[weights[t] for t in set(ts) if t in weights] for ts in tokens]
        # A missing need (code -1) has no words, like an empty one: the last entry, NaN.
        strength = [*(float(np.mean(ws)) if ws else np.nan for ws in scores), np.nan]
        return pd.Series(np.asarray(strength, dtype="float64")[codes], index=need.index)

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        need = X["need"]
        present = need.notna() & (need.fillna("").astype(str).str.strip() != "")
        return pd.DataFrame(
            {
                "bant_need_present": present.astype("float64"),
                "bant_need_words": need.fillna("")
                .astype(str)
                .str.split()
                .str.len()
                .astype("float64")
                .where(present),
                "bant_need_strength": self._strength(need, self.weights_),
            },
            index=X.index,
        )


class BudgetFeatures(Family):
    """Stated budget, and budget relative to company size and revenue."""

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        budget = X["budget"].astype("float64")
        employees = X["employees"].astype("float64").where(lambda s: s > 0)
        revenue = X["annual_revenue"].astype("float64").where(lambda s: s > 0)
        return pd.DataFrame(
            {
                "bant_budget": budget,
                "bant_budget_missing": budget.isna().astype("float64"),
                "bant_budget_per_employee": budget / employees,
                "bant_budget_to_revenue": budget / revenue,
            },
            index=X.index,
        )


class TimingFeatures(Family):
    """Stated purchase timeframe, and how far past it the lead is at T."""

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        months = X["purchase_timeframe"].map(TIMEFRAME_MONTHS).astype("float64")
        overdue = X["lead_age_days"].astype("float64") - months * 30.44
        return pd.DataFrame(
            {
                "bant_timing_months": months,
                "bant_timing_missing": months.isna().astype("float64"),
                "bant_timing_days_past": overdue,
            },
            index=X.index,
        )


class FitFeatures(Family):
    """Firmographic fit: size, revenue, industry, country, source, contact-quality flags."""

    def __init__(self, min_count: int = 20) -> None:
        self.min_count = min_count

    def fit(self, X: pd.DataFrame, y: object = None) -> FitFeatures:
        self.levels_ = {c: _levels(X[c], self.min_count) for c in ("industry", "country", "source")}
        return super().fit(X, y)

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        employees = X["employees"].astype("float64")
        band = pd.Series(np.digitize(employees.fillna(-1), EMPLOYEE_BANDS), index=X.index).astype(
            "float64"
        )
        out = {
            "fit_employees": employees,
            "fit_employees_band": band.where(employees.notna()),
            "fit_annual_revenue": X["annual_revenue"].astype("float64"),
            "fit_annual_revenue_band": _band(X["annual_revenue"], REVENUE_BANDS),
            "fit_free_mail": X["email_free_mail"].astype("float64"),
            "fit_email_present": X["email_present"].astype("float64"),
            "fit_phone_present": X["phone_present"].astype("float64"),
        }
        for column, levels in self.levels_.items():
            out[f"fit_{column}"] = _category(X[column], levels)
        return pd.DataFrame(out, index=X.index)


class EngagementFeatures(Family):
    """The event aggregates (``eng_*``) plus the recent-vs-prior trend."""

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        # One block (copy): the model input's columns may be separate arrays (model_input).
        out = X[[c for c in X.columns if c.startswith("eng_")]].astype("float64").copy()
        out = out.assign(
            eng_trend=(out["eng_recent_count"] - out["eng_prior_count"])
            / (out["eng_prior_count"] + 1.0)
        )
        return out


class StageFeatures(Family):
    """Funnel stage at T, days in it, stagnation against per-stage thresholds, lead age."""

    def __init__(self, stages: StageConfig | None = None) -> None:
        self.stages = stages

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        cfg = self.stages or StageConfig()
        days = X["stage_days_in_stage"].astype("float64")
        limit = X["stage_current"].map(cfg.stagnant_days).astype("float64")
        return pd.DataFrame(
            {
                "stage_current": _category(X["stage_current"], list(cfg.order)),
                "stage_days_in_stage": days,
                "stage_stagnant": (days > limit).astype("float64").where(limit.notna()),
                "stage_backward_moves": X["stage_backward_moves"].astype("float64"),
                "stage_lead_age_days": X["lead_age_days"].astype("float64"),
            },
            index=X.index,
        )


class InteractionFeatures(Family):
    """Products the funnel implies (``ix_*``): recent high intent by how far down the funnel
    the lead is, by company size and by lead age. Off by default (``families`` in
    ``train.yaml``): trees can learn such products from splits, given the data."""

    def __init__(self, stages: StageConfig | None = None) -> None:
        self.stages = stages

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        order = list((self.stages or StageConfig()).order)
        prefix = "eng_high_intent_decay_"
        decays = sorted(  # the shortest half-life: the most recent intent
            (c for c in X.columns if c.startswith(prefix)),
            key=lambda c: float(re.sub(r"[^0-9.]", "", c.removeprefix(prefix)) or "inf"),
        )
        intent = X[decays[0]].astype("float64").fillna(0.0) if decays else pd.Series(0.0, X.index)
        stage = X["stage_current"].map({name: i for i, name in enumerate(order)})
        age = X["lead_age_days"].astype("float64")
        return pd.DataFrame(
            {
                "ix_intent_x_stage": intent * (stage.astype("float64") + 1.0),
                "ix_intent_x_size": intent * np.log1p(X["employees"].astype("float64")),
                "ix_recent_per_age": X["eng_recent_count"].astype("float64") / (age + 1.0),
            },
            index=X.index,
        )


class AttributeFeatures(Family):
    """Custom lead attributes (``attr_`` columns, :mod:`pipelines.attributes`): numbers and
    word counts as floats, categories with the levels seen ``min_count`` times at fit.

    Without attributes in the frame it adds no feature, so it can always be on.
    """

    def __init__(self, min_count: int = 20) -> None:
        self.min_count = min_count

    def fit(self, X: pd.DataFrame, y: object = None) -> AttributeFeatures:
        columns = [c for c in X.columns if str(c).startswith("attr_")]
        self.numbers_ = [c for c in columns if pd.api.types.is_numeric_dtype(X[c])]
        self.levels_ = {c: _levels(X[c], self.min_count) for c in columns if c not in self.numbers_}
        return super().fit(X, y)

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for column in self.numbers_:
            values = X[column] if column in X.columns else pd.Series(np.nan, index=X.index)
            out[column] = values.astype("float64")
        for column, levels in self.levels_.items():
            values = X[column] if column in X.columns else pd.Series(None, index=X.index)
            out[column] = _category(values, levels)
        return pd.DataFrame(out, index=X.index)


FAMILIES = {
    "authority": AuthorityFeatures,
    "need": NeedFeatures,
    "budget": BudgetFeatures,
    "timing": TimingFeatures,
    "fit": FitFeatures,
    "engagement": EngagementFeatures,
    "stage": StageFeatures,
    "interactions": InteractionFeatures,
    "attributes": AttributeFeatures,
}
