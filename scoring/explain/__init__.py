"""Why a lead scores as it does: contributions per business signal, phrased for a rep.

``contributions`` and ``family_scores`` attribute the score (TreeSHAP); ``top_reasons``
turns the strongest signals into sentences whose words agree with their sign, by the
tables of ``ReasonSettings`` (``reasons:`` in ``configs/scoring.yaml``).
"""

from scoring.explain.attribution import (
    contributions,
    family_of,
    family_scores,
    signal_of,
    signal_sums,
)
from scoring.explain.cases import SignalSpec, needs, select
from scoring.explain.columns import Columns, RowView, column_arrays
from scoring.explain.reasons import phrase, signed_reasons, top_reasons
from scoring.explain.settings import FlatPhrases, Phrase, ReasonSettings

__all__ = [
    "Columns",
    "FlatPhrases",
    "Phrase",
    "ReasonSettings",
    "RowView",
    "SignalSpec",
    "column_arrays",
    "contributions",
    "family_of",
    "family_scores",
    "needs",
    "phrase",
    "select",
    "signal_of",
    "signal_sums",
    "signed_reasons",
    "top_reasons",
]
