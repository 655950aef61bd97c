"""The reasons a rep reads: a lead's strongest signals, in words that agree with their sign.

Per chunk, all numpy: contributions are summed per signal; every signal sorts every lead
into a case of its phrases table (:mod:`scoring.explain.settings`); a signal can be a reason
only when its case has words for the sign of its sum; the ``count`` strongest such signals
(by |sum|, ties in feature order) are phrased, one group of leads with the same case and
sign at a time, and each lead's reasons become a JSON list of ``"+ ..."``/``"- ..."``.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from scoring.explain.attribution import signal_of, signal_sums
from scoring.explain.cases import SignalSpec, needs, select
from scoring.explain.columns import Columns, RowView
from scoring.explain.settings import OtherPhrases, ReasonSettings, SignalPhrases
from scoring.explain.signals import SPECS, cases_of
from scoring.explain.templates import fill, template_fields
from scoring.explain.wording import each_distinct, number_in_words

DEFAULT_SETTINGS = ReasonSettings()
_PREFIXES = ("bant_", "fit_", "eng_", "stage_", "attr_")


@functools.cache
def other_spec(feature: str) -> SignalSpec:
    """A feature without a table of its own: "Its name: its value", or "Its name unknown"."""
    name = feature
    for prefix in _PREFIXES:
        name = name.removeprefix(prefix)
    name = name.replace("_", " ").capitalize()
    return SignalSpec(
        "other",
        needs(feature),
        lambda c, s: select(
            cases_of(OtherPhrases), [(pd.isna(c.text(feature)), "missing")], "known"
        ),
        {
            "name": lambda c, r, s: [name] * len(r),
            "value": lambda c, r, s: each_distinct(c.values(feature)[r], number_in_words),
        },
    )


def spec_for(
    signal: str, features: list[str], cols: Columns, settings: ReasonSettings
) -> SignalSpec:
    """The spec of a signal; the generic one of its first feature if its columns are missing."""
    spec = SPECS.get(signal)
    if spec is not None and spec.usable(cols, settings):
        return spec
    return other_spec(next((f for f in features if f in cols), features[0]))


def _has_words(table: SignalPhrases, codes: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Whether each row's case has words for the sign of its sum."""
    phrases = [getattr(table, case) for case in table.cases()]
    raises = np.array([p.raises is not None for p in phrases])
    lowers = np.array([p.lowers is not None for p in phrases])
    return np.where(sums > 0, raises[codes], lowers[codes])


def choose(
    sums: np.ndarray, allowed: np.ndarray, k: int, min_abs: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of up to ``k`` allowed signals by decreasing |sum|.

    Returns:
        ``order`` (rows x k column indices) and ``chosen`` (rows x k; a prefix of each row
        is True: those are the reasons).
    """
    magnitude = np.abs(sums)
    ok = allowed & (magnitude >= min_abs) & (sums != 0)
    order = np.argsort(-np.where(ok, magnitude, -1.0), axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(ok, order, axis=1)


def render(
    spec: SignalSpec,
    settings: ReasonSettings,
    cols: Columns,
    rows: np.ndarray,
    codes: np.ndarray,
    raising: np.ndarray,
    signed: bool = True,
) -> list[str | None]:
    """The sentences of ``rows`` (None where the case has no words for that sign)."""
    table = spec.phrases(settings)
    cases = table.cases()
    out: list[str | None] = [None] * len(rows)
    groups = codes.astype(np.int64) * 2 + raising
    for group in np.unique(groups):
        phrase = getattr(table, cases[group // 2])
        template = phrase.raises if group % 2 else phrase.lowers
        if template is None:
            continue
        at = np.flatnonzero(groups == group)
        sub = rows[at]
        fields = {f: spec.fields[f](cols, sub, settings) for f in template_fields(template)}
        sign = ("+ " if group % 2 else "- ") if signed else ""
        for i, text in zip(at, fill(sign + template, fields, len(sub)), strict=True):
            out[i] = text
    return out


def signed_reasons(
    sums: np.ndarray, specs: list[SignalSpec], cols: Columns, settings: ReasonSettings
) -> list[str]:
    """JSON lists of up to ``settings.count`` signed reasons per row, strongest first.

    Args:
        sums: (rows x signals) contributions summed per signal.
        specs: the spec of each signal (column of ``sums``).
        cols: the columns the specs read.
    """
    codes = np.zeros(sums.shape, dtype=np.int16)
    allowed = np.zeros(sums.shape, dtype=bool)
    for j, spec in enumerate(specs):
        codes[:, j] = spec.classify(cols, settings)
        allowed[:, j] = _has_words(spec.phrases(settings), codes[:, j], sums[:, j])
    order, chosen = choose(sums, allowed, settings.count, settings.min_abs_contribution)
    texts = np.full(order.shape, None, dtype=object)
    for j, spec in enumerate(specs):
        rows, slots = np.nonzero((order == j) & chosen)
        if len(rows):
            texts[rows, slots] = render(
                spec, settings, cols, rows, codes[rows, j], sums[rows, j] > 0
            )
    return as_json_lists(texts, chosen.sum(axis=1))


def top_reasons(
    contrib: pd.DataFrame,
    Xt: pd.DataFrame,
    raw: pd.DataFrame,
    settings: ReasonSettings | None = None,
) -> list[str]:
    """JSON lists of up to ``settings.count`` signed reasons per row, strongest first.

    Each reason is one signal: its features' contributions summed; ``+`` raises the score,
    ``-`` lowers it. Signals whose case has no words for their sign are passed over.
    """
    settings = settings or DEFAULT_SETTINGS
    names, members, sums = signal_sums(contrib)
    cols = Columns.of_frames(Xt, raw)
    specs = [spec_for(name, members[name], cols, settings) for name in names]
    return signed_reasons(sums, specs, cols, settings)


def as_json_lists(texts: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Each row's first ``length`` texts as a JSON list; each distinct text is encoded once."""
    codes, uniques = pd.factorize(pd.Series(texts.ravel(), dtype=object))
    encoded = np.array([json.dumps(t, ensure_ascii=False) for t in uniques] + [""], dtype=object)
    cells = encoded[codes].reshape(texts.shape).tolist()
    return ["[" + ", ".join(row[:n]) + "]" for row, n in zip(cells, lengths.tolist(), strict=True)]


def phrase(
    feature: str, row: RowView, sign: int, settings: ReasonSettings | None = None
) -> str | None:
    """The sentence of ``feature``'s signal for one lead and a contribution of ``sign``.

    Returns:
        The words without the sign, or None when no words of that sign fit the lead's values
        (the reason would be left out).
    """
    settings = settings or DEFAULT_SETTINGS
    cols = Columns(row.arrays())
    spec = spec_for(signal_of(feature), [feature], cols, settings)
    codes = spec.classify(cols, settings)
    return render(
        spec, settings, cols, np.zeros(1, dtype=np.int64), codes, np.array([sign > 0]), False
    )[0]
