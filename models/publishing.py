"""From a fitted candidate to a registered version: gate, log, register, crown.

Point-in-time and flat training end the same way, here: the candidate is compared with the
current ``@champion`` on the same holdout (the promotion gate), every metric, plot and
table is logged to one MLflow run, the whole pipeline is registered as a new version, and
the version becomes ``@champion`` only when it passed the gate.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier

from models.comparison import evaluation_table
from models.config import PromotionSettings
from models.estimator import booster_of
from models.evaluation import classification_metrics, rate_by_group
from models.grades import GradeThresholds, to_grade, to_score
from models.registry import (
    CHAMPION,
    EVALUATED_ARTIFACT,
    NoChampionError,
    configure,
    get_champion,
    load_evaluated,
    load_pipeline,
)
from models.registry import set_champion as crown
from models.routing import main_pipeline

log = logging.getLogger(__name__)
REFERENCE_ROWS = 5000
REQUIREMENTS = (
    "lightgbm",
    "scikit-learn",
    "pandas",
    "numpy",
    "mlflow",
    "pydantic",
    "pyyaml",
    "duckdb",
)


@dataclass
class Candidate:
    """A fitted model and what it is judged on.

    Attributes:
        pipeline: the fitted (calibrated) pipeline, raw rows → probability.
        X_train: the training inputs (a sample becomes the drift reference).
        X_test, y_test: the holdout.
        probabilities: holdout probabilities per model (the candidate's under ``name``, and
            the baselines'); the gate adds ``champion``.
        leakage: the leakage report of the training fold.
        sizes: rows per fold.
        personal: columns holding personal data: blanked in the input example, left out
            of the reference sample.
        evaluated: the fit the holdout metrics belong to, when ``pipeline`` is a refit of
            it on more data (:mod:`models.refit`); the gate compares evaluated fits.
        name: which of ``probabilities`` is the candidate's (``lightgbm`` unless a
            baseline won, in flat mode).
        tables: more run artifacts, by file name (e.g. ``segments.csv``).
        more_metrics: more run metrics (e.g. per segment).
    """

    pipeline: Any
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_test: np.ndarray
    probabilities: dict[str, np.ndarray]
    leakage: pd.DataFrame
    sizes: dict[str, int]
    personal: tuple[str, ...] = ()
    evaluated: Any = None
    name: str = "lightgbm"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    more_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def scores(self) -> np.ndarray:
        """The candidate's holdout probabilities."""
        return self.probabilities[self.name]

    @property
    def evaluated_fit(self) -> Any:
        return self.pipeline if self.evaluated is None else self.evaluated


@dataclass
class Published:
    """The registered version and the verdict of the gate."""

    run_id: str
    version: str
    metrics: dict[str, float]
    evaluation: pd.DataFrame
    promoted: bool
    reason: str
    notes: list[str] = field(default_factory=list)


def should_promote(
    challenger: dict[str, float], champion: dict[str, float] | None, gate: PromotionSettings
) -> tuple[bool, str]:
    """The gate: no champion, or a better AUC by the margin without a (much) worse Brier."""
    if champion is None:
        return True, "first model: no champion yet"
    verdict = (
        f"AUC {challenger['roc_auc']:.4f} vs champion {champion['roc_auc']:.4f} (margin {gate.min_auc_gain}), "
        f"Brier {challenger['brier']:.4f} vs {champion['brier']:.4f}"
    )
    passed = (
        challenger["roc_auc"] >= champion["roc_auc"] + gate.min_auc_gain
        and challenger["brier"] <= champion["brier"] + gate.max_brier_increase
    )
    return passed, ("gate passed: " if passed else "gate failed: ") + verdict


