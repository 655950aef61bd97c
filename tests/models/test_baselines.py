"""Baselines: rule points, naive Bayes on field values, logistic regression."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from models.baselines import build_baselines, rule_points_breakdown
from models.config import BaselineSettings, RulePointWeights, TrainConfig
from models.estimator import fit_calibrated
from pipelines.config import ConfigError, FeaturesConfig, load_config
from pipelines.features.frame import TEXT_COLUMNS, build_feature_frame, model_input
from pipelines.features.snapshots import build_snapshots, snapshot_dates
from tests.paths import CONFIGS

NAMES = ("rule_points", "naive_bayes", "logistic")
CUT = pd.Timestamp("2026-03-01", tz="UTC")
ACTIVITY_KINDS = tuple(RulePointWeights().activity_points)


@pytest.fixture(scope="module")
def snapshot_frame(small_crm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Monthly snapshots of the small CRM, at most two per lead (~4k rows, 12% positive)."""
    leads = small_crm["leads"]
    dates = snapshot_dates(
        pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-08-01", tz="UTC"), "monthly"
    )
    snapshots = build_snapshots(leads, dates, 90, max_per_lead=2)
    return build_feature_frame(
        leads, small_crm["activities"], small_crm["stage_history"], snapshots, threads=1
    )


@pytest.fixture(scope="module")
def folds(snapshot_frame: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    train = snapshot_frame[snapshot_frame["snapshot_at"] < CUT]
    test = snapshot_frame[snapshot_frame["snapshot_at"] >= CUT]
    return {
        "train": (model_input(train), train["label"].to_numpy()),
        "test": (model_input(test), test["label"].to_numpy()),
    }


@pytest.fixture(scope="module")
def fitted(folds: dict) -> dict:
    X, y = folds["train"]
    return {name: pipe.fit(X, y) for name, pipe in _baselines().items()}


def _baselines() -> dict:
    return build_baselines(BaselineSettings(), FeaturesConfig())


def test_build_baselines_returns_unfitted_pipelines_with_features_and_model_steps() -> None:
    baselines = _baselines()
    assert tuple(baselines) == NAMES
    for pipe in baselines.values():
        assert [name for name, _ in pipe.steps] == ["features", "model"]
        assert hasattr(pipe, "predict_proba")
        assert not hasattr(pipe.named_steps["model"], "classes_")
        clone(pipe)  # sklearn-compatible parameters


@pytest.mark.parametrize("name", NAMES)
def test_probabilities_are_in_unit_interval(fitted: dict, folds: dict, name: str) -> None:
    X, _ = folds["test"]
    proba = fitted[name].predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_baseline_beats_random_on_the_later_period(fitted: dict, folds: dict, name: str) -> None:
    X, y = folds["test"]
    # Measured on this fixture: rule points 0.755, naive Bayes 0.734, logistic 0.804.
    assert roc_auc_score(y, fitted[name].predict_proba(X)[:, 1]) > 0.65


def _separable(X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Converted leads get every signal the three baselines read; the others get none."""
    X = X.copy()
    won = y == 1
    for column in ("eng_demo_request_30d", "eng_meeting_30d", "eng_pricing_page_view_30d"):
        X[column] = np.where(won, 2.0, 0.0)
    X["job_title"] = np.where(won, "CEO", "Intern").astype(object)
    X["source"] = np.where(won, "referral", "social").astype(object)
    X["stage_current"] = np.where(won, "proposal", "new").astype(object)
    X["purchase_timeframe"] = np.where(won, "0-1m", "12m+").astype(object)
    return X


@pytest.mark.parametrize("name", NAMES)
def test_baseline_separates_a_clearly_separable_sample(folds: dict, name: str) -> None:
    X_train, y_train = folds["train"]
    X_test, y_test = folds["test"]
    pipe = _baselines()[name].fit(_separable(X_train, y_train), y_train)
    p = pipe.predict_proba(_separable(X_test, y_test))[:, 1]
    assert roc_auc_score(y_test, p) > 0.95


@pytest.mark.parametrize("name", NAMES)
def test_unseen_categories_do_not_crash(fitted: dict, folds: dict, name: str) -> None:
    X, _ = folds["test"]
    X = X.head(50).copy()
    for column in (*TEXT_COLUMNS, "stage_current"):
        X[column] = f"never-seen-{column}"
    proba = fitted[name].predict_proba(X)[:, 1]
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))


@pytest.mark.parametrize("name", NAMES)
def test_all_missing_columns_do_not_crash(fitted: dict, folds: dict, name: str) -> None:
    X, _ = folds["test"]
    X = X.head(50).copy()
    for column in X.columns:
        X[column] = None if X[column].dtype == object else np.nan
    proba = fitted[name].predict_proba(X)[:, 1]
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))


def test_naive_bayes_reads_an_unseen_value_as_missing(fitted: dict, folds: dict) -> None:
    X, _ = folds["test"]
    unseen, missing = X.head(50).copy(), X.head(50).copy()
    unseen["source"], missing["source"] = "carrier_pigeon", None
    model = fitted["naive_bayes"]
    np.testing.assert_allclose(model.predict_proba(unseen), model.predict_proba(missing))


def _family_rows(**columns: list) -> pd.DataFrame:
    """A hand-built family frame with the columns the rules read; missing by default."""
    n = len(next(iter(columns.values())))
    base: dict[str, list] = {f"eng_{k}_30d": [np.nan] * n for k in ACTIVITY_KINDS}
    for kind in ("unsubscribe", "email_bounce"):
        base[f"eng_{kind}_count"] = [np.nan] * n
    for name in (
        "bant_authority_decision_maker",
        "bant_budget_missing",
        "bant_timing_months",
        "fit_free_mail",
    ):
        base[name] = [np.nan] * n
    base["bant_authority_seniority"] = [None] * n
    base.update(columns)
    frame = pd.DataFrame(base)
    frame["bant_authority_seniority"] = frame["bant_authority_seniority"].astype("category")
    return frame


def test_rule_points_add_up_by_hand() -> None:
    rows = _family_rows(
        eng_demo_request_30d=[1.0, np.nan, 5.0, 0.0],
        eng_web_visit_30d=[3.0, np.nan, 0.0, 0.0],
        eng_unsubscribe_count=[2.0, np.nan, 0.0, 0.0],
        bant_authority_seniority=["c_level", None, "student_intern", "individual"],
        bant_authority_decision_maker=[1.0, np.nan, 0.0, 0.0],
        bant_budget_missing=[0.0, np.nan, 1.0, 1.0],
        bant_timing_months=[1.0, np.nan, 6.0, 3.0],
        fit_free_mail=[1.0, np.nan, 0.0, 1.0],
    )
    points = rule_points_breakdown(rows, RulePointWeights())
    # demo 25 + 3 visits + unsubscribed -30 + c_level 20 + dm 10 + budget 10 + 1 month 10
    # + free mail -10; nothing known earns nothing; 5 demo requests hit the 50-point cap.
    np.testing.assert_allclose(points["total"], [38.0, 0.0, 40.0, 0.0])
    assert points.loc[2, "demo_request"] == 50.0
    assert points.loc[3, "timeframe"] == 10.0  # "1-3m" is within three months


def test_adding_a_demo_request_raises_the_points_and_the_probability(
    fitted: dict, folds: dict
) -> None:
    X, _ = folds["test"]
    more = X.copy()
    for suffix in ("count", "7d", "30d", "90d"):
        more[f"eng_demo_request_{suffix}"] += 1.0
        more[f"eng_total_{suffix}"] += 1.0
    pipe = fitted["rule_points"]
    before = pipe.named_steps["features"].transform(X)["rule_points"].to_numpy()
    after = pipe.named_steps["features"].transform(more)["rule_points"].to_numpy()
    uncapped = X["eng_demo_request_30d"].to_numpy() < 2  # 2 × 25 points is the cap
    np.testing.assert_allclose(after[uncapped] - before[uncapped], 25.0)
    np.testing.assert_allclose(after[~uncapped], before[~uncapped])
    assert pipe.named_steps["model"].coef_[0, 0] > 0
    p_before, p_after = pipe.predict_proba(X)[:, 1], pipe.predict_proba(more)[:, 1]
    assert np.all(p_after[uncapped] > p_before[uncapped])


def test_rules_must_read_existing_engagement_columns() -> None:
    with pytest.raises(ValueError, match="activity_window_days=14"):
        build_baselines(
            BaselineSettings(rule_points=RulePointWeights(activity_window_days=14)),
            FeaturesConfig(),
        )
    weights = RulePointWeights(activity_points={"carrier_pigeon": 5.0})
    with pytest.raises(ValueError, match="carrier_pigeon"):
        build_baselines(BaselineSettings(rule_points=weights), FeaturesConfig())


def test_logistic_baseline_uses_the_families_it_is_given(folds: dict) -> None:
    X, y = folds["train"]
    pipe = build_baselines(BaselineSettings(), FeaturesConfig(), families=("engagement",))
    names = pipe["logistic"].fit(X, y).named_steps["features"].get_feature_names_out()
    assert all("eng_" in name for name in names)


def test_baselines_can_be_calibrated_like_lightgbm(folds: dict) -> None:
    X, y = folds["train"]
    half = len(X) // 2
    pipe, method = fit_calibrated(
        _baselines()["naive_bayes"], X.iloc[:half], y[:half], X.iloc[half:], y[half:], "sigmoid"
    )
    assert method == "sigmoid"
    proba = pipe.predict_proba(folds["test"][0])[:, 1]
    assert np.all((proba > 0) & (proba < 1))


def test_shipped_yaml_spells_out_the_defaults() -> None:
    assert load_config(TrainConfig, "train", CONFIGS) == TrainConfig()
    assert TrainConfig().baselines == BaselineSettings()


def test_a_typo_in_the_baselines_section_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text("baselines:\n  rule_points:\n    demo_points: 5\n")
    with pytest.raises(ConfigError, match="baselines.rule_points.demo_points"):
        load_config(TrainConfig, "train", tmp_path)
