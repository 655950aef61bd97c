"""The oracle: each open lead's true probability of converting, from its latent state.

Given the state at a midnight ``T`` and the propensity ``q``, nothing observable up to
``T`` tells more about the future (:mod:`pipelines.synthetic.process`). The probability of
a conversion in ``(T, T + horizon]`` is the mass that the day-by-day chain moves into
``won`` over the days ``T .. T + horizon - 1``::

    v_0 = e_state,   p = sum_d v_d . M_d[:, won],   v_{d+1} = v_d . M_d[:, transient]

computed exactly (in floating point), with the same matrices ``M_d`` the simulation drew
from, seasons and a period shift included. No Monte Carlo is involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.features import open_at
from pipelines.synthetic.process import (
    BASE,
    BETA,
    CURVE,
    MOVE_FROM,
    MOVE_TO,
    STATES,
    TRANSIENT,
    WON,
    curve_values,
)
from pipelines.synthetic.seasons import DAY_US

LATENT_COLUMNS = (
    "lead_id",
    "state",
    "entered_at",
    "propensity",
    "propensity_after_shift",
    "shift_at",
)


def utc_midnight(at: pd.Timestamp | str) -> pd.Timestamp:
    """``at`` in UTC (naive: read as UTC); a ValueError unless it is a midnight."""
    ts = pd.Timestamp(at)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts != ts.normalize():
        raise ValueError(f"T must be a UTC midnight (the state changes at midnights), got {ts}")
    return ts


def state_at(latent: pd.DataFrame, lead_ids: pd.Series, at: pd.Timestamp) -> pd.DataFrame:
    """Each lead's latent row in force at ``at`` (the last one entered at or before it).

    Returns:
        Columns of ``latent`` in the order of ``lead_ids``.

    Raises:
        ValueError: If a lead has no latent row at ``at``.
    """
    missing = [c for c in LATENT_COLUMNS if c not in latent.columns]
    if missing:
        raise ValueError(f"latent frame lacks {', '.join(missing)}")
    known = latent[latent["entered_at"] <= at].sort_values(
        ["lead_id", "entered_at"], kind="mergesort"
    )
    current = known.groupby("lead_id", sort=False).tail(1).set_index("lead_id")
    rows = current.reindex(pd.Index(lead_ids.to_numpy(), name="lead_id"))
    if rows["state"].isna().any():
        absent = rows.index[rows["state"].isna()][:5].tolist()
        raise ValueError(f"no latent state at {at} for leads such as {absent}")
    return rows.reset_index()


def conversion_probability(
    state: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    shift_day: int,
    first_day: int,
    horizon_days: int,
) -> np.ndarray:
    """P(won within the days ``first_day .. first_day + horizon_days - 1``) per lead.

    Args:
        state: transient state codes at the midnight starting ``first_day``.
        before, after: the propensity before and from ``shift_day`` on.
        shift_day: day of the period shift (days since the epoch; far ahead for none).
        first_day: the day starting at ``T``.
        horizon_days: the number of days.
    """
    days = np.arange(first_day, first_day + horizon_days)
    curves = curve_values(days)[CURVE[MOVE_FROM, MOVE_TO]]  # (moves, days)
    scale = {  # BASE * exp(BETA * q) of every move, for each propensity, computed once
        period: BASE[MOVE_FROM, MOVE_TO][:, None] * np.exp(BETA[MOVE_FROM, MOVE_TO][:, None] * q)
        for period, q in (("before", before), ("after", after))
    }  # rows are moves, columns leads: each step below is a few contiguous vector operations
    first_move = np.searchsorted(MOVE_FROM, np.arange(TRANSIENT))
    v = np.eye(TRANSIENT)[:, state]  # (4, n): the distribution over transient states
    won = np.zeros(len(state))
    for i, day in enumerate(days):
        rates = scale["before" if day < shift_day else "after"] * curves[:, i, None]
        total = np.add.reduceat(rates, first_move, axis=0)  # H_d per transient state
        stay = np.exp(-total)
        # Mass moved along each edge today: v[from] * (1 - e^-H) * rate / H.
        flow = (v * (1.0 - stay) / total)[MOVE_FROM] * rates
        v = v * stay
        for move, target in enumerate(MOVE_TO):
            if target == WON:
                won += flow[move]
            elif target < TRANSIENT:
                v[target] += flow[move]
    return won


def oracle_T(
    latent: pd.DataFrame, leads: pd.DataFrame, T: pd.Timestamp | str, horizon_days: int = 90
) -> pd.DataFrame:
    """The true P(``converted_at`` in (T, T + horizon]) of every lead open at ``T``.

    Args:
        latent: the ``latent`` frame of :func:`pipelines.synthetic.generate_crm`.
        leads: its ``leads`` table; the open leads are those of
            :func:`pipelines.snapshots.open_at`.
        T: a UTC midnight (a naive timestamp is read as UTC), as snapshot times are.
        horizon_days: the label window in days.

    Returns:
        Columns lead_id, p_true, one row per open lead in the order of ``leads``.

    Raises:
        ValueError: If ``T`` is not a midnight, ``horizon_days`` < 1, or the latent frame
            does not cover the open leads.
    """
    at = utc_midnight(T)
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    ids = leads.loc[open_at(leads, at), "lead_id"].reset_index(drop=True)
    rows = state_at(latent, ids, at)
    state = pd.Categorical(rows["state"].astype(str), categories=STATES).codes
    if (state >= TRANSIENT).any() or (state < 0).any():
        bad = ids[(state >= TRANSIENT) | (state < 0)][:5].tolist()
        raise ValueError(f"leads open at {at} are closed in the latent frame: {bad}")
    shift = rows["shift_at"].dropna()
    shift_day = int(shift.iloc[0].value // 1000 // DAY_US) if len(shift) else np.iinfo(np.int64).max
    p = conversion_probability(
        state.astype(np.int64),
        rows["propensity"].to_numpy(dtype=float),
        rows["propensity_after_shift"].to_numpy(dtype=float),
        shift_day,
        int(at.value // 1000 // DAY_US),
        horizon_days,
    )
    return pd.DataFrame({"lead_id": ids.to_numpy(), "p_true": p})
