"""Training that holds up on real CRM histories (issue 16): folds that fit the data, a refit
champion, leaks through what is filled in, deterministic metrics, a strict gate."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from models import InsufficientDataError, TrainConfig, configure, get_champion, train_model
from models.config import LightGBMSettings, PromotionSettings, SplitSettings
from models.evaluation import lift_at
from models.exclusions import BlankColumns, feature_sources, inputs_of, model_input_columns
from models.publishing import should_promote
from models.refit import refit_on_all
from models.splits import FoldError, choose_folds, fit_folds, fold_counts, plan_folds
from models.training import Folds, build_training_frame, fit_lightgbm
from pipelines import FeaturesConfig, fill_rate_report, validate_inputs
from pipelines.features import model_input
from scoring.config import BantRules, ScoringConfig
from scoring.qualify import bant_checklist, qualify

SMALL = LightGBMSettings(n_estimators=60)
WEEK = pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def tables(small_crm: dict[str, pd.DataFrame]):  # noqa: ANN201
    return validate_inputs(dict(small_crm))


def _weekly(n: int) -> list[pd.Timestamp]:
    start = pd.Timestamp("2026-01-05", tz="UTC")
    return [start + i * WEEK for i in range(n)]


def _snapshots(dates: list[pd.Timestamp], per_date: int = 120, rate: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {"lead_id": f"L{i}-{j}", "snapshot_at": d, "label": int(rng.random() < rate)}
        for i, d in enumerate(dates)
        for j in range(per_date)
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ folds that fit the data


def test_configured_folds_are_kept_when_they_fit() -> None:
    dates = _weekly(90)  # ~21 months of snapshot dates
    folds = choose_folds(_snapshots(dates), dates, 90, TrainConfig())
    assert folds.adapted == ""
    assert folds == plan_folds(dates[-1], 90, SplitSettings())


def test_a_short_history_gets_folds_fitted_to_its_dates() -> None:
    dates = _weekly(22)  # a 9-month history: ~150 days of labelled snapshot dates
    snapshots = _snapshots(dates)
    folds = choose_folds(snapshots, dates, 90, TrainConfig())
    assert "configured folds do not fit" in folds.adapted
    counts = fold_counts(snapshots, folds)
    assert (counts["rows"] > 0).all(), counts  # every fold at least one snapshot date
    assert folds.train_end < folds.calibration_start <= folds.calibration_end < folds.test_start
    assert folds.test_end == dates[-1]
    # Purge gaps kept between the folds, shortened to fit the span (not the 90-day horizon).
    assert 0 < folds.purge_days < 90
    assert folds.calibration_start - folds.train_end > pd.Timedelta(days=folds.purge_days)
    assert folds.test_start - folds.calibration_end > pd.Timedelta(days=folds.purge_days)


def test_fitted_folds_share_the_dates_as_documented() -> None:
    dates = _weekly(50)
    folds = fit_folds(dates, 90, SplitSettings())
    test_dates = [d for d in dates if d >= folds.test_start]
    assert len(test_dates) == round(0.2 * len(dates))


def test_when_nothing_fits_the_message_names_dates_counts_and_settings() -> None:
    dates = _weekly(22)
    cfg = TrainConfig(min_conversions=10_000)
    with pytest.raises(FoldError) as caught:
        choose_folds(_snapshots(dates), dates, 90, cfg)
    message = str(caught.value)
    assert isinstance(caught.value, InsufficientDataError)
    assert str(dates[0].date()) in message and str(dates[-1].date()) in message
    assert "found" in message and "conversions" in message and "min_conversions" in message
    assert "\n" not in message


# ---------------------------------------------------------------- deterministic metrics, gate


def test_lift_with_tied_scores_does_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(1000) < 0.2).astype(int)
    constant = np.full(1000, 0.3)
    lifts = {
        lift_at(y[order], constant, 0.1) for order in (rng.permutation(1000) for _ in range(20))
    }
    assert len(lifts) == 1  # the same figure whatever the order of the rows ...
    assert np.allclose(next(iter(lifts)), (1.0, 0.1))  # ... and a constant model finds nothing
    p = np.round(rng.random(1000), 1)  # many ties
    values = {lift_at(y[o], p[o], 0.1)[0] for o in (rng.permutation(1000) for _ in range(20))}
    assert len(values) == 1


def test_the_gate_needs_a_strictly_positive_margin() -> None:
    champion = {"roc_auc": 0.9585, "brier": 0.05}
    assert not should_promote(dict(champion), champion, PromotionSettings())[0]
    with pytest.raises(ValueError, match="min_auc_gain"):
        PromotionSettings(min_auc_gain=0.0)


# ------------------------------------------------------- leaks through what is filled in


def test_a_field_filled_only_when_leads_close_is_flagged(small_crm: dict) -> None:
    leads = small_crm["leads"].copy()
    closed = leads["converted_at"].notna() | leads["lost_at"].notna()
    rng = np.random.default_rng(1)
    keep_open = rng.random(len(leads)) < 0.32
    leads["industry"] = leads["industry"].where(closed | keep_open, None)
    leads.loc[closed, "industry"] = leads.loc[closed, "industry"].fillna("software")
    report = fill_rate_report(leads)
    flagged = report[report["action"] == "drop"]
    assert list(flagged["column"].unique()) == ["industry"]
    row = flagged[flagged["outcome"] == "closed"].iloc[0]
    assert row["fill_outcome"] == 1.0 and row["fill_other"] < 0.4
    assert not (fill_rate_report(small_crm["leads"])["action"] == "drop").any()


def test_excluded_inputs_never_reach_the_model_or_the_baselines(tables) -> None:  # noqa: ANN001
    frame, _ = build_training_frame(tables, TrainConfig(), FeaturesConfig())
    X = model_input(frame[frame["fold"] == "train"])
    y = frame.loc[frame["fold"] == "train", "label"].to_numpy()
    excluded = model_input_columns(["industry", "email"], X.columns)
    assert excluded == ("industry", "email_present", "email_free_mail")
    cfg = TrainConfig(lightgbm=SMALL)
    pipeline, _, _ = fit_lightgbm(cfg, FeaturesConfig(), X, y, None, None, None, excluded)
    shuffled = X.assign(industry=np.random.default_rng(0).permutation(X["industry"].to_numpy()))
    assert np.allclose(pipeline.predict_proba(X), pipeline.predict_proba(shuffled))
    blanked = BlankColumns(excluded).fit(X).transform(X)
    assert blanked["industry"].isna().all() and blanked["email_present"].isna().all()
    with pytest.raises(ValueError, match="no input column 'nosuch'"):
        model_input_columns(["nosuch"], X.columns)


def test_a_dropped_feature_keeps_its_inputs_out_of_the_baselines(tables) -> None:  # noqa: ANN001
    frame, _ = build_training_frame(tables, TrainConfig(), FeaturesConfig())
    train = frame[frame["fold"] == "train"]
    X = model_input(train).assign(budget=train["label"].to_numpy() * 10_000.0)  # planted leak
    y = train["label"].to_numpy()
    pipeline, _, report = fit_lightgbm(
        TrainConfig(lightgbm=SMALL), FeaturesConfig(), X, y, None, None
    )
    dropped = tuple(report.loc[report["action"] == "drop", "feature"])
    assert dropped, report
    sources = feature_sources(pipeline.named_steps["features"], X)
    assert "budget" in inputs_of(dropped, sources)


# --------------------------------------------------------------- rules survive any drop


def test_rules_on_a_missing_feature_are_skipped_with_one_warning(caplog) -> None:  # noqa: ANN001
    features = pd.DataFrame(
        {
            "bant_budget": [6000.0, 0.0],
            "bant_budget_per_employee": [1.0, 1.0],
            "bant_budget_missing": [0.0, 0.0],
            "bant_authority_level": [5.0, 1.0],
            "bant_authority_decision_maker": [1.0, 0.0],
            "bant_timing_months": [1.0, 12.0],
            "bant_timing_days_past": [0.0, 0.0],
            "bant_timing_missing": [0.0, 0.0],
            "score": [60.0, 5.0],
            "grade": ["A", "D"],
            "bant_met": [3, 0],
        }
    )
    with caplog.at_level(logging.WARNING):
        checklist = bant_checklist(features, BantRules())
        decided = qualify(features, ScoringConfig().qualification, "nurture")
    assert checklist["need"].isna().all()  # its rule reads bant_need_present: skipped
    assert checklist.loc[0, "budget"] is True or checklist.loc[0, "budget"] == True  # noqa: E712
    assert list(decided) == ["sales_qualified", "nurture"]
    assert any("bant.need skipped" in r.message for r in caplog.records)
    with pytest.raises(Exception, match="scoring rule"):
        qualify(
            features,
            (ScoringConfig().qualification[0].model_copy(update={"when": "nosuch > 1"}),),
            "nurture",
        )


# ---------------------------------------------------------------------- a refit champion


def test_the_served_champion_is_refitted_through_the_last_labelled_date(tables, tracking) -> None:  # noqa: ANN001
    result = train_model(tables, TrainConfig(lightgbm=SMALL), FeaturesConfig(), tracking)
    folds = result.folds
    assert result.trained_through == folds.test_end > folds.train_end
    configure(tracking)
    from mlflow import MlflowClient

    champion = get_champion("lead-conversion")
    run = MlflowClient().get_run(champion.run_id)
    assert run.data.tags["refit"] == "true"
    assert run.data.tags["trained_through"] == str(folds.test_end.date())
    counts = result.fold_counts
    assert list(counts.index) == ["train", "calibration", "test"]
    assert counts["conversions"].min() > 0


def test_refit_sees_every_labelled_row_and_stays_calibrated(tables) -> None:  # noqa: ANN001
    frame, _ = build_training_frame(tables, TrainConfig(), FeaturesConfig())
    folds = Folds.of(frame)
    X, y = folds.X, folds.y
    cfg = TrainConfig(lightgbm=SMALL)
    evaluated, method, _ = fit_lightgbm(
        cfg, FeaturesConfig(), X["train"], y["train"], X["calibration"], y["calibration"]
    )
    refit = refit_on_all(
        evaluated,
        model_input(frame),
        frame["label"].to_numpy(),
        frame["snapshot_at"],
        frame["fold"] != "train",
        method,
    )
    assert refit.rows == len(frame) and refit.trained_through == frame["snapshot_at"].max()
    assert refit.calibration_rows == len(y["calibration"]) + len(y["test"])
    p = refit.pipeline.predict_proba(model_input(frame))[:, 1]
    assert abs(p.mean() - frame["label"].mean()) < 0.03
    assert not np.allclose(p, evaluated.predict_proba(model_input(frame))[:, 1])
