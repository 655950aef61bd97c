"""Per-segment models: the global model grown further on each segment that has the data.

``train --segment-by COLUMN`` trains the global model as usual, then for every value of
COLUMN (a lead source, an industry, a mapped custom attribute) with enough data in the
training fold (the same ``min_leads`` / ``min_conversions`` rule as training) it grows the
global booster ``segments.extra_trees`` more trees on that segment's training rows and
calibrates them on the segment's calibration rows. A segment model enters only if it beats
the global model on the segment's holdout: by ``segments.min_auc_gain`` in AUC, and in at
least ``segments.confidence`` of paired bootstrap resamples of those rows, so that noise
alone does not split a CRM whose segments behave alike. Segments that enter are refitted
like the global model (:mod:`models.refit`): grown from the served global booster on every
labelled row of the segment, calibrated by the evaluated segment model's out-of-time map.

Growing the global model, rather than fitting a model on the segment alone, keeps what
the segments share (a segment of a few hundred leads cannot learn it again) and lets the
extra trees learn only what differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from models.config import TrainConfig
from models.estimator import booster_of
from models.publishing import Candidate
from models.refit import calibrate_refit
from models.routing import SegmentedModel, segment_keys
from pipelines.features import model_input


@dataclass(frozen=True)
class SegmentData:
    """Every labelled row, as model input, with what each segment decision needs."""

    X: pd.DataFrame
    y: np.ndarray
    fold: np.ndarray  # train, calibration or test
    lead_id: np.ndarray
    weight: np.ndarray | None = None

    def rows(self, mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
        return self.X[mask], self.y[mask], None if self.weight is None else self.weight[mask]


@dataclass(frozen=True)
class SegmentedFit:
    """The evaluated and the served routing models, and the per-segment table."""

    evaluated: SegmentedModel
    served: SegmentedModel
    table: pd.DataFrame

    @property
    def entered(self) -> list[str]:
        return self.table.loc[self.table["model"] == "segment", "segment"].tolist()


def grow(fitted: Pipeline, X: pd.DataFrame, y: np.ndarray, weight: Any, trees: int) -> Pipeline:
    """``fitted``'s classifier grown ``trees`` more trees on (X, y), uncalibrated; the
    transform steps are ``fitted``'s own."""
    transform, booster = fitted[:-1], booster_of(fitted)
    more = clone(booster).set_params(n_estimators=trees)
    more.fit(transform.transform(X), y, sample_weight=weight, init_model=booster.booster_)
    return Pipeline([*transform.steps, (fitted.steps[-1][0], more)])


def calibrated(pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, method: str) -> Pipeline:
    """``pipeline`` with its classifier calibrated on (X, y) by ``method`` (``none``: as is)."""
    if method == "none":
        return pipeline
    transform, name = pipeline[:-1], pipeline.steps[-1][0]
    calibrator = CalibratedClassifierCV(FrozenEstimator(pipeline[-1]), method=method)
    calibrator.fit(transform.transform(X), y)
    return Pipeline([*transform.steps, (name, calibrator)])


def auc_gain(
    y: np.ndarray, segment: np.ndarray, overall: np.ndarray, resamples: int, seed: int
) -> tuple[float, float]:
    """AUC of ``segment`` minus that of ``overall`` on (y), and the share of paired
    bootstrap resamples in which the segment model's AUC is the higher."""
    gain = roc_auc_score(y, segment) - roc_auc_score(y, overall)
    rng = np.random.default_rng(seed)
    wins = tries = 0
    for _ in range(resamples):
        pick = rng.integers(0, len(y), len(y))
        if y[pick].min() == y[pick].max():
            continue
        tries += 1
        wins += roc_auc_score(y[pick], segment[pick]) > roc_auc_score(y[pick], overall[pick])
    return float(gain), wins / tries if tries else 0.0


def _row(name: str, data: SegmentData, keys: np.ndarray) -> dict[str, Any]:
    train = (keys == name) & (data.fold == "train")
    test = (keys == name) & (data.fold == "test")
    return {
        "segment": name,
        "train_leads": int(pd.unique(data.lead_id[train]).size),
        "train_conversions": int(data.y[train].sum()),
        "test_rows": int(test.sum()),
        "test_conversions": int(data.y[test].sum()),
    }


def _why_not(row: dict[str, Any], data: SegmentData, keys: np.ndarray, cfg: TrainConfig) -> str:
    """Why a segment cannot have a model of its own ('' when it can try)."""
    if row["train_leads"] < cfg.min_leads or row["train_conversions"] < cfg.min_conversions:
        return "too little data (min_leads, min_conversions)"
    for fold in ("calibration", "test"):
        y = data.y[(keys == row["segment"]) & (data.fold == fold)]
        if len(np.unique(y)) < 2:
            return f"one class in its {fold} fold"
    return ""


def check_segment_column(column: str | None, columns: pd.Index) -> None:
    """A ValueError naming the choices unless ``column`` (if any) is a model input."""
    if column is not None and column not in columns:
        raise ValueError(
            f"--segment-by: {column} is not a model input; choose among {', '.join(columns)}"
        )


