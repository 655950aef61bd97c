"""A synthetic CRM with a known truth, following ``data-contract.md``.

Every lead's outcome and behaviour come from one latent state process
(:mod:`pipelines.synthetic.process`): a static propensity (fit, BANT, source, owner,
unobserved intent; :mod:`~pipelines.synthetic.propensity`) and a daily intent state (cold,
warming, hot, dormant) that moves by calendar-dependent rates and leaves through won or
lost. Activities (:mod:`~pipelines.synthetic.activities`) and stage changes
(:mod:`~pipelines.synthetic.stages`) are emitted by the state of their day, so the
future depends on what is observable only through the state: the oracle
(:func:`pipelines.synthetic.oracle_T`) computes each open lead's true conversion
probability. Outcomes after ``end`` are censored, as in a CRM export.

Leads are simulated in chunks of ``CHUNK_LEADS`` with one random stream each (spawned from
the seed), so memory stays bounded and the output depends only on the arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synthetic import activities, frames, people, process, propensity, stages
from pipelines.synthetic.seasons import DAY_US, Calendar, draw_time_of_day
from pipelines.synthetic.segments import cut_segments
from pipelines.synthetic.vocabulary import SOURCES, shares

DEFAULT_END = pd.Timestamp("2026-11-01", tz="UTC")
CHUNK_LEADS = 100_000
ACCOUNTS_PER_LEAD = 0.45
GROWTH = 0.6  # lead volume grows 60% over the history
NEVER = np.iinfo(np.int64).max // 2
INBOUND = [list(SOURCES).index(s) for s in activities.INBOUND]


def _draw_created(
    rng: np.random.Generator, source: np.ndarray, offsets: np.ndarray, calendar: Calendar,
    end_us: int, days: int,
) -> np.ndarray:  # fmt: skip
    """Creation times in ``[end - days, end)``: growing volume, weekdays, business hours.

    Inbound leads arrive when people browse (the web's hours); the others are entered by
    reps or imported from lists during office hours.
    """
    n, first = len(source), (end_us - days * DAY_US) // DAY_US
    last = (end_us - 1) // DAY_US
    span = np.arange(first, last + 1)
    weight = (1 + GROWTH * (span - first) / max(len(span) - 1, 1)) * calendar.at("creation", span)
    cumulative = np.cumsum(weight) / weight.sum()
    day = first + np.searchsorted(cumulative, rng.random(n), side="right")
    inbound = np.isin(source, INBOUND)
    tod = np.where(
        inbound,
        draw_time_of_day(rng, offsets, "web"),
        draw_time_of_day(rng, offsets, "business"),
    )
    at = np.minimum(day, last) * DAY_US + tod
    low = end_us - days * DAY_US
    return np.clip(at, low, end_us - 1)


def _global_draws(
    rng: np.random.Generator, n: int, end_us: int, days: int, calendar: Calendar
) -> dict[str, np.ndarray]:
    """What spans chunks: accounts, each lead's account, source, zone and creation time."""
    accounts = people.draw_accounts(rng, max(1, int(ACCOUNTS_PER_LEAD * n)))
    popularity = rng.lognormal(0.0, 1.0, len(accounts["owner"]))  # some accounts send many leads
    account = rng.choice(len(popularity), n, p=popularity / popularity.sum())
    source = rng.choice(len(SOURCES), n, p=shares(SOURCES))
    offsets = people.draw_offsets(rng, accounts["country"][account])
    created = _draw_created(rng, source, offsets, calendar, end_us, days)
    order = np.argsort(created, kind="stable")  # lead ids follow creation
    lead = {key: values[account[order]] for key, values in accounts.items()}
    lead |= {"source": source[order], "offset": offsets[order], "created": created[order]}
    lead["rep_skill"] = propensity.draw_rep_skill(rng)
    return lead


@dataclass(frozen=True)
class _Options:
    end_us: int
    shift_us: int | None
    calendar: Calendar
    fill_on_close: tuple[str, ...]
    segment_drivers: bool
    with_latent: bool


def _deal_values(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> np.ndarray:
    """What a won deal is worth: company size, pulled towards an honestly stated budget."""
    n = len(lead["employees"])
    deal = np.exp(np.log(1200) + 0.55 * np.log(lead["employees"]) + rng.normal(0, 0.5, n))
    stated = lead["budget"] * rng.uniform(0.6, 1.2, n)
    honest = lead["has_budget"] & ~lead["placeholder"]
    return np.round(np.where(honest, np.sqrt(deal * stated), deal), -1)


def _draw_traits(
    rng: np.random.Generator, lead: dict[str, np.ndarray], options: _Options
) -> process.Propensity:
    """Everything static about each lead, in ``lead``; returns its propensity."""
    people.draw_person(rng, lead)
    before, after = propensity.static_propensity(
        rng, lead, lead.pop("rep_skill"), options.segment_drivers
    )
    lead["start"] = propensity.draw_start(rng, lead)
    people.draw_answers(rng, lead)
    lead["deal"] = _deal_values(rng, lead)
    lead["engagement"] = rng.lognormal(-0.32, 0.8, len(before))  # mean 1, heavy tail
    lead["group"] = activities.emission_group(lead["source"]) * options.segment_drivers
    if options.shift_us is None:
        return process.Propensity(before, before, NEVER)
    return process.Propensity(before, after, options.shift_us // DAY_US)


def _simulate_chunk(
    rng: np.random.Generator, lead: dict[str, np.ndarray], first_id: int, options: _Options
) -> dict[str, pd.DataFrame]:
    """The contract tables (and the latent frame) of one chunk of leads."""
    q = _draw_traits(rng, lead, options)
    paths = process.simulate_paths(
        rng, q, lead["start"], lead["created"], lead["offset"], options.end_us, options.calendar
    )
    n = len(q.before)
    for key, state in (("won_at", process.WON), ("lost_at", process.LOST)):
        lead[key] = np.full(n, NEVER)
        lead[key][paths.lead[paths.state == state]] = paths.entered[paths.state == state]
    ids = frames.lead_ids(first_id, n)
    closed = (lead["won_at"] < options.end_us) | (lead["lost_at"] < options.end_us)
    gaps = frames.draw_gaps(rng, lead, closed, options.fill_on_close)
    segments = cut_segments(paths, options.end_us, options.shift_us)
    table = activities.emission_table(options.segment_drivers)
    events = activities.draw_events(rng, segments, lead, table, options.calendar)
    out = {
        "leads": frames.leads_frame(lead, ids, gaps, options.end_us),
        "activities": activities.build_activities(rng, events, ids, n),
        "stage_history": stages.build_stage_history(rng, paths, segments, lead["created"], ids),
    }
    if options.with_latent:
        out["latent"] = frames.latent_frame(paths, ids, q.before, q.after, options.shift_us)
    return out


def _end_us(end: pd.Timestamp | str) -> int:
    ts = pd.Timestamp(end)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1000)


def _check_fill_on_close(fill_on_close: Sequence[str]) -> tuple[str, ...]:
    names = (fill_on_close,) if isinstance(fill_on_close, str) else tuple(fill_on_close)
    unknown = sorted(set(names) - set(frames.FIELDS))
    if unknown:
        raise ValueError(
            f"fill_on_close: {', '.join(unknown)} cannot be filled on close; "
            f"choose among {', '.join(frames.FIELDS)}"
        )
    return names


def generate_crm(
    n_leads: int,
    seed: int = 0,
    end: pd.Timestamp | str = DEFAULT_END,
    history_days: int = 730,
    *,
    with_latent: bool = False,
    fill_on_close: Sequence[str] = (),
    period_shift: bool = False,
    segment_drivers: bool = False,
) -> dict[str, pd.DataFrame]:
    """Generate a synthetic CRM: leads, their activities and their stage history.

    Args:
        n_leads: Number of leads, created over ``[end - history_days, end)``.
        seed: Seed of the random streams; the same arguments give identical frames.
        end: Export time; nothing is known at or after it. A naive timestamp is read as UTC.
        history_days: Length of the creation window in days (270 gives a 9-month export).
        with_latent: Also return ``latent``, the truth behind the data (one row per
            latent state entered, with each lead's propensity), for
            :func:`pipelines.synthetic.oracle_T`. Not part of the data contract; it does
            not change the other tables.
        fill_on_close: Leads columns (e.g. ``("industry", "employees", "annual_revenue")``)
            that the CRM fills when a deal closes: present for every lead won or lost by
            ``end``, for only a third of the open ones. A planted leak: at a past
            snapshot, a filled field marks a lead that closed before the export.
        period_shift: The drivers change at the midpoint of the history (at midnight):
            paid search, referrals and outbound change strength, a product for
            manufacturing and logistics lifts those industries and makes pricing-page
            views a stronger sign of a hot lead, and e-mail nurturing and an SDR team
            bring opens, clicks and calls to cold leads. A model trained on the early
            period recovers less of the oracle's ranking later (AUC 0.78 against 0.84
            unshifted, 20,000 leads over three years).
        segment_drivers: Segments differ in what drives and signals conversion: partner
            leads show it in meetings (their fit is vetted by the partner), web-form leads
            in pricing-page views (seniority matters less to a self-serve buyer).

    Returns:
        ``{"leads", "activities", "stage_history"}`` following the data contract, and
        ``"latent"`` when ``with_latent``.

    Raises:
        ValueError: If ``n_leads`` or ``history_days`` is less than 1, or
            ``fill_on_close`` names a column without gaps to fill.
    """
    if n_leads < 1 or history_days < 1:
        raise ValueError(f"need n_leads >= 1 and history_days >= 1, got {n_leads}, {history_days}")
    end_us = _end_us(end)
    start_day = (end_us - history_days * DAY_US) // DAY_US
    shift_us = (start_day + history_days // 2) * DAY_US if period_shift else None
    calendar = Calendar(start_day, (end_us - 1) // DAY_US)
    options = _Options(
        end_us, shift_us, calendar, _check_fill_on_close(fill_on_close), segment_drivers,
        with_latent,
    )  # fmt: skip
    n_chunks = -(-n_leads // CHUNK_LEADS)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(1 + n_chunks)]
    everyone = _global_draws(streams[0], n_leads, end_us, history_days, calendar)
    parts = []
    for chunk, first in enumerate(range(0, n_leads, CHUNK_LEADS)):
        rows = slice(first, min(first + CHUNK_LEADS, n_leads))
        lead = {k: v if k == "rep_skill" else v[rows] for k, v in everyone.items()}
        parts.append(_simulate_chunk(streams[1 + chunk], lead, first, options))
    return {
        table: pd.concat([p[table] for p in parts], ignore_index=True) if len(parts) > 1
        else parts[0][table]
        for table in parts[0]
    }  # fmt: skip
