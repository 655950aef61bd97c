"""Scoring a flat table with a flat-mode model: a ranked list with reasons in words.

Reasons come from the champion's exact per-row contributions (TreeSHAP for LightGBM, the
linear terms of logistic regression, log-likelihood ratios of naive Bayes), summed per source
column and phrased as ``column: value``. Columns named like an e-mail
address or a phone number are only ever said to be given or missing; no input value other
than the row id reaches the output.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from models import GradeThresholds, to_grade, to_score
from models.flat import FlatFeatures, clean_values, flat_contributions, flat_features_of, flat_input

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


def _phrase(column: str, kind: str, value: str | None, free_mail: frozenset[str]) -> str:
    """``column: value`` in words; personal data only as given, missing or free-mail."""
    if kind == "email":
        if value is None:
            return f"{column}: missing"
        free = value.rsplit("@", 1)[-1].lower() in free_mail
        return f"{column}: a free-mail address" if free else f"{column}: a company address"
    if kind == "pii":
        return f"{column}: {'given' if value is not None else 'missing'}"
    if value is None:
        return f"{column}: missing"
    if kind == "numeric":
        number = pd.to_numeric(value, errors="coerce")
        if pd.notna(number):
            value = f"{number:,.0f}" if float(number).is_integer() else f"{number:,.4g}"
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f'{column}: "{shown}"' if kind == "text" else f"{column}: {shown}"


def flat_reasons(
    contrib: pd.DataFrame,
    features: FlatFeatures,
    raw: pd.DataFrame,
    k: int = 5,
    min_abs: float = 0.01,
) -> list[str]:
    """JSON lists of up to ``k`` signed reasons per row, one per source column, strongest first."""
    cfg = features.settings()
    free_mail = frozenset(cfg.free_mail_domains)
    sources = features.sources()
    names = [c for c in contrib.columns if c != "bias"]
    columns = pd.Index([sources[n] for n in names])
    codes, unique = pd.factorize(columns)
    values = contrib[names].to_numpy()
    summed = np.zeros((len(values), len(unique)))
    for j, code in enumerate(codes):
        summed[:, code] += values[:, j]
    order = np.argsort(-np.abs(summed), axis=1, kind="stable")[:, :k]
    cleaned = {c: clean_values(raw[c], cfg.placeholders).to_numpy() for c in unique}
    out = []
    for row in range(len(values)):
        items = []
        for code in order[row]:
            total = summed[row, code]
            if abs(total) < min_abs:
                break
            column = unique[code]
            phrase = _phrase(str(column), features.kinds_[column], cleaned[column][row], free_mail)
            items.append(("+ " if total > 0 else "- ") + phrase)
        out.append(json.dumps(items))
    return out


def score_flat(
    pipeline: object,
    frame: pd.DataFrame,
    ids: pd.Series,
    grades: GradeThresholds,
    reasons: int = 5,
    min_abs: float = 0.01,
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
            "top_reasons": flat_reasons(contrib, features, X, reasons, min_abs),
        }
    )
    ranked = scored.sort_values(
        ["probability", "lead_id"], ascending=[False, True], kind="mergesort"
    )
    return ranked.assign(rank=np.arange(1, len(ranked) + 1)).reset_index(drop=True)