def train_segments(
    column: str,
    data: SegmentData,
    evaluated: Pipeline,
    served: Pipeline,
    method: str,
    cfg: TrainConfig,
) -> SegmentedFit:
    """A segment model for every value of ``column`` that has the data and beats the global
    model on its holdout (see the module doc).

    Args:
        column: a model-input column.
        data: every labelled row with its fold.
        evaluated, served: the global model's evaluated fit and its refit.
        method: the calibration method of the global fit.
        cfg: training settings (``segments``, ``min_leads``, ``min_conversions``, ``seed``).

    Raises:
        ValueError: If ``column`` is not a model input.
    """
    check_segment_column(column, data.X.columns)
    settings, keys = cfg.segments, segment_keys(data.X[column])
    rows, evaluated_models, served_models = [], {}, {}
    for name in sorted(pd.unique(keys)):
        row = _row(name, data, keys) | {"global_auc": np.nan, "segment_auc": np.nan}
        row |= {"auc_gain": np.nan, "wins": np.nan, "model": "global"}
        row["why"] = _why_not(row, data, keys, cfg)
        rows.append(row)
        if row["why"]:
            continue
        mine = keys == name
        grown = grow(evaluated, *data.rows(mine & (data.fold == "train")), settings.extra_trees)
        X_cal, y_cal, _ = data.rows(mine & (data.fold == "calibration"))
        model = calibrated(grown, X_cal, y_cal, method)
        X_test, y_test, _ = data.rows(mine & (data.fold == "test"))
        p_global = evaluated.predict_proba(X_test)[:, 1]
        p_segment = model.predict_proba(X_test)[:, 1]
        gain, wins = auc_gain(y_test, p_segment, p_global, settings.bootstrap, cfg.seed)
        row |= {"global_auc": roc_auc_score(y_test, p_global), "auc_gain": gain, "wins": wins}
        row["segment_auc"] = row["global_auc"] + gain
        if gain < settings.min_auc_gain or wins < settings.confidence:
            row["why"] = f"no gain: {gain:+.4f}, better in {wins:.0%} of resamples"
            continue
        row |= {"model": "segment", "why": f"own: {gain:+.4f}, better in {wins:.0%} of resamples"}
        evaluated_models[name] = model
        base = grow(served, *data.rows(mine), settings.extra_trees)
        out_of_time = mine & (data.fold != "train")
        X_oot, y_oot, _ = data.rows(out_of_time)
        served_models[name] = (
            base if method == "none" else calibrate_refit(model, base, X_oot, y_oot, method)
        )
    return SegmentedFit(
        SegmentedModel(column, evaluated, evaluated_models),
        SegmentedModel(column, served, served_models),
        pd.DataFrame(rows),
    )


def segment_metrics(table: pd.DataFrame) -> dict[str, float]:
    """Per-segment holdout metrics for MLflow: ``segment.<name>.<metric>``."""
    out = {}
    for row in table.to_dict(orient="records"):
        name = re.sub(r"[^\w\-. /]", "_", str(row["segment"]))
        for key in ("global_auc", "segment_auc", "auc_gain", "test_rows", "test_conversions"):
            out[f"segment.{name}.{key}"] = float(row[key])
        out[f"segment.{name}.entered"] = float(row["model"] == "segment")
    return out


def segment_summary(table: pd.DataFrame) -> str:
    """One line: which segments have their own model, which fell back (a run tag)."""
    own = table[table["model"] == "segment"]
    entered = [f"{r.segment} {r.segment_auc:.3f}>{r.global_auc:.3f}" for r in own.itertuples()]
    fell_back = table.loc[table["model"] != "segment", "segment"].tolist()
    return f"own model: {', '.join(entered) or '-'}; fell back: {', '.join(fell_back) or '-'}"


def add_segments(
    candidate: Candidate,
    column: str,
    frame: pd.DataFrame,
    method: str,
    cfg: TrainConfig,
    inputs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-segment models for ``candidate`` (the global model, evaluated and refitted).

    When a segment enters, the candidate becomes the routing model: its holdout
    probabilities are the routed ones, the global model's are kept as ``global``. When
    none enters, the candidate stays the global pipeline. Either way the per-segment table
    becomes a run artifact (``segments.csv``) and metrics; it is returned. ``inputs``: the
    model input of ``frame``'s rows when it is already built (else built from ``frame``).
    """
    weight = frame["sample_weight"].fillna(1.0).to_numpy() if "sample_weight" in frame else None
    data = SegmentData(
        model_input(frame) if inputs is None else inputs,
        frame["label"].to_numpy(),
        frame["fold"].to_numpy(),
        frame["lead_id"].to_numpy(),
        weight,
    )
    fit = train_segments(column, data, candidate.evaluated_fit, candidate.pipeline, method, cfg)
    candidate.tables["segments.csv"] = fit.table
    candidate.more_metrics |= segment_metrics(fit.table)
    if fit.entered:
        global_p = candidate.probabilities.pop("lightgbm")
        routed = fit.evaluated.predict_proba(candidate.X_test)[:, 1]
        candidate.probabilities = {"lightgbm": routed, "global": global_p} | candidate.probabilities
        candidate.pipeline, candidate.evaluated = fit.served, fit.evaluated
    return fit.table
