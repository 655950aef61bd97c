"""Training a data scientist can trust: the gate, forced promotion, minimum data, leakage, monotonicity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import (
    InsufficientDataError,
    TrainConfig,
    champion_history,
    configure,
    get_champion,
    train_model,
)
from models.config import LightGBMSettings, PromotionSettings
from models.leakage import leakage_report
from models.publishing import should_promote
from models.training import build_training_frame, fit_lightgbm
from pipelines.config import FeaturesConfig
from pipelines.features.frame import model_input
from pipelines.inputs import validate_inputs

SMALL = LightGBMSettings(n_estimators=60)


@pytest.fixture(scope="module")
def tables(small_crm: dict[str, pd.DataFrame]):  # noqa: ANN201
    return validate_inputs(dict(small_crm))


@pytest.fixture(scope="module")
def frame(tables) -> pd.DataFrame:  # noqa: ANN001
    built, _ = build_training_frame(tables, TrainConfig(), FeaturesConfig())
    return built


def test_gate_promotes_better_keeps_worse_and_records_forced(tables, tmp_path: Path) -> None:  # noqa: ANN001
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    weak = TrainConfig(lightgbm=SMALL, families=("fit",))
    full = TrainConfig(lightgbm=SMALL)
    first = train_model(tables, weak, FeaturesConfig(), tracking)
    assert first.promoted and first.reason.startswith("first model")
    better = train_model(tables, full, FeaturesConfig(), tracking)
    assert better.metrics["roc_auc"] > first.metrics["roc_auc"]
    assert better.promoted, better.reason
    worse = train_model(tables, weak, FeaturesConfig(), tracking)
    assert not worse.promoted and worse.reason.startswith("gate failed")
    configure(tracking)
    assert get_champion("lead-conversion").version == better.version
    # The champion was re-scored on the challenger's holdout: same rows, its metrics beside.
    assert "champion" in set(worse.evaluation["model"])

    from models import set_champion

    set_champion("lead-conversion", worse.version, "forced: rollback drill")
    assert get_champion("lead-conversion").version == worse.version
    history = champion_history("lead-conversion")
    assert [h["version"] for h in history] == [first.version, better.version, worse.version]
    assert history[-1]["reason"] == "forced: rollback drill"


def test_gate_margins() -> None:
    champion = {"roc_auc": 0.80, "brier": 0.10}
    gate = PromotionSettings(min_auc_gain=0.01)
    assert not should_promote({"roc_auc": 0.805, "brier": 0.09}, champion, gate)[0]
    assert should_promote({"roc_auc": 0.82, "brier": 0.10}, champion, gate)[0]
    assert not should_promote({"roc_auc": 0.90, "brier": 0.11}, champion, gate)[0]
    assert should_promote(
        {"roc_auc": 0.90, "brier": 0.11}, champion, PromotionSettings(max_brier_increase=0.02)
    )[0]
    assert should_promote({"roc_auc": 0.5, "brier": 0.5}, None, gate)[0]


def test_below_minimum_data_stops_with_counts(tables, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = TrainConfig(min_conversions=1_000_000)
    with pytest.raises(
        InsufficientDataError, match=r"found \d+ leads and \d+ conversions.*need at least"
    ):
        train_model(tables, cfg, FeaturesConfig(), f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert not (tmp_path / "mlflow.db").exists()  # nothing was logged


def test_leakage_report_flags_and_drops() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    X = pd.DataFrame(
        {
            "leak": y + rng.normal(0, 0.01, 2000),
            "strong": y + rng.normal(0, 0.9, 2000),
            "noise": rng.normal(size=2000),
            "leaky_category": pd.Categorical(np.where(y == 1, "won", "open")),
        }
    )
    report = leakage_report(X, y, drop_auc=0.95, drop_corr=0.95, warn_auc=0.75).set_index("feature")
    assert (
        report.loc["leak", "action"] == "drop" and report.loc["leaky_category", "action"] == "drop"
    )
    assert report.loc["strong", "action"] == "check" and 0.75 <= report.loc["strong", "auc"] < 0.95
    assert "noise" not in report.index


def test_planted_leak_is_dropped_before_fitting(frame: pd.DataFrame) -> None:
    train = frame[frame["fold"] == "train"]
    X, y = model_input(train), train["label"].to_numpy()
    X["budget"] = np.where(y == 1, 1e6, 10.0)  # a budget filled in after the deal was won
    pipeline, _, report = fit_lightgbm(
        TrainConfig(lightgbm=SMALL), FeaturesConfig(), X, y, None, None
    )
    dropped = set(report.loc[report["action"] == "drop", "feature"])
    assert "bant_budget" in dropped
    used = set(pipeline[-1].booster_.feature_name())
    assert not dropped & used


def test_more_engagement_never_lowers_the_score(frame: pd.DataFrame) -> None:
    train = frame[frame["fold"] == "train"]
    X, y = model_input(train), train["label"].to_numpy()
    cfg = TrainConfig(lightgbm=SMALL, monotone_engagement=True)
    pipeline, _, _ = fit_lightgbm(cfg, FeaturesConfig(), X, y, None, None)
    sample = X.sample(300, random_state=1)
    base = pipeline.predict_proba(sample)[:, 1]
    for column in (
        "eng_pricing_page_view_7d",
        "eng_demo_request_30d",
        "eng_meeting_count",
        "eng_total_decay_7d",
    ):
        for bump in (1.0, 5.0):
            more = sample.assign(**{column: sample[column] + bump})
            assert (pipeline.predict_proba(more)[:, 1] >= base - 1e-12).all(), column
    later = sample.assign(eng_days_since_last=sample["eng_days_since_last"] + 30)
    assert (pipeline.predict_proba(later)[:, 1] <= base + 1e-12).all()


def test_sampled_negatives_keep_positives_and_weigh_the_rest(tables, frame) -> None:  # noqa: ANN001
    rate = 0.25
    cfg = TrainConfig(snapshots=TrainConfig().snapshots.model_copy(update={"negative_rate": rate}))
    sampled, _ = build_training_frame(tables, cfg, FeaturesConfig())
    for fold in ("calibration", "test"):  # never sampled
        pd.testing.assert_frame_equal(
            sampled[sampled["fold"] == fold].drop(columns="sample_weight").reset_index(drop=True),
            frame[frame["fold"] == fold].reset_index(drop=True),
        )
        assert sampled.loc[sampled["fold"] == fold, "sample_weight"].isna().all()
    full, kept = frame[frame["fold"] == "train"], sampled[sampled["fold"] == "train"]
    assert (kept["label"] == 1).sum() == (full["label"] == 1).sum()
    share = (kept["label"] == 0).sum() / (full["label"] == 0).sum()
    assert abs(share - rate) < 0.03, share
    weights = kept.groupby("label")["sample_weight"].unique()
    assert weights[0].tolist() == [1 / rate] and weights[1].tolist() == [1.0]
    # Weighted, the sample stands for the whole history's negatives.
    assert abs(kept["sample_weight"].sum() / len(full) - 1) < 0.1
    again, _ = build_training_frame(tables, cfg, FeaturesConfig())
    pd.testing.assert_frame_equal(again, sampled)


def test_a_model_trained_on_sampled_negatives_stays_calibrated(tables, tmp_path: Path) -> None:  # noqa: ANN001
    snapshots = TrainConfig().snapshots.model_copy(update={"negative_rate": 0.2})
    cfg = TrainConfig(lightgbm=SMALL, snapshots=snapshots)
    result = train_model(tables, cfg, FeaturesConfig(), f"sqlite:///{tmp_path / 'mlflow.db'}")
    # Measured on this CRM (latent-state generator): AUC 0.845 unsampled, 0.842 sampled; the
    # oracle reaches 0.944 on the same test fold. 0.80 is ~3 standard errors below.
    assert result.metrics["roc_auc"] > 0.80
    # The calibration fold is never sampled: probabilities stay honest.
    assert result.metrics["ece"] < 0.03


def test_per_lead_weight_gives_each_lead_one_share() -> None:
    from models.sampling import weigh_per_lead

    rows = pd.DataFrame({"lead_id": ["a", "a", "a", "a", "b", "c"], "label": [0, 0, 0, 1, 0, 0]})
    weighted = weigh_per_lead(rows.assign(sample_weight=[1.0, 1.0, 1.0, 1.0, 1.0, 5.0]))
    per_lead = weighted.groupby("lead_id")["sample_weight"].sum()
    assert per_lead["a"] == pytest.approx(per_lead["b"])  # four snapshots weigh as one
    assert per_lead["c"] == pytest.approx(5 * per_lead["b"])  # a sampling weight is kept
    assert weighted["sample_weight"].mean() == pytest.approx(1.0)
    assert "sample_weight" not in rows  # the input is not changed
