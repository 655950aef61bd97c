"""Feature families behave as sklearn transformers and survive what production throws at them."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks as checks

from models.config import TrainConfig
from models.estimator import DropFeatures, RequireColumns, build_features
from pipelines.config import FeaturesConfig
from pipelines.features.families import FAMILIES
from pipelines.features.frame import build_feature_frame, model_input
from pipelines.features.snapshots import build_snapshots

# sklearn's generic checks feed numpy arrays; these families read named CRM columns, so only
# the checks about parameters, cloning and construction apply to them.
APPLICABLE = (
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
)
ESTIMATORS = [cls() for cls in FAMILIES.values()] + [RequireColumns(), DropFeatures()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", APPLICABLE, ids=lambda c: c.__name__)
def test_sklearn_checks_that_apply(estimator: object, check: object) -> None:
    check(type(estimator).__name__, estimator)  # type: ignore[operator]


@pytest.fixture(scope="module")
def model_frame(small_crm: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    dates = [pd.Timestamp("2026-03-02", tz="UTC"), pd.Timestamp("2026-05-04", tz="UTC")]
    snapshots = build_snapshots(small_crm["leads"], dates, 90)
    frame = build_feature_frame(
        small_crm["leads"], small_crm["activities"], small_crm["stage_history"], snapshots
    )
    return model_input(frame), frame["label"].to_numpy()


def test_families_fit_transform_names_and_pickle(
    model_frame: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = model_frame
    union = build_features(TrainConfig(), FeaturesConfig())
    Xt = union.fit_transform(X, y)
    assert list(Xt.columns) == list(union.get_feature_names_out())
    prefixes = (
        "bant_authority_",
        "bant_need_",
        "bant_budget",
        "bant_timing_",
        "fit_",
        "eng_",
        "stage_",
    )
    assert all(c.startswith(prefixes) for c in Xt.columns)
    again = pickle.loads(pickle.dumps(union)).transform(X)
    pd.testing.assert_frame_equal(again, union.transform(X))
    refit = clone(union).fit(X, y).transform(X)
    pd.testing.assert_frame_equal(refit, union.transform(X))


def test_unseen_levels_and_all_missing_columns_do_not_crash(
    model_frame: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = model_frame
    union = build_features(TrainConfig(), FeaturesConfig()).fit(X, y)
    odd = X.head(50).copy()
    odd["industry"] = "asteroid_mining"
    odd["country"] = "ZZ"
    odd["source"] = "carrier_pigeon"
    odd["stage_current"] = "on_hold"
    odd["purchase_timeframe"] = None
    for column in ("budget", "employees", "annual_revenue", "is_decision_maker"):
        odd[column] = np.nan
    odd["job_title"] = None
    odd["need"] = None
    Xt = union.transform(odd)
    assert len(Xt) == 50
    for column in ("fit_industry", "fit_country", "fit_source", "stage_current"):
        assert Xt[column].isna().all(), column
    assert (Xt["bant_authority_seniority"] == "unknown").all()
    assert Xt["bant_budget"].isna().all() and (Xt["bant_budget_missing"] == 1).all()


def test_missing_input_column_is_an_error_not_a_fill(
    model_frame: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, _ = model_frame
    guard = RequireColumns().fit(X)
    with pytest.raises(ValueError, match="missing column\\(s\\) budget"):
        guard.transform(X.drop(columns=["budget"]))


def test_the_attributes_family_adds_nothing_without_attributes(
    model_frame: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = model_frame
    family = FAMILIES["attributes"]().fit(X, y)
    assert family.transform(X).shape == (len(X), 0)
    assert list(family.get_feature_names_out()) == []


def test_attribute_columns_become_floats_and_categories_of_their_own_family() -> None:
    n = 60
    X = pd.DataFrame(
        {
            "attr_product": (["Team", "Business"] * (n // 2))[:-1] + ["Rare"],
            "attr_seats": np.arange(n, dtype="float64"),
            "attr_notes_words": np.where(np.arange(n) % 3, 4.0, np.nan),
        }
    )
    X = model_input(X.assign(lead_id="x", snapshot_at=pd.Timestamp("2026-01-01", tz="UTC")))
    assert X["attr_product"].dtype == object  # text stays text for the signature
    family = FAMILIES["attributes"](min_count=20).fit(X)
    out = family.transform(X)
    assert list(out.columns) == ["attr_seats", "attr_notes_words", "attr_product"]
    assert list(out["attr_product"].cat.categories) == ["Business", "Team"]  # "Rare": < 20
    assert out["attr_product"].isna().sum() == 1
    pd.testing.assert_series_equal(out["attr_seats"], X["attr_seats"])
    # A batch where no lead has an attribute: the column is added, missing, not an error.
    guard = RequireColumns().fit(X)
    batch = guard.transform(X.drop(columns=["attr_seats"]).head(5))
    assert family.transform(batch)["attr_seats"].isna().all()
    with pytest.raises(ValueError, match="missing column\\(s\\) lead_age_days"):
        RequireColumns().fit(X.assign(lead_age_days=1.0)).transform(X)
