"""Flat-mode training: one table with a label, split at random or by time, the same checks.

There is no event history here, so nothing point-in-time keeps a field filled in after the
outcome out of the features. Two checks stand guard: the fill-rate check (a column filled
for nearly every positive row and far less often for the others is left out) and the
leakage report (single-column AUC on the training rows). With ``--time-column`` or
``--ordered`` the folds follow time (:mod:`models.flat.split`) and the holdout shows the
shift between periods.

LightGBM and the baselines (logistic regression, naive Bayes) are all fitted and
calibrated on the same folds; the one with the best holdout AUC becomes the registered
candidate — a logistic model may well beat LightGBM across time. Evaluation, logging,
registration and the promotion gate are those of :mod:`models.publishing`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.config import TrainConfig
from models.estimator import drop_leaking_features, fit_calibrated
from models.exclusions import BlankColumns, blanking
from models.flat.features import FlatConfig, FlatFeatures, build_flat_baselines, build_flat_pipeline
from models.flat.split import FOLD_NAMES, FlatData, folds_of
from models.grades import GradeThresholds
from models.publishing import Candidate, flatten, publish
from models.training import check_enough_data
from pipelines import fill_rate_report_flat, leaking_columns

log = logging.getLogger(__name__)
NOT_POINT_IN_TIME = "NOT point-in-time: a random split; time cannot protect against leakage here"
RULE_POINTS_NOTE = "rule_points: not applicable to flat data (no activities or BANT fields)"
Parts = dict[str, tuple[pd.DataFrame | None, np.ndarray | None]]


@dataclass
class FlatTrainingResult:
    run_id: str
    model_name: str
    version: str
    metrics: dict[str, float]
    calibration: str
    promoted: bool
    reason: str
    sizes: dict[str, int]
    evaluation: pd.DataFrame
    leakage: pd.DataFrame
    kinds: dict[str, str]
    notes: list[str] = field(default_factory=list)
    winner: str = "lightgbm"
    fill_rates: pd.DataFrame = field(default_factory=pd.DataFrame)
    split: str = ""


def _parts(data: FlatData, rows: dict[str, np.ndarray]) -> Parts:
    return {
        k: ((data.X.iloc[v].reset_index(drop=True), data.y[v]) if len(v) else (None, None))
        for k, v in rows.items()
    }


def _fit_baselines(
    cfg: FlatConfig, train_cfg: TrainConfig, parts: Parts, kinds: dict[str, str], blank: list[str]
) -> dict[str, object]:
    """Calibrated baselines on the same inputs as LightGBM (left-out columns blanked)."""
    categories = sum(1 for c, k in kinds.items() if k == "category" and c not in blank)
    (X_train, y_train), (X_cal, y_cal) = parts["train"], parts["calibration"]
    assert X_train is not None and y_train is not None
    out = {}
    for name, baseline in build_flat_baselines(cfg, train_cfg, categories).items():
        fitted, _ = fit_calibrated(
            blanking(baseline, tuple(blank)), X_train, y_train, X_cal, y_cal, train_cfg.calibration
        )
        out[name] = fitted
    return out


def _winner(y: np.ndarray, probabilities: dict[str, np.ndarray]) -> tuple[str, str]:
    """The model with the best holdout AUC (LightGBM on a tie), and the verdict in words."""
    from sklearn.metrics import roc_auc_score

    aucs = {name: float(roc_auc_score(y, p)) for name, p in probabilities.items()}
    best = max(aucs, key=lambda name: (aucs[name], name == "lightgbm"))
    runner = max((n for n in aucs if n != best), key=aucs.__getitem__, default=None)
    if runner is None:
        return best, f"{best}: holdout AUC {aucs[best]:.4f}"
    return best, (
        f"{best} wins on the holdout: AUC {aucs[best]:.4f} vs {runner} {aucs[runner]:.4f} "
        f"(+{aucs[best] - aucs[runner]:.4f})"
    )


def train_flat(
    data: FlatData,
    cfg: FlatConfig,
    train_cfg: TrainConfig,
    tracking: str,
    model_name: str | None = None,
    grades: GradeThresholds | None = None,
    provenance: dict[str, str] | None = None,
) -> FlatTrainingResult:
    """Trains on a flat table; the best of LightGBM and the baselines is logged,
    registered and gated (``provenance``: tags naming the file and rows trained on)."""
    name = model_name or cfg.model_name
    rows = folds_of(data, cfg, train_cfg.seed)
    sizes = {k: len(v) for k, v in rows.items()}
    parts = _parts(data, rows)
    (X_train, y_train), (X_cal, y_cal), (X_test, y_test) = (parts[k] for k in FOLD_NAMES)
    assert X_train is not None and y_train is not None and X_test is not None and y_test is not None
    check_enough_data(
        pd.DataFrame({"lead_id": data.ids.iloc[rows["train"]], "label": y_train}), train_cfg
    )
    leak = train_cfg.leakage
    fills = fill_rate_report_flat(
        X_train, y_train, leak.fill_outcome_min, leak.fill_gap, leak.fill_warn_gap
    )
    filled_late = leaking_columns(fills)
    pipeline = build_flat_pipeline(cfg, train_cfg)
    pipeline.steps.insert(1, ("blank", BlankColumns(tuple(filled_late))))
    report, _ = drop_leaking_features(pipeline, X_train, y_train, train_cfg.leakage)
    features: FlatFeatures = pipeline.named_steps["features"]
    report.insert(0, "column", report["feature"].map(features.sources()))
    kinds = dict(features.kinds_)
    blank = sorted({*filled_late, *report.loc[report["action"] == "drop", "column"]})
    fitted, method = fit_calibrated(pipeline, X_train, y_train, X_cal, y_cal, train_cfg.calibration)
    models = {"lightgbm": fitted, **_fit_baselines(cfg, train_cfg, parts, kinds, blank)}
    probabilities = {n: m.predict_proba(X_test)[:, 1] for n, m in models.items()}  # type: ignore[attr-defined]
    winner, verdict = _winner(y_test, probabilities)
    notes = [NOT_POINT_IN_TIME if data.order is None else f"split {data.split}", RULE_POINTS_NOTE]
    if "naive_bayes" not in probabilities:
        notes.append("naive_bayes: not applicable (no categorical columns)")
    notes.append(verdict)
    # Personal data never reaches MLflow: blanked in the example, left out of the reference.
    personal = tuple(c for c, kind in kinds.items() if kind in ("email", "pii"))
    candidate = Candidate(
        models[winner], X_train, X_test, y_test, probabilities, report, sizes, personal, name=winner
    )
    tags = {"point_in_time": "false", "mode": "flat", "model_type": winner}
    published = publish(
        candidate,
        name,
        tracking,
        train_cfg.promotion,
        _params(data, cfg, train_cfg, method, filled_late),
        tags,
        grades,
        train_cfg.seed,
        provenance,
    )
    return FlatTrainingResult(
        published.run_id,
        name,
        published.version,
        published.metrics,
        method,
        published.promoted,
        published.reason,
        sizes,
        published.evaluation,
        report,
        kinds,
        notes + published.notes,
        winner,
        fills,
        data.split,
    )


def _params(
    data: FlatData, cfg: FlatConfig, train_cfg: TrainConfig, method: str, filled_late: list[str]
) -> dict[str, object]:
    """The run's parameters: the flat and training settings, the split and the columns."""
    params = flatten("flat", cfg.model_dump(exclude={"placeholders", "free_mail_domains"}))
    params |= flatten(
        "train",
        train_cfg.model_dump(include={"seed", "lightgbm", "calibration", "leakage", "promotion"}),
    )
    return params | {
        "mode": "flat",
        "split": data.split,
        "label": data.label,
        "id_column": str(data.id_column),
        "time_column": str(data.time_column),
        "excluded": ", ".join(data.excluded)[:5000] or "-",
        "filled_late": ", ".join(filled_late)[:5000] or "-",
        "calibration_method": method,
    }
