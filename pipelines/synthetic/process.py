"""The latent state process: each lead's buying intent as a Markov chain on UTC days.

A lead is in one of four transient states, **cold**, **warming**, **hot** and **dormant**,
or has left through one of two absorbing exits, **won** and **lost**. Its state is constant
over a UTC day; at the end of day ``d`` it moves from state ``s`` to ``j`` with the
probability of the day's matrix ``M_d``::

    R_d[s, j] = BASE[s, j] * exp(BETA[s, j] * q_d) * curve_{CURVE[s, j]}(d)
    H_d[s]    = sum_j R_d[s, j]
    M_d[s, s] = exp(-H_d[s]),  M_d[s, j] = (1 - exp(-H_d[s])) * R_d[s, j] / H_d[s]

``q_d`` is the lead's static propensity (fit, BANT, source, owner, unobserved intent),
which ``period_shift`` may replace from a date on; the curves are the calendar's
(:mod:`pipelines.synthetic.seasons`). An exit at the end of day ``d`` happens during day
``d`` (its time follows business hours), and a move between transient states takes effect
at midnight. Activities and stage changes are emitted by the state of their day and by
static traits only, so what is observable up to a midnight ``T`` says nothing about the
future beyond the state at ``T`` and ``q``: :mod:`pipelines.synthetic.oracle` propagates
``M_d`` from the state at ``T`` and gets the exact conversion probability.

The simulation draws each lead's path by thinning: candidate days come from a geometric
clock at an upper bound of the daily exit probability, and a candidate is accepted with the
ratio of the day's probability to the bound. Every day thus sees an exit with exactly the
probability ``1 - exp(-H_d[s])``, the destination being drawn from ``R_d[s, :]``; the work
is a few candidates per state visited, not one step per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic.seasons import DAY_US, Calendar, calendar_curves, draw_time_of_day

STATES = ("cold", "warming", "hot", "dormant", "won", "lost")
COLD, WARMING, HOT, DORMANT, WON, LOST = range(6)
TRANSIENT = 4
# fmt: off
TRANSITIONS = {  # (from, to): (rate per day at q = 0, slope on q, calendar curve)
    (COLD, WARMING):    (0.004,  0.4, "buying"),    # intent forms: a project, a pain
    (COLD, DORMANT):    (0.012, -0.2, "flat"),      # stops reading: goes silent
    (COLD, LOST):       (0.006, -0.4, "dropping"),  # disqualified: junk leads go fast
    (WARMING, HOT):     (0.014,  0.35, "buying"),    # evaluates actively
    (WARMING, COLD):    (0.040, -0.25, "flat"),      # the project is shelved
    (WARMING, LOST):    (0.004, -0.4, "dropping"),
    (HOT, WON):         (0.014,  0.35, "closing"),   # signs: weekdays, quarter ends
    (HOT, WARMING):     (0.035, -0.25, "flat"),      # stalls: budget review, new champion
    (HOT, LOST):        (0.012, -0.4, "dropping"),  # chose a competitor
    (DORMANT, WARMING): (0.004,  0.3, "buying"),    # silent, then back: re-engaged
    (DORMANT, LOST):    (0.003,  0.0, "dropping"),  # a rep closes out the silent lead
}
# fmt: on
CURVE_NAMES = ("flat", "buying", "closing", "dropping")
BASE = np.zeros((TRANSIENT, len(STATES)))
BETA = np.zeros((TRANSIENT, len(STATES)))
CURVE = np.zeros((TRANSIENT, len(STATES)), dtype=np.int64)
for (_from, _to), (_base, _beta, _curve) in TRANSITIONS.items():
    BASE[_from, _to], BETA[_from, _to], CURVE[_from, _to] = _base, _beta, CURVE_NAMES.index(_curve)
# The possible moves as flat arrays sorted by the state they leave (the oracle's loop).
MOVE_FROM, MOVE_TO = np.array(sorted(TRANSITIONS)).T


@dataclass(frozen=True)
class Propensity:
    """A lead's static propensity ``q``, replaced by ``after`` from ``shift_day`` on."""

    before: np.ndarray
    after: np.ndarray
    shift_day: int  # days since the epoch; far in the future when nothing shifts

    def on(self, lead: np.ndarray, day: np.ndarray) -> np.ndarray:
        """``q`` of each ``lead`` (index) on each ``day``."""
        return np.where(day < self.shift_day, self.before[lead], self.after[lead])


def curve_values(days: np.ndarray) -> np.ndarray:
    """The rate curves on each day, shape (len(CURVE_NAMES), len(days))."""
    curves = calendar_curves(np.asarray(days, dtype=np.int64))
    return np.stack([curves[name] for name in CURVE_NAMES])