def champion_probabilities(name: str, X: pd.DataFrame) -> np.ndarray | None:
    """The current champion's probabilities on this holdout, or None when there is none.

    Like is compared with like: a refitted champion was fitted on data up to its last
    labelled date, which may include this holdout, so its evaluated fit (logged beside
    it) is scored instead when there is one.
    """
    try:
        champion = get_champion(name)
    except NoChampionError:
        return None
    model = load_evaluated(champion) or load_pipeline(champion)
    return model.predict_proba(X)[:, 1]


def gate(name: str, candidate: Candidate, rules: PromotionSettings) -> tuple[bool, str, list[str]]:
    """The candidate against ``name``'s champion, re-scored on the candidate's holdout.

    A champion that cannot score the holdout (trained on other columns) is kept, and the
    returned notes say so. The champion's probabilities join ``candidate.probabilities``.
    """
    try:
        champion_p = champion_probabilities(name, candidate.X_test)
    except (ValueError, KeyError) as err:
        note = f"the current champion cannot score this table ({err}); it is kept"
        return False, "gate failed: the champion could not be compared on this holdout", [note]
    challenger = classification_metrics(candidate.y_test, candidate.scores)
    if champion_p is None:
        return (*should_promote(challenger, None, rules), [])
    candidate.probabilities["champion"] = champion_p
    champion = classification_metrics(candidate.y_test, champion_p)
    return (*should_promote(challenger, champion, rules), [])


def grade_labels(probability: np.ndarray, thresholds: GradeThresholds) -> pd.Series:
    """A–D per probability, as the scorer grades."""
    return pd.Series(to_grade(to_score(probability), thresholds))


def publish(
    candidate: Candidate,
    name: str,
    tracking: str,
    rules: PromotionSettings,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
    grades: GradeThresholds | None = None,
    seed: int = 0,
    provenance: dict[str, str] | None = None,
) -> Published:
    """Gates, logs and registers ``candidate`` as a version of ``name``; crowns it if it passed.

    Args:
        candidate: the fitted model and its holdout.
        name: the registered model name.
        tracking: the MLflow tracking URI.
        rules: the promotion gate's settings.
        params: the run's parameters (the resolved configs, flattened).
        tags: extra run tags (e.g. ``mode``).
        grades: thresholds for the conversion-per-grade table (default: the scorer's).
        seed: seed of the reference sample.
        provenance: tags naming the data the version was trained on (store, fingerprint),
            set on the registered version (and the run) before it can become champion.
    """
    import mlflow
    from mlflow.models import infer_signature

    configure(tracking)
    promoted, reason, notes = gate(name, candidate, rules)
    y, p = candidate.y_test, candidate.scores
    tags = (tags or {}) | {"refit": str(candidate.evaluated is not None).lower()}
    table = evaluation_table(y, candidate.probabilities)
    metrics = classification_metrics(y, p)
    by_grade = rate_by_group(y, grade_labels(p, grades or GradeThresholds()))
    reference = _reference(candidate, seed)
    X_test, pipeline = candidate.X_test, candidate.pipeline
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        log_evaluation(metrics, candidate.sizes, table, candidate.name)
        mlflow.log_metrics({k: v for k, v in candidate.more_metrics.items() if np.isfinite(v)})
        _log_artifacts(candidate, table, by_grade, reference)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(X_test.head(100), pipeline.predict_proba(X_test.head(100))),
            input_example=X_test.head(5).assign(**dict.fromkeys(candidate.personal)),
            pyfunc_predict_fn="predict_proba",
            registered_model_name=name,
            serialization_format="cloudpickle",
            pip_requirements=requirements(),
        )
        version = str(info.registered_model_version)
        _tag_version(name, version, provenance or {})
        if candidate.evaluated is not None:
            _log_evaluated(candidate.evaluated)
        mlflow.set_tags(
            tags | (provenance or {}) | {"promoted": str(promoted).lower(), "gate": reason}
        )
    if promoted:
        crown(name, version, reason)
    log.info("registered %s version %s (%s=%s)", name, version, CHAMPION, promoted)
    return Published(run.info.run_id, version, metrics, table, promoted, reason, notes)


