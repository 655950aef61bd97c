"""The latent state process and its calendar: the matrices, the simulation, the seasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.synthetic.oracle import conversion_probability
from pipelines.synthetic.process import (
    COLD,
    DORMANT,
    HOT,
    TRANSIENT,
    WARMING,
    WON,
    Propensity,
    curve_values,
    simulate_paths,
    transition_matrices,
)
from pipelines.synthetic.seasons import DAY_US, Calendar, calendar_curves, draw_time_of_day

START_DAY = int(np.datetime64("2026-02-16", "D").astype(np.int64))  # a Monday
REPLICATES = 200_000
# The Monte Carlo check below compares a frequency over REPLICATES paths with the exact
# probability: its standard error is sqrt(p (1 - p) / REPLICATES), at most 0.0011, and a
# correct simulation lands within 4.5 of them but once in ~150,000 runs.
Z_LIMIT = 4.5


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def test_transition_matrices_are_stochastic() -> None:
    q = np.array([-4.0, -1.0, 0.0, 1.5, 4.0])
    for day in (START_DAY, _day("2026-03-28"), _day("2026-08-10"), _day("2026-12-24")):
        m = transition_matrices(q, curve_values(np.array([day]))[:, 0])
        assert m.shape == (5, TRANSIENT, 6)
        assert (m >= 0).all()
        np.testing.assert_allclose(m.sum(axis=2), 1.0, atol=1e-12)
    m = transition_matrices(q, curve_values(np.array([START_DAY]))[:, 0])
    assert (np.diff(m[:, HOT, WON]) > 0).all()  # a higher propensity closes faster
    assert m[0, DORMANT, WON] == m[0, COLD, WON] == 0  # only hot leads sign


@pytest.mark.parametrize(
    ("state", "q"), [(HOT, 1.0), (WARMING, 0.0), (DORMANT, 2.0), (COLD, -1.0), (HOT, -0.5)]
)
def test_simulated_paths_convert_as_often_as_the_oracle_says(state: int, q: float) -> None:
    """Monte Carlo: leads started in one state at a midnight, with a period shift after
    40 days, convert within 90 days as often as the oracle's exact probability."""
    horizon, shift_day = 90, START_DAY + 40
    before, after = np.full(REPLICATES, q), np.full(REPLICATES, q + 0.5)
    calendar = Calendar(START_DAY, START_DAY + horizon)
    paths = simulate_paths(
        np.random.default_rng([state, int(10 * q) + 100]),
        Propensity(before, after, shift_day),
        np.full(REPLICATES, state),
        np.full(REPLICATES, START_DAY * DAY_US),
        np.zeros(REPLICATES),
        (START_DAY + horizon) * DAY_US,
        calendar,
    )
    frequency = np.isin(np.arange(REPLICATES), paths.lead[paths.state == WON]).mean()
    exact = conversion_probability(
        np.array([state]), np.array([q]), np.array([q + 0.5]), shift_day, START_DAY, horizon
    )[0]
    error = np.sqrt(exact * (1 - exact) / REPLICATES)
    assert abs(frequency - exact) < Z_LIMIT * error, (frequency, exact, error)


def test_paths_start_at_creation_and_change_at_midnights() -> None:
    n = 2000
    created = START_DAY * DAY_US + np.random.default_rng(0).integers(0, 30 * DAY_US, n)
    end = (START_DAY + 200) * DAY_US
    paths = simulate_paths(
        np.random.default_rng(1),
        Propensity(np.zeros(n), np.zeros(n), 10**9),
        np.zeros(n, dtype=np.int64),
        created,
        np.zeros(n),
        end,
        Calendar(START_DAY, START_DAY + 200),
    )
    first = np.r_[True, paths.lead[1:] != paths.lead[:-1]]
    assert (paths.entered[first] == created[paths.lead[first]]).all()
    moves = ~first & (paths.state < TRANSIENT)
    assert (paths.entered[moves] % DAY_US == 0).all()
    exits = paths.state >= TRANSIENT
    assert (paths.entered[exits] > created[paths.lead[exits]]).all()
    assert (paths.entered < end).all()
    assert not (np.r_[exits[:-1] & ~first[1:], False]).any()  # nothing after an exit


def test_calendar_curves_on_known_dates() -> None:
    days = np.array([_day(d) for d in ("2026-03-20", "2026-03-21", "2026-03-02", "2026-08-12",
                                       "2025-12-24", "2026-01-15", "2026-06-09", "2026-06-10")])  # fmt: skip
    curves = calendar_curves(days)
    np.testing.assert_allclose(curves["closing"][:3], [1.7, 1.7 * 0.12, 1.0])  # Fri, Sat, early
    assert curves["buying"][3] == 0.7 and curves["buying"][4] == 0.45  # August, year end
    assert curves["buying"][5] == 1.2  # new budgets in January
    assert curves["closing"][6] == 1.0 and curves["closing"][7] == 1.7  # June 10 opens Q2's end
    assert curves["sales"][1] < 0.05 and curves["web"][1] > 0.5


def test_times_of_day_follow_local_business_hours() -> None:
    rng = np.random.default_rng(3)
    offsets = np.repeat([-5.0, 1.0, 10.0], 20_000)
    utc = draw_time_of_day(rng, offsets, "business")
    assert ((utc >= 0) & (utc < DAY_US)).all()
    local_hour = ((utc / 3.6e9 + offsets) % 24).astype(int)
    assert ((local_hour >= 8) & (local_hour < 18)).mean() > 0.85
    assert pd.Series(utc[offsets == 10.0] / 3.6e9).median() < 12  # Sydney works in UTC's night


def test_oracle_propagation_equals_the_day_matrices() -> None:
    """The oracle's edge-by-edge loop is v_{d+1} = v_d M_d, the won column summed."""
    rng = np.random.default_rng(5)
    n, horizon, shift_day = 50, 120, START_DAY + 30
    state, before = rng.integers(TRANSIENT, size=n), rng.normal(0, 1.5, n)
    after = before + rng.normal(0, 1, n)
    v, won = np.eye(TRANSIENT)[state], np.zeros(n)
    for day in range(START_DAY, START_DAY + horizon):
        q = before if day < shift_day else after
        m = transition_matrices(q, curve_values(np.array([day]))[:, 0])
        won += np.einsum("ns,ns->n", v, m[:, :, WON])
        v = np.einsum("ns,nsj->nj", v, m[:, :, :TRANSIENT])
    fast = conversion_probability(state, before, after, shift_day, START_DAY, horizon)
    np.testing.assert_allclose(fast, won, rtol=1e-10, atol=1e-14)
