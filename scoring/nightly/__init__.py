"""The nightly run: every open lead scored, explained, ranked and written safely.

``engine_named("embedded" | "spark")`` gives the engine; both write the same list.
"""

from scoring.nightly.embedded import Progress, run_scoring, score_open_leads
from scoring.nightly.engines import ENGINES, EmbeddedEngine, Engine, SparkEngine, engine_named
from scoring.nightly.rows import ScoringResult, score_chunk

__all__ = [
    "ENGINES",
    "EmbeddedEngine",
    "Engine",
    "Progress",
    "ScoringResult",
    "SparkEngine",
    "engine_named",
    "run_scoring",
    "score_chunk",
    "score_open_leads",
]
