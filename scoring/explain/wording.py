"""Values in words: counts with nouns, days, money, revenue bands, job titles, codes.

Each function takes a column's values for some rows and returns one string per row. Values
repeat a lot (days, counts, titles), so each distinct value is put in words once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

from scoring.explain.templates import counted
from scoring.explain.vocabulary import Forms, Words

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def each_distinct(values: np.ndarray, words: Callable[[Hashable], str]) -> list[str]:
    """``words(value)`` for every value, computed once per distinct value."""
    column = values if values.dtype.kind in "fiub" else pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    said = np.array([words(u) for u in uniques], dtype=object)
    return said[codes].tolist()  # type: ignore[no-any-return]


def whole(value: object) -> int:
    """A count or a number of days as a whole number (days are rounded down)."""
    return int(np.floor(float(value)))  # type: ignore[arg-type]


def counts_in_words(values: np.ndarray, forms: Forms) -> list[str]:
    """Counts with their noun: "1 employee", "1,200 employees"."""
    return each_distinct(np.floor(values.astype("float64")), lambda v: counted(forms, whole(v)))


def days_in_words(values: np.ndarray, words: Words) -> list[str]:
    """Ages in days, rounded down: "1 day", "190 days"."""
    return counts_in_words(values, words.units.day)


def when_in_words(values: np.ndarray, words: Words) -> list[str]:
    """How long ago, from an age in days: "today", "3 days ago"."""

    def say(value: Hashable) -> str:
        days = whole(value)
        return words.today if days < 1 else words.ago.format(when=counted(words.units.day, days))

    return each_distinct(np.floor(values.astype("float64")), say)


def money_in_words(values: np.ndarray, words: Words) -> list[str]:
    """Amounts with the currency and thousands separators: "$25,000"."""
    return each_distinct(values, lambda v: f"{words.currency}{float(v):,.0f}")  # type: ignore[arg-type]


def bands_in_words(values: np.ndarray, words: Words) -> list[str]:
    """Revenue as its band: "$10M–$50M"."""
    edges = np.array([edge for edge, _ in words.revenue_bands])
    names = [name for _, name in words.revenue_bands]
    index = np.clip(np.searchsorted(edges, values.astype("float64"), side="right") - 1, 0, None)
    return [names[i] for i in index]


def label_in_words(values: np.ndarray, names: dict[str, str] | None = None) -> list[str]:
    """Codes as words: a name from ``names`` when there is one, else "paid_search" → "paid search"."""
    known = names or {}
    return each_distinct(values, lambda v: known.get(str(v), str(v).replace("_", " ")))


def display_title(title: str, words: Words) -> str:
    """A job title as a rep would write it: "cio" → "CIO", "vp of sales" → "VP of Sales".

    Titles typed all in lower or upper case are recased word by word (``title_words`` as
    listed, small words in lower case, others capitalised); titles typed in mixed case keep
    their case except for ``title_words`` ("Cio" → "CIO").
    """
    plain = " ".join(title.split())
    recase = plain.islower() or plain.isupper()
    listed = {w.lower(): w for w in words.title_words}
    small = set(words.title_small_words)

    def word(match: re.Match[str]) -> str:
        token, lower = match.group(0), match.group(0).lower()
        if lower in listed:
            return listed[lower]
        if not recase:
            return token
        if lower in small and match.start() > 0:
            return lower
        return lower[:1].upper() + lower[1:]

    return _WORD.sub(word, plain)


def role_in_words(title: str, seniority: str) -> str:
    """Title and seniority: "CIO (C-level)"; the seniority is left out when the title says it."""
    if not seniority or re.search(rf"\b{re.escape(seniority)}\b", title, re.IGNORECASE):
        return title
    return f"{title} ({seniority})"


def number_in_words(value: object) -> str:
    """A value as shown in a generic reason: "1,859", "0.25", "web form"."""
    if isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.3g}"
    return str(value).replace("_", " ")
