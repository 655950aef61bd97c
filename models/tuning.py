"""Hyperparameter search with time-ordered inner folds (``tuning:`` in ``train.yaml``).

The search runs inside the training fold only, so the calibration and test folds stay
untouched. Its inner folds are ordered by time like the outer ones: each validates on a
later block of snapshot dates and trains on the dates ending a purge gap (one horizon)
before that block, so no label window of an inner training row overlaps its validation.
Candidates are drawn at random from a small grid (the configured settings always among
them); the one with the best mean validation AUC wins. The budget is ``tuning.trials``
candidates × ``tuning.inner_folds`` fits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.config import TrainConfig
from pipelines import FeaturesConfig

log = logging.getLogger(__name__)
SPACE: dict[str, tuple[Any, ...]] = {
    "n_estimators": (150, 300, 500),
    "learning_rate": (0.03, 0.05, 0.1),
    "num_leaves": (7, 15, 31),
    "max_depth": (3, 4, 6),
    "min_child_samples": (20, 50, 100),
    "colsample_bytree": (0.5, 0.8),
    "reg_lambda": (0.0, 1.0, 5.0),
}


def inner_folds(
    dates: pd.Series, folds: int, purge_days: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train mask, validation mask) pairs over the rows' snapshot dates, latest last.

    The distinct dates are cut into ``folds + 1`` blocks; fold k validates on block k + 1
    and trains on every date at least ``purge_days`` before that block starts.
    """
    distinct = np.sort(dates.unique())
    blocks = np.array_split(distinct, folds + 1)
    out = []
    for block in blocks[1:]:
        if len(block) == 0:
            continue
        start = pd.Timestamp(block[0])
        train = (dates < start - pd.Timedelta(days=purge_days)).to_numpy()
        valid = dates.isin(block).to_numpy()
        if train.any() and valid.any():
            out.append((train, valid))
    return out


def candidates(cfg: TrainConfig) -> list[dict[str, Any]]:
    """The configured LightGBM settings, then ``trials - 1`` random draws from ``SPACE``."""
    rng = np.random.default_rng(cfg.seed)
    base = cfg.lightgbm.model_dump()
    drawn = [base]
    while len(drawn) < cfg.tuning.trials:
        draw = base | {k: values[rng.integers(len(values))] for k, values in SPACE.items()}
        if draw not in drawn:
            drawn.append(draw)
    return drawn


def tune(
    cfg: TrainConfig,
    features_cfg: FeaturesConfig,
    X: pd.DataFrame,
    y: np.ndarray,
    dates: pd.Series,
    purge_days: int,
    fit: Callable[..., tuple[Any, str, pd.DataFrame]],
    weight: np.ndarray | None = None,
) -> tuple[TrainConfig, pd.DataFrame]:
    """``cfg`` with the best LightGBM settings found on the training fold, and the trials.

    Args:
        X, y, dates, weight: the training fold's model input, labels, snapshot times and
            training weights.
        purge_days: the gap between inner training and validation dates.
        fit: fits one candidate without calibration (``models.training.fit_lightgbm``).

    Returns ``cfg`` unchanged when tuning is off or the fold cannot hold an inner fold
    with both classes.
    """
    folds = [
        (t, v)
        for t, v in inner_folds(dates.reset_index(drop=True), cfg.tuning.inner_folds, purge_days)
        if len(np.unique(y[t])) == 2 and len(np.unique(y[v])) == 2
    ]
    if cfg.tuning.trials < 2 or not folds:
        return cfg, pd.DataFrame()
    rows = []
    for params in candidates(cfg):
        trial = cfg.model_copy(update={"lightgbm": cfg.lightgbm.model_validate(params)})
        aucs = []
        for train, valid in folds:
            w = None if weight is None else weight[train]
            fitted, _, _ = fit(trial, features_cfg, X[train], y[train], None, None, w)
            aucs.append(roc_auc_score(y[valid], fitted.predict_proba(X[valid])[:, 1]))
        rows.append(params | {"mean_auc": float(np.mean(aucs))})
        log.info("tuning trial %d: mean inner AUC %.4f", len(rows), rows[-1]["mean_auc"])
    trials = pd.DataFrame(rows).sort_values("mean_auc", ascending=False, kind="stable")
    best = {k: v for k, v in trials.iloc[0].to_dict().items() if k != "mean_auc"}
    best = {k: type(cfg.lightgbm.model_dump()[k])(v) for k, v in best.items()}
    return cfg.model_copy(update={"lightgbm": cfg.lightgbm.model_validate(best)}), trials