def _tag_version(name: str, version: str, tags: dict[str, str]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def _log_evaluated(pipeline: Any) -> None:
    """The evaluated fit, as a run artifact the gate can load later (not registered)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / EVALUATED_ARTIFACT
        mlflow.sklearn.save_model(pipeline, path, serialization_format="cloudpickle")
        mlflow.log_artifacts(str(path), EVALUATED_ARTIFACT)


def _reference(candidate: Candidate, seed: int) -> pd.DataFrame:
    """The reference population for drift (PSI): the latest labelled snapshots (the test
    fold: leads open at recent dates, as a scoring run sees them), their model inputs and
    the served model's probability."""
    X = candidate.X_test
    # copy(): one block per dtype (a model input's columns may be separate arrays).
    reference = X.sample(min(REFERENCE_ROWS, len(X)), random_state=seed).copy()
    reference = reference.assign(probability=candidate.pipeline.predict_proba(reference)[:, 1])
    return reference.drop(columns=list(candidate.personal))


def log_evaluation(
    metrics: dict[str, float], sizes: dict[str, int], table: pd.DataFrame, name: str = "lightgbm"
) -> None:
    """Logs the holdout metrics, fold sizes and every other model's metrics to the active run."""
    import mlflow

    mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items() if np.isfinite(v)})
    mlflow.log_metrics({f"rows_{k}": v for k, v in sizes.items()})
    for row in table.to_dict(orient="records"):
        if row["model"] != name:
            others = {
                f"{row['model']}_test_{k}": v
                for k, v in row.items()
                if k != "model" and np.isfinite(v)
            }
            mlflow.log_metrics(others)


def _log_artifacts(
    candidate: Candidate, table: pd.DataFrame, grades: pd.DataFrame, reference: pd.DataFrame
) -> None:
    """Plots (calibration, gains/lift, scores, importance) and tables as run artifacts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    from models.plots import (
        calibration_curve_figure,
        contribution_rows,
        feature_importance_figure,
        gain_importance,
        gains_lift_figure,
        mean_abs_contributions,
        score_distribution_figure,
    )

    y, probabilities = candidate.y_test, candidate.probabilities
    pipeline = main_pipeline(candidate.pipeline)  # a routing model: its global pipeline
    figures = {
        "calibration.png": calibration_curve_figure(y, probabilities),
        "gains_lift.png": gains_lift_figure(y, probabilities),
        "score_distribution.png": score_distribution_figure(y, candidate.scores),
    }
    booster = booster_of(pipeline)
    if isinstance(booster, LGBMClassifier):  # a baseline may win in flat mode
        rows = contribution_rows(len(candidate.X_test))  # the rows it reads, transformed
        X = candidate.X_test if rows is None else candidate.X_test.iloc[rows]
        Xt = pipeline[:-1].transform(X)
        figures["feature_importance.png"] = feature_importance_figure(
            gain_importance(booster), mean_abs_contributions(booster, Xt)
        )
    with tempfile.TemporaryDirectory() as tmp:
        for name, figure in figures.items():
            figure.savefig(Path(tmp) / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
        table.to_csv(Path(tmp) / "evaluation.csv", index=False)
        candidate.leakage.to_csv(Path(tmp) / "leakage.csv", index=False)
        grades.to_csv(Path(tmp) / "conversion_by_grade.csv", index=False)
        reference.to_parquet(Path(tmp) / "reference.parquet", index=False)
        for file, frame in candidate.tables.items():
            frame.to_csv(Path(tmp) / file, index=False)
        mlflow.log_artifacts(tmp)


def flatten(prefix: str, value: Any) -> dict[str, Any]:
    """Nested config values as ``a.b.c`` parameters."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return out
    return {prefix: value}


def requirements() -> list[str]:
    """Pinned requirements of the served model (the leadscore package must be installed
    where it is served: see the README)."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in REQUIREMENTS]
