"""Scoring a flat table with a flat-mode model: a ranked list with reasons in words.

Reasons come from the champion's exact per-row contributions (TreeSHAP for LightGBM, the
linear terms of logistic regression, log-likelihood ratios of naive Bayes), summed per
source column and phrased by the same rule as the nightly list: the column's case (a value,
missing, a free-mail or company address, given) has words for a raising and for a lowering
contribution in ``reasons.phrases.flat``, or the reason is left out. Columns named like an
e-mail address or a phone number are only ever said to be given or missing; no input value
other than the row id reaches the output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import GradeThresholds, to_grade, to_score
from models.flat import FlatFeatures, clean_values, flat_contributions, flat_features_of, flat_input
from scoring.config import ReasonSettings
from scoring.explain import Columns, FlatPhrases, SignalSpec, select, signed_reasons
from scoring.reports import reasons_in_words

FLAT_SCORE_COLUMNS = (
    "lead_id",
    "probability",
    "score",
    "grade",
    "rank",
    "top_reasons",
    "model_name",
    "model_version",
    "scored_at",
)
_CASES = tuple(FlatPhrases.model_fields)


def _shown(kind: str, value: str) -> str:
    """A value as a reason shows it: numbers with separators, text quoted, at most 40 letters."""
    if kind == "numeric":
        number = pd.to_numeric(value, errors="coerce")
        if pd.notna(number):
            value = f"{number:,.0f}" if float(number).is_integer() else f"{number:,.4g}"
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f'"{shown}"' if kind == "text" else shown


def _column_spec(column: str, kind: str, free_mail: frozenset[str]) -> SignalSpec:
    """How one source column is phrased: its case per row, its name and value in words."""

    def classify(cols: Columns, settings: ReasonSettings) -> np.ndarray:
        values = cols.text(column)
        missing = pd.isna(values)
        if kind == "email":
            domain = [str(v).rsplit("@", 1)[-1].lower() in free_mail for v in values]
            return select(
                _CASES, [(missing, "missing"), (np.array(domain), "free_mail")], "company_mail"
            )
        return select(_CASES, [(missing, "missing")], "given" if kind == "pii" else "value")

    return SignalSpec(
        "flat",
        lambda settings: ((column,),),
        classify,
        {
            "column": lambda c, r, s: [column] * len(r),
            # Only categories, numbers and text are ever shown; e-mail and phone never.
            "value": lambda c, r, s: [
                _shown(kind, str(v)) if kind not in ("email", "pii") else ""
                for v in c.text(column)[r]
            ],
        },
    )


def flat_reasons(
    contrib: pd.DataFrame,
    features: FlatFeatures,
    raw: pd.DataFrame,
    settings: ReasonSettings | None = None,
) -> list[str]:
    """JSON lists of signed reasons per row, one per source column, strongest first."""
    settings = settings or ReasonSettings()
    cfg = features.settings()
    free_mail = frozenset(cfg.free_mail_domains)
    sources = features.sources()
    names = [c for c in contrib.columns if c != "bias"]
    codes, unique = pd.factorize(pd.Index([sources[n] for n in names]))
    membership = np.zeros((len(names), len(unique)))
    membership[np.arange(len(names)), codes] = 1.0
    sums = contrib[names].to_numpy(dtype="float64") @ membership
    columns = {str(c): clean_values(raw[c], cfg.placeholders).to_numpy() for c in unique}
    specs = [_column_spec(str(c), features.kinds_[c], free_mail) for c in unique]
    return signed_reasons(sums, specs, Columns(columns), settings)


def as_csv(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores as a CSV shows them: reasons in words ("▲ ... | ▼ ..."), as `export` does."""
    return scores.assign(top_reasons=[reasons_in_words(v) for v in scores["top_reasons"]])


def score_flat(
    pipeline: object,
    frame: pd.DataFrame,
    ids: pd.Series,
    grades: GradeThresholds,
    reasons: ReasonSettings | None = None,
) -> pd.DataFrame:
    """Probability, score, grade, rank (1 = best; ties by id) and reasons for every row."""
    X = flat_input(frame)
    probability = pipeline.predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    _, contrib = flat_contributions(pipeline, X)  # type: ignore[arg-type]
    features = flat_features_of(pipeline)  # type: ignore[arg-type]
    score = to_score(probability)
    scored = pd.DataFrame(
        {
            "lead_id": ids.astype(str).to_numpy(),
            "probability": probability,
            "score": score,
            "grade": to_grade(score, grades),
            "top_reasons": flat_reasons(contrib, features, X, reasons),
        }
    )
    ranked = scored.sort_values(
        ["probability", "lead_id"], ascending=[False, True], kind="mergesort"
    )
    return ranked.assign(rank=np.arange(1, len(ranked) + 1)).reset_index(drop=True)
