"""Training configuration (``configs/train.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines import Frozen


class SnapshotSettings(Frozen):
    cadence: Literal["weekly", "monthly"] = "weekly"
    warmup_days: int = Field(28, ge=0, description="first snapshot this long after the first lead")
    max_per_lead: int | None = Field(8, ge=1)
    max_per_lead_eval: int | None = Field(
        2,
        ge=1,
        description="cap per lead in the calibration and test folds (a lead open for weeks is not weeks of evidence)",
    )
    negative_rate: float | None = Field(
        None,
        gt=0,
        le=1,
        description="share of the non-converting training snapshots kept, each then weighing "
        "1/rate in LightGBM's fit (calibration and test folds are never sampled); null: all "
        "of them up to sample_above_rows training rows, above that a rate keeping about that many",
    )
    sample_above_rows: int = Field(
        1_000_000, ge=1, description="negative_rate null: the training rows kept at most"
    )

    per_lead_weight: bool = Field(
        False,
        description="each lead's training snapshots share one unit of weight, so leads open "
        "for months do not outweigh the others",
    )


class SplitSettings(Frozen):
    test_days: int = Field(91, gt=0, description="latest labelled period held out for testing")
    calibration_days: int = Field(56, ge=0, description="0 disables calibration")
    purge_days: int | None = Field(
        None, ge=0, description="gap between folds; default: the horizon"
    )


class LightGBMSettings(Frozen):
    """Sized by holdout quality (``python -m tests.bench.capacity``, README "Model size").

    On generated 20k-lead CRMs (seeds 7, 8, 9), 150 trees of depth 2 (4 leaves) beat depth 4
    / 15 leaves on holdout AUC (+0.003 to +0.011), lift@10% and Brier; more trees or leaves
    lost AUC, and depth 1 fell back to depth 4's AUC.
    """

    n_estimators: int = Field(150, gt=0)
    learning_rate: float = Field(0.1, gt=0)
    num_leaves: int = Field(4, gt=1)
    max_depth: int = Field(
        2, description="-1 for unbounded (leaves over 14 deep: reasons by pred_contrib)"
    )
    min_child_samples: int = Field(50, gt=0)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = 1
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    n_jobs: int = Field(1, description="LightGBM threads; 1 is fastest on a shared 2-core box")


class RulePointWeights(Frozen):
    """Points per signal, the way marketing-automation tools score leads (HubSpot, Marketo)."""

    activity_window_days: int = Field(
        30, gt=0, description="activities count when in this window (one of the engagement windows)"
    )
    activity_points: dict[str, float] = {
        "demo_request": 25.0,
        "meeting": 20.0,
        "pricing_page_view": 10.0,
        "email_reply": 10.0,
        "webinar_attended": 8.0,
        "form_submit": 5.0,
        "content_download": 5.0,
        "email_click": 2.0,
        "web_visit": 1.0,
    }
    max_points_per_activity: float | None = Field(
        50.0, gt=0, description="cap on the points one activity type adds (None: no cap)"
    )
    negative_points: dict[str, float] = {"unsubscribe": -30.0, "email_bounce": -15.0}
    seniority_points: dict[str, float] = {
        "c_level": 20.0,
        "vp": 15.0,
        "director": 10.0,
        "head": 8.0,
        "manager": 5.0,
        "student_intern": -10.0,
    }
    decision_maker_points: float = 10.0
    budget_stated_points: float = 10.0
    timeframe_points: float = 10.0
    timeframe_max_months: float = Field(3.0, gt=0)
    free_mail_points: float = -10.0


class BaselineSettings(Frozen):
    """The baselines LightGBM is compared with on the same holdout (``models.baselines``)."""

    rule_points: RulePointWeights = RulePointWeights()
    naive_bayes_alpha: float = Field(1.0, gt=0, description="Laplace smoothing of value counts")
    logistic_c: float = Field(1.0, gt=0, description="inverse L2 strength of the logistic baseline")
    logistic_max_iter: int = Field(2000, gt=0)
    fit_rows: int = Field(200_000, ge=1, description="fitted on a sample of at most this many")


class LeakageSettings(Frozen):
    """Features predicting the label this well on their own are dropped (or flagged)."""

    drop_auc: float = Field(0.95, gt=0.5, le=1.0)
    drop_correlation: float = Field(0.95, gt=0, le=1.0)
    warn_auc: float = Field(0.80, gt=0.5, le=1.0, description="listed as 'check' in the report")
    sample_rows: int = Field(500_000, ge=1, description="the report reads at most this many rows")
    fill_outcome_min: float = Field(
        0.9,
        gt=0,
        le=1.0,
        description="fill-rate check: filled for this share of leads with the outcome ...",
    )
    fill_gap: float = Field(
        0.3, gt=0, le=1.0, description="... and this much more often than for the others: dropped"
    )
    fill_warn_gap: float = Field(
        0.15, gt=0, le=1.0, description="a smaller gap is listed as 'check'"
    )


class PromotionSettings(Frozen):
    """The gate: a challenger becomes @champion only when it beats it on the same holdout."""

    min_auc_gain: float = Field(
        0.001, gt=0, description="AUC margin over the champion (strictly positive: a tie keeps it)"
    )
    max_brier_increase: float = Field(0.0, ge=0, description="tolerated Brier increase")


class SegmentSettings(Frozen):
    """Per-segment models (``train --segment-by COLUMN``, :mod:`models.segments`)."""

    extra_trees: int = Field(
        60, gt=0, description="trees the global model grows further on a segment's rows"
    )
    min_auc_gain: float = Field(
        0.005, ge=0, description="a segment model must beat the global one by this AUC ..."
    )
    confidence: float = Field(
        0.9, ge=0.5, lt=1, description="... and be better in this share of paired bootstraps"
    )
    bootstrap: int = Field(200, ge=20, description="paired bootstrap resamples of the holdout")


class TuningSettings(Frozen):
    """Hyperparameter search on the training fold (:mod:`models.tuning`); off by default."""

    trials: int = Field(0, ge=0, description="candidate settings tried (0 or 1: no search)")
    inner_folds: int = Field(2, ge=1, description="time-ordered inner folds per candidate")


class TrainConfig(Frozen):
    model_name: str = "lead-conversion"
    seed: int = 0
    snapshots: SnapshotSettings = SnapshotSettings()
    split: SplitSettings = SplitSettings()
    lightgbm: LightGBMSettings = LightGBMSettings()
    # Sigmoid (Platt) is strictly increasing: it keeps the model's ranking. Isotonic's steps
    # can flatten the best leads into ties at probability 1.0 (seen on generated data).
    calibration: Literal["isotonic", "sigmoid", "auto"] = "sigmoid"
    baselines: BaselineSettings = BaselineSettings()
    monotone_engagement: bool = Field(False, description="more engagement never lowers the score")
    leakage: LeakageSettings = LeakageSettings()
    promotion: PromotionSettings = PromotionSettings()
    segments: SegmentSettings = SegmentSettings()
    tuning: TuningSettings = TuningSettings()
    exclude: tuple[str, ...] = Field(
        (), description="input columns never used (blanked at fit and predict); also --exclude"
    )
    min_leads: int = Field(200, ge=1)
    min_conversions: int = Field(30, ge=1)
    families: tuple[str, ...] = (
        "authority",
        "need",
        "budget",
        "timing",
        "fit",
        "engagement",
        "stage",
        "attributes",
    )
