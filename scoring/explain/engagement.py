"""One engagement sentence per lead: recency, frequency, activity types and silence together.

The lead's case comes from its activity counts: active in the last ``recent_days`` (with or
without a high-intent action), active only before that (quiet), or never active. The
sentence names up to ``activity_items`` activity types, high-intent ones first in the order
of ``words.high_intent``, then the most frequent ("3 pricing-page views, a meeting and
5 more activities").
"""

from __future__ import annotations

import re

import numpy as np

from scoring.explain.attribution import OPT_OUT_TYPES
from scoring.explain.cases import FieldWords, SignalSpec, select
from scoring.explain.columns import Columns
from scoring.explain.settings import EngagementPhrases, ReasonSettings
from scoring.explain.templates import counted, join_words
from scoring.explain.vocabulary import Forms, Words
from scoring.explain.wording import days_in_words, when_in_words

_COUNT = re.compile(r"^eng_(?P<kind>[a-z0-9_]+)_count$")
_NOT_TYPES = {"total", "recent", "prior", "negative", *OPT_OUT_TYPES}
_AGE = ("stage_lead_age_days", "lead_age_days")


def activity_types(cols: Columns, words: Words) -> list[str]:
    """The activity types with count columns: those in ``words.activities`` first, in order."""
    found = {m["kind"] for n in cols.names() if (m := _COUNT.match(n))} - _NOT_TYPES
    return [t for t in words.activities if t in found] + sorted(found - set(words.activities))


def _forms(kind: str, words: Words) -> Forms:
    label = kind.replace("_", " ")
    return words.activities.get(kind, (f"1 {label} activity", f"{{n}} {label} activities"))


def counts(cols: Columns, window: str, words: Words) -> np.ndarray:
    """(rows x activity types) counts in ``window`` ("30d", or "count" for all time)."""
    key = ("counts", window)
    if key not in cols.memo:
        kinds = activity_types(cols, words)
        columns = [cols.num_or(f"eng_{k}_{window}", 0.0) for k in kinds]
        stacked = np.column_stack(columns) if columns else np.zeros((cols.rows, 0))
        cols.memo[key] = np.nan_to_num(stacked, nan=0.0)
    matrix: np.ndarray = cols.memo[key]
    return matrix


def classify(cols: Columns, settings: ReasonSettings) -> np.ndarray:
    """The engagement case of every row."""
    words = settings.words
    kinds = activity_types(cols, words)
    recent = counts(cols, f"{settings.recent_days}d", words)
    high = [i for i, k in enumerate(kinds) if k in words.high_intent]
    active = recent.sum(axis=1) > 0
    return select(
        tuple(EngagementPhrases.model_fields),
        [
            (active & (recent[:, high].sum(axis=1) > 0), "high_intent"),
            (active, "active"),
            (counts(cols, "count", words).sum(axis=1) > 0, "quiet"),
        ],
        "no_activity",
    )


def items_in_words(matrix: np.ndarray, kinds: list[str], settings: ReasonSettings) -> list[str]:
    """Each row's activities in words, high-intent types first, then the most frequent."""
    words = settings.words
    rank = {k: i for i, k in enumerate(words.high_intent)}
    # High-intent types outrank any count, in their listed order; the rest rank by count.
    bonus = np.array([(len(rank) - rank[k]) * 1e12 if k in rank else 0.0 for k in kinds])
    whole = np.floor(matrix)
    key = np.where(whole > 0, whole + bonus, -1.0)
    order = np.argsort(-key, axis=1, kind="stable")[:, : settings.activity_items]
    shown = np.take_along_axis(whole, order, axis=1)
    rest = whole.sum(axis=1) - shown.sum(axis=1)
    # Rows repeat (an email open, a website visit...): each distinct row is put in words once.
    distinct, inverse = np.unique(
        np.column_stack([order, shown, rest]).astype(np.int64), axis=0, return_inverse=True
    )
    forms = [_forms(k, words) for k in kinds]
    said = []
    for line in distinct:
        kinds_of_row, counts_of_row, more = np.split(line, [len(line) // 2, len(line) - 1])
        items = [
            counted(forms[kind], int(n))
            for kind, n in zip(kinds_of_row, counts_of_row, strict=True)
            if n > 0
        ]
        if more[0] > 0:
            items.append(counted(words.more_activities, int(more[0])))
        said.append(join_words(items))
    return np.array(said, dtype=object)[inverse.ravel()].tolist()  # type: ignore[no-any-return]


def _activities(window: str) -> FieldWords:
    def words_for(cols: Columns, rows: np.ndarray, settings: ReasonSettings) -> list[str]:
        span = f"{settings.recent_days}d" if window == "recent" else window
        matrix = counts(cols, span, settings.words)[rows]
        return items_in_words(matrix, activity_types(cols, settings.words), settings)

    return words_for


def _silence(cols: Columns, rows: np.ndarray, settings: ReasonSettings) -> list[str]:
    days = cols.num("eng_days_since_last")[rows]
    # Quiet means no activity in the recent window: at least that long, if the date is missing.
    return days_in_words(np.where(np.isnan(days), settings.recent_days, days), settings.words)


ENGAGEMENT = SignalSpec(
    "engagement",
    lambda s: (
        (f"eng_total_{s.recent_days}d",),
        ("eng_total_count",),
        ("eng_days_since_last",),
        _AGE,
    ),
    classify,
    {
        "activities": _activities("recent"),
        "all_activities": _activities("count"),
        "window": lambda c, r, s: [counted(s.words.units.day, s.recent_days)] * len(r),
        "days": _silence,
        "created": lambda c, r, s: when_in_words(c.num(c.first(*_AGE) or _AGE[0])[r], s.words),
    },
)