def transition_matrices(q: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Each lead's ``M_d`` for one day: rows the transient states, columns all states.

    Args:
        q: the leads' propensity on that day, shape (n,).
        curves: :func:`curve_values` of that day, shape (len(CURVE_NAMES),).

    Returns:
        Shape (n, 4, 6); every row sums to 1.
    """
    rates = BASE * np.exp(BETA * q[:, None, None]) * curves[CURVE]
    total = rates.sum(axis=2, keepdims=True)
    stay = np.exp(-total)
    matrices = (1.0 - stay) * rates / total
    matrices[:, np.arange(TRANSIENT), np.arange(TRANSIENT)] = stay[:, :, 0]
    return matrices


def _exit_bounds(propensity: Propensity, calendar: Calendar) -> np.ndarray:
    """Per lead and transient state, an upper bound of the daily exit probability."""
    high = np.maximum(propensity.before, propensity.after)
    low = np.minimum(propensity.before, propensity.after)
    total = np.zeros((len(high), TRANSIENT))
    for (source, _), (base, beta, curve) in TRANSITIONS.items():
        peak = calendar.curves[curve].max()
        total[:, source] += base * peak * np.exp(beta * (high if beta > 0 else low))
    return -np.expm1(-total)


@dataclass
class Paths:
    """State paths as rows (lead index, state, time entered in µs), sorted by lead and time."""

    lead: np.ndarray
    state: np.ndarray
    entered: np.ndarray


def simulate_paths(
    rng: np.random.Generator,
    propensity: Propensity,
    start: np.ndarray,
    created: np.ndarray,
    offsets: np.ndarray,
    end_us: int,
    calendar: Calendar,
) -> Paths:
    """Draws each lead's path from its creation to its exit or ``end_us``.

    Args:
        rng: the random stream.
        propensity: every lead's ``q``.
        start: the state each lead is created in (a transient state).
        created: creation times in µs since the epoch.
        offsets: each lead's UTC offset in hours (exit times follow its business hours).
        end_us: the export time; nothing at or after it is recorded.
        calendar: the curves over every day from the first creation to ``end_us``.

    Returns:
        The path rows: the start state at ``created``, each later state at the midnight it
        took effect, and an exit at its time of day. Rows at or after ``end_us`` are left out.
    """
    bounds = _exit_bounds(propensity, calendar)
    last_day = (end_us - 1) // DAY_US
    lead, state = np.arange(len(start)), start.astype(np.int64)
    day = created // DAY_US
    rows = [(lead, state, created)]
    while len(lead):
        # The next day the bound's clock rings (today included); later days are unseen.
        bound = bounds[lead, state]
        candidate = day + rng.geometric(bound) - 1
        keep = candidate <= last_day
        lead, state, candidate, bound = lead[keep], state[keep], candidate[keep], bound[keep]
        moves, target = _thin(rng, propensity, calendar, lead, state, candidate, bound)
        absorbed = moves & (target >= TRANSIENT)
        if absorbed.any():
            at = _exit_times(
                rng, candidate[absorbed], created[lead[absorbed]], offsets[lead[absorbed]]
            )
            rows.append((lead[absorbed], target[absorbed], at))
        shifted = moves & ~absorbed
        midnight = (candidate + 1) * DAY_US
        rows.append((lead[shifted], target[shifted], midnight[shifted]))
        state = np.where(shifted, target, state)
        going = ~absorbed & (midnight < end_us)
        lead, state, day = lead[going], state[going], candidate[going] + 1
    out = Paths(*(np.concatenate(part) for part in zip(*rows, strict=True)))
    known = out.entered < end_us
    order = np.lexsort((out.entered[known], out.lead[known]))
    return Paths(out.lead[known][order], out.state[known][order], out.entered[known][order])


def _thin(
    rng: np.random.Generator,
    propensity: Propensity,
    calendar: Calendar,
    lead: np.ndarray,
    state: np.ndarray,
    day: np.ndarray,
    bound: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each candidate day ends with a move, and to which state.

    A candidate is kept with probability ``(1 - exp(-H_d)) / bound``, so that each day sees
    a move with exactly ``1 - exp(-H_d)``; the target is drawn from the day's rates.
    """
    q = propensity.on(lead, day)
    rates = BASE[state] * np.exp(BETA[state] * q[:, None])
    for curve, name in enumerate(CURVE_NAMES):
        rates *= np.where(CURVE[state] == curve, calendar.at(name, day)[:, None], 1.0)
    total = rates.sum(axis=1)
    moves = rng.random(len(lead)) * bound < -np.expm1(-total)
    pick = rng.random(len(lead)) * total
    target = (pick[:, None] >= np.cumsum(rates, axis=1)).sum(axis=1)
    return moves, np.minimum(target, len(STATES) - 1)


def _exit_times(
    rng: np.random.Generator, day: np.ndarray, created: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """An exit's time within its day: business hours, and after the creation on that day."""
    midnight = day * DAY_US
    at = midnight + np.maximum(draw_time_of_day(rng, offsets, "business"), 1)  # never a midnight
    early = at <= created
    remaining = midnight[early] + DAY_US - created[early] - 1
    at[early] = created[early] + 1 + (rng.random(int(early.sum())) * remaining).astype(np.int64)
    return at
