"""Funnel stages that follow the latent state: reps move a lead as its intent shows.

Every lead starts in ``new`` at its creation. In each segment of constant state the lead
moves one stage up at a rate set by its state and its stage (``ADVANCE``): a rep reaches
most leads within weeks, qualifies the warming and hot ones, and only hot leads get demos,
proposals and negotiations; small deals skip the demo. A hot lead that cools after a
proposal goes back to ``qualified`` now and then (a new decision maker, a budget review).
``won`` and ``lost`` are entered at the outcome. Like activities, stages never act on the
state process: they are evidence, so the oracle does not need them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synthetic.frames import as_str, as_utc
from pipelines.synthetic.process import HOT, LOST, WARMING, WON, Paths
from pipelines.synthetic.seasons import DAY_US
from pipelines.synthetic.segments import Segments

STAGES = ("new", "contacted", "qualified", "demo", "proposal", "negotiation", "won", "lost")
NEW, CONTACTED, QUALIFIED, DEMO, PROPOSAL, NEGOTIATION = range(6)
# fmt: off
ADVANCE = np.array([  # rate per day of one step up from the row's stage; columns: the state
    # cold   warming hot   dormant customer
    [0.06,   0.20,   0.50, 0.01,   0.0],   # new -> contacted: a rep reaches out
    [0.002,  0.03,   0.25, 0.0,    0.0],   # contacted -> qualified
    [0.0,    0.004,  0.15, 0.0,    0.0],   # qualified -> demo (or proposal)
    [0.0,    0.003,  0.12, 0.0,    0.0],   # demo -> proposal
    [0.0,    0.002,  0.10, 0.0,    0.0],   # proposal -> negotiation
    [0.0,    0.0,    0.0,  0.0,    0.0],   # negotiation: the top before an outcome
])
# fmt: on
SKIP_DEMO = 0.15  # small deals go from qualified straight to a proposal
MOVE_BACK = 0.35  # a cooled deal at proposal or later goes back to qualified


def _segments_by_rank(segments: Segments) -> np.ndarray:
    """Each segment's rank within its lead (segments are sorted by lead and start)."""
    first = np.r_[True, segments.lead[1:] != segments.lead[:-1]]
    starts = np.flatnonzero(first)
    return np.arange(len(first)) - np.repeat(starts, np.diff(np.r_[starts, len(first)]))


def draw_stage_changes(
    rng: np.random.Generator, segments: Segments, n_leads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage entries up the funnel (and back) as (lead index, stage code, time in µs)."""
    rank = _segments_by_rank(segments)
    stage = np.zeros(n_leads, dtype=np.int64)
    previous = np.full(n_leads, -1)
    rows = []
    for k in range(int(rank.max()) + 1 if len(rank) else 0):
        seg = np.flatnonzero(rank == k)
        lead, state, t = segments.lead[seg], segments.state[seg], segments.start[seg].copy()
        stop = segments.stop[seg]
        cooled = (previous[lead] == HOT) & (state == WARMING) & (stage[lead] >= PROPOSAL)
        back = cooled & (rng.random(len(seg)) < MOVE_BACK)
        rows.append((lead[back], np.full(back.sum(), QUALIFIED), t[back] + 1))
        stage[lead[back]] = QUALIFIED
        for _ in range(NEGOTIATION):
            rate = ADVANCE[stage[lead], state]
            wait = rng.exponential(1.0, len(lead)) / np.maximum(rate, 1e-12) * DAY_US
            t = t + np.minimum(wait, 1e15).astype(np.int64)
            moves = (rate > 0) & (t < stop)
            step = np.where((stage[lead] == QUALIFIED) & (rng.random(len(lead)) < SKIP_DEMO), 2, 1)
            new = np.minimum(stage[lead] + step, NEGOTIATION)
            rows.append((lead[moves], new[moves], t[moves]))
            stage[lead[moves]] = new[moves]
            lead, state, t, stop = lead[moves], state[moves], t[moves], stop[moves]
        previous[segments.lead[seg]] = segments.state[seg]
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    lead, code, at = (np.concatenate(p) for p in zip(*rows, strict=True))
    return lead, code, at


def build_stage_history(
    rng: np.random.Generator,
    paths: Paths,
    segments: Segments,
    created: np.ndarray,
    lead_ids: pd.api.extensions.ExtensionArray,
) -> pd.DataFrame:
    """The stage history: ``new`` at creation, moves that follow the state, the outcome."""
    n = len(created)
    moved = draw_stage_changes(rng, segments, n)
    exit_row = (paths.state == WON) | (paths.state == LOST)
    outcome = np.where(paths.state[exit_row] == WON, STAGES.index("won"), STAGES.index("lost"))
    lead = np.r_[np.arange(n), moved[0], paths.lead[exit_row]].astype(np.int64)
    code = np.r_[np.zeros(n), moved[1], outcome].astype(np.int64)
    at = np.r_[created, moved[2], paths.entered[exit_row]].astype(np.int64)
    is_exit = np.r_[np.zeros(n + len(moved[0]), bool), np.ones(exit_row.sum(), bool)]
    order = np.lexsort((is_exit, at, lead))
    lead, code, at = lead[order], code[order], at[order]
    # A change that ties with the next one (same µs) is dropped so times stay strictly
    # increasing; the outcome, sorted last, is the one that stays.
    tie = np.r_[(lead[1:] == lead[:-1]) & (at[1:] <= at[:-1]), False]
    keep = ~tie
    return pd.DataFrame(
        {
            "lead_id": lead_ids.take(lead[keep]),
            "stage": as_str(np.array(STAGES, dtype=object)).take(code[keep]),
            "entered_at": as_utc(at[keep]),
        }
    )
