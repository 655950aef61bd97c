"""What a signal needs to be phrased: its table of cases, how a lead falls in one, its fields.

A :class:`SignalSpec` sorts every row into a case of its phrases table at once (numpy over
the chunk), then puts the fields its templates use in words for the rows it is asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from scoring.explain.columns import Columns

if TYPE_CHECKING:
    from scoring.explain.settings import ReasonSettings, SignalPhrases

Classify = Callable[[Columns, "ReasonSettings"], np.ndarray]
FieldWords = Callable[[Columns, np.ndarray, "ReasonSettings"], Sequence[str]]


@dataclass(frozen=True)
class SignalSpec:
    """How one signal is phrased.

    Attributes:
        table: the name of its phrases table under ``reasons.phrases``.
        requires: columns it reads, each given as alternatives (any one will do).
        classify: the case code of every row (an index into the table's cases).
        fields: for each template field, its words for given rows.
    """

    table: str
    requires: Callable[[ReasonSettings], tuple[tuple[str, ...], ...]]
    classify: Classify
    fields: Mapping[str, FieldWords] = field(default_factory=dict)

    def usable(self, cols: Columns, settings: ReasonSettings) -> bool:
        """Whether every column it reads is there (else the reason is phrased generically)."""
        return all(cols.first(*names) is not None for names in self.requires(settings))

    def phrases(self, settings: ReasonSettings) -> SignalPhrases:
        """Its table of words."""
        table: SignalPhrases = getattr(settings.phrases, self.table)
        return table


def needs(*columns: str | tuple[str, ...]) -> Callable[[object], tuple[tuple[str, ...], ...]]:
    """A fixed ``requires``: each argument a column name or a tuple of alternatives."""
    spelled = tuple((c,) if isinstance(c, str) else c for c in columns)
    return lambda settings: spelled


def select(
    cases: Sequence[str], rules: Sequence[tuple[np.ndarray, str]], otherwise: str
) -> np.ndarray:
    """Case codes: the case of the first rule whose mask holds, else ``otherwise``."""
    index = {name: i for i, name in enumerate(cases)}
    return np.select(
        [mask for mask, _ in rules], [index[name] for _, name in rules], index[otherwise]
    ).astype(np.int16)
