"""What a rep must never read in a lead's reasons, as checks on the sentences themselves.

Written against the words, not the code that chose them: an old list ("+ No need stated",
"+ Engaged recently" beside "- No activity for 190 days") fails these checks.
"""

from __future__ import annotations

import json
import re

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
