"""Exact contributions from compiled tables equal LightGBM's ``pred_contrib``, row by row."""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.contributions import (
    compile_contributions,
    compiled_tables,
    feature_matrix,
    tree_contributions,
)
from models.tree_dump import read_forest

TOLERANCE = 1e-6


def assert_equal_to_pred_contrib(booster: lgb.Booster, X: pd.DataFrame | np.ndarray) -> None:
    expected = np.asarray(booster.predict(X, pred_contrib=True))
    got = tree_contributions(booster, X, method="exact")
    assert got.shape == expected.shape
    worst = np.abs(got - expected).max()
    assert worst <= TOLERANCE, f"max |exact - pred_contrib| = {worst:.3g}"


def mixed_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Numeric columns with NaNs and exact zeros, one categorical column (codes 0..7)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[rng.random((n, 6)) < 0.15] = np.nan
    X[rng.random(n) < 0.3, 1] = 0.0
    X[:, 5] = rng.integers(0, 8, n).astype("float64")
    X[rng.random(n) < 0.05, 5] = np.nan
    signal = np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) + np.isin(X[:, 5], [1, 4, 6])
    y = (signal + rng.normal(scale=0.7, size=n) > 0.4).astype(int)
    return X, y


def train(X: np.ndarray, y: np.ndarray, rounds: int = 20, **params: object) -> lgb.Booster:
    base = {
        "objective": "binary",
        "verbose": -1,
        "num_threads": 1,
        "min_data_in_leaf": 5,
        "min_data_per_group": 5,
        "cat_smooth": 1.0,
        "max_cat_to_onehot": 2,
        "seed": 0,
    }
    dataset = lgb.Dataset(X, y, categorical_feature=[5], params={"verbose": -1})
    return lgb.train({**base, **params}, dataset, rounds)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_equal_to_pred_contrib_at_every_depth(depth: int, zero_as_missing: bool) -> None:
    X, y = mixed_data(1500, seed=depth)
    booster = train(X, y, max_depth=depth, num_leaves=2**depth, zero_as_missing=zero_as_missing)
    dump = booster.dump_model()["tree_info"]
    text = str(dump)
    assert "'decision_type': '=='" in text, "the model should split on the categorical column"
    missing = "'missing_type': 'Zero'" if zero_as_missing else "'missing_type': 'NaN'"
    assert missing in text, f"the model should have {missing} splits"
    assert_equal_to_pred_contrib(booster, X)
    # rows never seen: other NaN/zero patterns, negative and unseen category codes
    fresh, _ = mixed_data(500, seed=100 + depth)
    fresh[:50, 5] = np.array([-1.0, 9.0, 2.7, 1e6, -0.5] * 10)
    assert_equal_to_pred_contrib(booster, fresh)


def test_rows_exactly_at_the_thresholds_go_the_way_lightgbm_sends_them() -> None:
    X, y = mixed_data(1500, seed=3)
    booster = train(X, y, max_depth=4, num_leaves=15)
    forest = read_forest(booster)
    numeric = [i for i, c in enumerate(forest.categories) if c is None]
    rows = np.tile(X[:1], (len(numeric), 1))
    for row, node in enumerate(numeric):
        rows[row, forest.feature[node]] = forest.threshold[node]
    assert_equal_to_pred_contrib(booster, rows)
    assert_equal_to_pred_contrib(booster, np.nextafter(rows, np.inf))


