"""Hyperparameter search on the training fold with time-ordered, purged inner folds."""

from __future__ import annotations

import pandas as pd

from models.config import TrainConfig
from models.training import Folds, build_training_frame, fit_lightgbm
from models.tuning import candidates, inner_folds, tune
from pipelines import FeaturesConfig
from pipelines.inputs import validate_inputs
from pipelines.synthetic import generate_crm


def test_inner_folds_validate_later_dates_past_a_purge_gap() -> None:
    dates = pd.Series(pd.date_range("2026-01-05", periods=30, freq="7D", tz="UTC").repeat(3))
    folds = inner_folds(dates, 2, purge_days=28)
    assert len(folds) == 2
    for train, valid in folds:
        assert dates[train].max() + pd.Timedelta(days=28) < dates[valid].min()
        assert not (train & valid).any()
    assert dates[folds[0][1]].max() < dates[folds[1][1]].min()  # the latest block is last


def test_candidates_start_with_the_configured_settings_and_are_distinct() -> None:
    cfg = TrainConfig.model_validate({"tuning": {"trials": 6}})
    drawn = candidates(cfg)
    assert drawn[0] == cfg.lightgbm.model_dump()
    assert len(drawn) == 6 and len({tuple(sorted(d.items())) for d in drawn}) == 6
    assert drawn == candidates(cfg)  # seeded


def test_tuning_picks_the_best_inner_auc_from_the_training_fold_only() -> None:
    crm = generate_crm(2500, 3)
    tables = validate_inputs({t: crm[t] for t in ("leads", "activities", "stage_history")})
    cfg = TrainConfig.model_validate({"tuning": {"trials": 3}})
    frame, time_folds = build_training_frame(tables, cfg, FeaturesConfig())
    folds = Folds.of(frame)
    dates = frame.loc[frame["fold"] == "train", "snapshot_at"]
    tuned, trials = tune(
        cfg, FeaturesConfig(), folds.X["train"], folds.y["train"], dates,
        time_folds.purge_days, fit_lightgbm,
    )  # fmt: skip
    assert len(trials) == 3 and trials["mean_auc"].is_monotonic_decreasing
    best = trials.drop(columns="mean_auc").iloc[0].to_dict()
    assert {k: getattr(tuned.lightgbm, k) for k in best} == best
    assert tuned.tuning == cfg.tuning and tuned.split == cfg.split
    untouched, none = tune(
        TrainConfig(), FeaturesConfig(), folds.X["train"], folds.y["train"], dates,
        time_folds.purge_days, fit_lightgbm,
    )  # fmt: skip
    assert untouched == TrainConfig() and none.empty
