"""What a rep must never read in a lead's reasons, as checks on the sentences themselves.

Written against the words, not the code that chose them: an old list ("+ No need stated",
"+ Engaged recently" beside "- No activity for 190 days") fails these checks.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from scoring.explain import RowView, phrase, signal_of

# An absence: the lead did not do, say or give something (or we do not know it).
ABSENCE = re.compile(
    r"^(no|not|never|without|has not|hasn't)\b|\b(unknown|not stated|not given|missing|none)\b",
    re.IGNORECASE,
)
# ...which may raise the score only when the words say what it is compared with.
COMPARED = re.compile(r": leads (that|whose) .+ convert (less|more)$")
# A strength or an activity told as such, which may only raise the score.
STRENGTH = re.compile(
    r"^(engaged recently|active recently|within the stated timeframe|decision maker:"
    r"|stated need resembles (converting leads|those of converting leads)"
    r"|(opened|viewed|visited|clicked|attended|downloaded|requested|replied|submitted) "
    r"|had \d)",
    re.IGNORECASE,
)
RECENT = re.compile(
    r"\brecently\b|\bin the last \d+ days\b|\blast activity (today|\d+ days? ago)", re.IGNORECASE
)
SILENT = re.compile(r"\b(no activity|gone quiet|silent|little recent engagement)\b", re.IGNORECASE)


def reasons_of(value: str) -> list[str]:
    """The reasons of one lead from its JSON list."""
    reasons = json.loads(value)
    assert isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)
    return reasons


def absences_as_plus(reasons: list[str]) -> list[str]:
    """Reasons that state an absence as raising the score, without a comparison."""
    return [
        r
        for r in reasons
        if r.startswith("+ ") and ABSENCE.search(r[2:]) and not COMPARED.search(r[2:])
    ]


def strengths_as_minus(reasons: list[str]) -> list[str]:
    """Reasons that state a strength as lowering the score."""
    return [r for r in reasons if r.startswith("- ") and STRENGTH.search(r[2:])]


def contradicts_itself(reasons: list[str]) -> bool:
    """Whether the lead is told both that it engaged recently and that it is silent."""
    active = [r for r in reasons if RECENT.search(r) and not ABSENCE.search(r[2:])]
    return bool(active) and any(SILENT.search(r) for r in reasons)


ENGAGEMENT = re.compile(
    r"^[+-] (Active recently|Low-intent activity|Engaged earlier|Gone quiet|No activity)"
)


def engagement_sentences(reasons: list[str]) -> list[str]:
    """The reasons that speak about the lead's engagement."""
    return [r for r in reasons if ENGAGEMENT.search(r)]


def possible_reasons(contrib: pd.DataFrame, view: RowView, row: int) -> dict[str, float]:
    """Every reason the lead could be given, each with the |sum| of its signal.

    One lead at a time through ``phrase``: each signal's contributions summed, its sentence
    for the sign of that sum; signals with no words for that sign are not there.
    """
    features = [c for c in contrib.columns if c != "bias"]
    sums = contrib[features].iloc[row].groupby([signal_of(f) for f in features]).sum()
    out = {}
    for signal, total in sums.items():
        member = next(f for f in features if signal_of(f) == signal)
        words = phrase(member, view, 1 if total > 0 else -1)
        if words is not None and abs(total) >= 0.01:
            out[("+ " if total > 0 else "- ") + words] = abs(float(total))
    return out


def assert_strongest_possible(reasons: list[str], possible: dict[str, float], k: int = 5) -> None:
    """The reasons are the ``k`` strongest possible ones, strongest first, signs as summed."""
    assert set(reasons) <= set(possible), set(reasons) - set(possible)
    strongest = sorted(possible.values(), reverse=True)[:k]
    assert [possible[r] for r in reasons] == pytest.approx(strongest)