def test_a_feature_split_on_repeatedly_along_one_path() -> None:
    """The issue's case: one regression tree on one feature (woodelf was 0.2 off here)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 1))
    y = np.sin(6 * x[:, 0]) + rng.normal(scale=0.1, size=400)
    booster = lgb.train(
        {"objective": "regression", "verbose": -1, "num_leaves": 8, "min_data_in_leaf": 5},
        lgb.Dataset(x, y),
        1,
    )
    path_features = [len(leaf.path) for leaf in read_forest(booster).trees[0].leaves]
    assert max(path_features) >= 3, "some leaf should split the one feature three times"
    assert_equal_to_pred_contrib(booster, x)


def test_multiclass_blocks_per_class() -> None:
    X, _ = mixed_data(1200, seed=5)
    y = np.digitize(np.nan_to_num(X[:, 0]) + X[:, 5] / 4, [0.0, 1.0])
    booster = train(X, y, rounds=8, objective="multiclass", num_class=3, max_depth=3)
    assert_equal_to_pred_contrib(booster, X)


def test_pandas_categories_are_coded_as_lightgbm_codes_them() -> None:
    rng = np.random.default_rng(2)
    n = 1500
    frame = pd.DataFrame(
        {
            "size": rng.lognormal(3, 1, n),
            "industry": pd.Categorical(rng.choice(["saas", "retail", "bank", "gov"], n)),
            "seniority": pd.Categorical(rng.choice(["vp", "cxo", "ic", None], n)),
        }
    )
    y = ((frame["industry"] == "bank") | (frame["seniority"] == "cxo")).to_numpy().astype(int)
    model = lgb.LGBMClassifier(n_estimators=15, max_depth=3, min_child_samples=5, verbose=-1)
    model.fit(frame, y)
    later = frame.head(300).copy()
    later["industry"] = pd.Categorical(
        rng.choice(["saas", "bank", "unseen"], 300), categories=["unseen", "bank", "saas"]
    )
    assert_equal_to_pred_contrib(model.booster_, frame)
    assert_equal_to_pred_contrib(model.booster_, later)
    np.testing.assert_array_equal(
        np.isnan(feature_matrix(model.booster_, later)[:, 1]), later["industry"] == "unseen"
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(1, 6),
    leaves=st.integers(2, 40),
    rounds=st.integers(1, 12),
    zero_as_missing=st.booleans(),
    use_missing=st.booleans(),
)
def test_random_models_match_pred_contrib(
    seed: int, depth: int, leaves: int, rounds: int, zero_as_missing: bool, use_missing: bool
) -> None:
    X, y = mixed_data(400, seed)
    booster = train(
        X,
        y,
        rounds=rounds,
        max_depth=depth,
        num_leaves=leaves,
        zero_as_missing=zero_as_missing,
        use_missing=use_missing,
        seed=seed,
    )
    assert_equal_to_pred_contrib(booster, X[:200])


def test_tables_compile_once_per_booster_and_report_their_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    X, y = mixed_data(600, seed=8)
    booster = train(X, y, max_depth=3)
    with caplog.at_level(logging.INFO, logger="models.contributions"):
        first = compiled_tables(booster)
    assert first is not None and first.compile_seconds > 0
    assert "compiled exact SHAP tables for 20 trees in" in caplog.text
    assert compiled_tables(booster) is first
    assert compiled_tables(train(X, y, max_depth=3)) is not first


def test_too_deep_models_fall_back_to_pred_contrib(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.shap_tables

    monkeypatch.setattr(models.shap_tables, "MAX_PATH_BITS", 3)  # as if depth 5 were too deep
    X, y = mixed_data(800, seed=6)
    booster = train(X, y, rounds=3, max_depth=5, num_leaves=24)
    with caplog.at_level(logging.WARNING, logger="models.contributions"):
        assert_equal_to_pred_contrib(booster, X)
    assert compiled_tables(booster) is None
    assert "exact tables stop at 3" in caplog.text and "using pred_contrib" in caplog.text
    with pytest.raises(ValueError, match="unknown contributions method 'shap'"):
        tree_contributions(booster, X, method="shap")


def test_wrong_width_is_a_one_line_error() -> None:
    X, y = mixed_data(300, seed=1)
    booster = train(X, y, rounds=2, max_depth=2)
    with pytest.raises(ValueError, match="X has 5 features, the model was trained with 6"):
        tree_contributions(booster, X[:, :5])


def test_the_pipeline_model_on_a_generated_crm(
    trained: dict[str, str], small_crm: dict[str, pd.DataFrame]
) -> None:
    import mlflow

    from models import booster_of, configure, scoring_frames
    from pipelines.features import build_feature_frame, model_input, snapshots_at

    configure(trained["tracking"])  # tracking and registry (a global set by earlier tests)
    pipeline = mlflow.sklearn.load_model("models:/lead-conversion@champion")
    as_of = pd.Timestamp("2026-11-01", tz="UTC")
    leads = small_crm["leads"]
    X = model_input(
        build_feature_frame(
            leads,
            small_crm["activities"],
            small_crm["stage_history"],
            snapshots_at(leads["lead_id"], as_of),
        )
    )
    _, Xt = scoring_frames(pipeline, X)
    booster = booster_of(pipeline).booster_
    assert any(isinstance(t, pd.CategoricalDtype) for t in Xt.dtypes)
    assert_equal_to_pred_contrib(booster, Xt)
    raw = booster.predict(Xt, raw_score=True)
    np.testing.assert_allclose(tree_contributions(booster, Xt).sum(axis=1), raw, atol=1e-9)
    assert compile_contributions(booster).compile_seconds < 30
