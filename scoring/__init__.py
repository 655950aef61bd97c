"""Scoring: the nightly scorer, qualification, explanations, reports and the CLI.

- ``scoring.nightly``: the nightly run, on the embedded or the Spark engine;
- ``scoring.explain``, ``scoring.qualify``, ``scoring.ranking``: what a list row says;
- ``scoring.reports``: ranked lists (CSV/HTML) and the pipeline health report;
- ``scoring.flat``: ranked lists of a flat table;
- ``scoring.cli``: the ``leadscore`` command line.

The names below load on first use, so ``leadscore --help`` does not import the models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoring.config import ScoringConfig
    from scoring.flat import score_flat
    from scoring.nightly import ScoringResult, engine_named, run_scoring
    from scoring.reports import read_lead_scores, render_report

_HOMES = {
    "ScoringConfig": "scoring.config",
    "ScoringResult": "scoring.nightly",
    "engine_named": "scoring.nightly",
    "read_lead_scores": "scoring.reports",
    "render_report": "scoring.reports",
    "run_scoring": "scoring.nightly",
    "score_flat": "scoring.flat",
}
__all__ = [
    "ScoringConfig",
    "ScoringResult",
    "engine_named",
    "read_lead_scores",
    "render_report",
    "run_scoring",
    "score_flat",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'scoring' has no attribute {name!r}")
