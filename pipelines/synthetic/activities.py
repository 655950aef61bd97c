"""Activities emitted by the latent state: each type at a rate set by the state of its day.

Within a segment of constant state, events of each type form a Poisson process whose rate
is the lead's engagement (a heavy-tailed static trait) times the state's rate for the type
times the calendar curve of the type's channel: marketing e-mail (sent on weekdays), the
web (any day) or sales (business days). Times of day follow the channel's hours in the
lead's zone (:mod:`pipelines.synthetic.seasons`). Nothing here feeds back into the state
process, so the activities are evidence about the state, never a cause of the outcome.

Besides: the form or download that created an inbound lead is logged at ``created_at``;
e-mail stops once the lead unsubscribes or its address bounces; won leads have onboarding
weeks (the ``customer`` row) whose activity a CRM export keeps.

``segment_drivers`` gives segments different signals: partner leads meet (meetings rise
sharply when hot, pricing pages are never looked at), web-form leads buy self-serve
(pricing pages rise sharply, meetings are rare). ``period_shift`` changes what activity
means from the shift on: a product launches whose pricing page buyers compare plans on (hot
leads view it three times as often, cold ones half as often), marketing automation starts
nurturing every lead by e-mail (cold and dormant leads open and click three to four times as
much) and a new SDR team calls the cold leads: volume that used to mark interest no longer
does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synthetic.frames import as_str, as_utc
from pipelines.synthetic.seasons import DAY_US, Calendar, draw_time_of_day
from pipelines.synthetic.segments import Segments
from pipelines.synthetic.vocabulary import SOURCES

# fmt: off
EMISSIONS = {  # activity type: (channel, measure, rate per day when cold, warming, hot, dormant, customer)
    "email_open":        ("email", "",        0.10,   0.22,   0.28,   0.04,   0.30),
    "email_click":       ("email", "",        0.012,  0.05,   0.07,   0.003,  0.05),
    "email_reply":       ("sales", "",        0.002,  0.015,  0.06,   0.0003, 0.05),
    "web_visit":         ("web",   "pages",   0.025,  0.12,   0.20,   0.006,  0.30),
    "pricing_page_view": ("web",   "pages",   0.002,  0.015,  0.06,   0.0005, 0.01),
    "content_download":  ("web",   "",        0.006,  0.025,  0.02,   0.0015, 0.01),
    "webinar_attended":  ("email", "webinar", 0.0015, 0.008,  0.005,  0.0004, 0.01),
    "form_submit":       ("web",   "",        0.003,  0.015,  0.025,  0.0008, 0.01),
    "demo_request":      ("web",   "",        0.0002, 0.003,  0.015,  0.0001, 0.0),
    "meeting":           ("sales", "meeting", 0.0004, 0.005,  0.05,   0.0,    0.10),
    "call":              ("sales", "call",    0.012,  0.025,  0.06,   0.002,  0.08),
    "unsubscribe":       ("email", "",        0.0008, 0.0003, 0.0001, 0.002,  0.0001),
    "email_bounce":      ("email", "",        0.0002, 0.0002, 0.0002, 0.0002, 0.0002),
    "chat_message":      ("web",   "",        0.0002, 0.001,  0.002,  0.0,    0.002),  # not in the contract's list
}
SEGMENT_RATES = {  # source: {type: rates per state} replacing EMISSIONS with segment_drivers
    "partner":  {"meeting":           (0.001, 0.01, 0.15, 0.0, 0.10),
                 "pricing_page_view": (0.0, 0.0, 0.0, 0.0, 0.0)},
    "web_form": {"pricing_page_view": (0.001, 0.02, 0.15, 0.0003, 0.01),
                 "meeting":           (0.0003, 0.001, 0.003, 0.0, 0.05)},
}
SHIFTED_RATES = {  # multipliers after the shift, per state as in EMISSIONS
    "pricing_page_view": (0.5, 1.0, 3.0, 0.5, 1.0),
    "email_open":        (3.0, 1.5, 1.0, 4.0, 1.0),
    "email_click":       (3.0, 1.5, 1.0, 4.0, 1.0),
    "call":              (3.0, 1.5, 1.0, 3.0, 1.0),
}
# fmt: on
CHANNELS = {"email": ("email", "email"), "web": ("web", "web"), "sales": ("sales", "business")}
TYPES = list(EMISSIONS)
EMAIL_TYPES = ("email_open", "email_click", "email_reply")
OPT_OUT_TYPES = ("unsubscribe", "email_bounce")
VALUE_DRAWS = {  # pages viewed or minutes
    "pages": lambda rng, k: rng.geometric(0.4, k),
    "webinar": lambda rng, k: rng.integers(5, 61, k),
    "meeting": lambda rng, k: rng.choice([15, 30, 45, 60], k, p=[0.1, 0.5, 0.15, 0.25]),
    "call": lambda rng, k: np.round(rng.lognormal(np.log(4), 0.9, k), 1),
}
INBOUND = ("web_form", "organic_search", "paid_search", "social")


def emission_table(segment_drivers: bool) -> np.ndarray:
    """Rates of every type, shape (profiles, 5 states incl. customer, types).

    Profile = 2 * segment + period: segment 0 other, 1 partner, 2 web form; period 1
    after the shift.
    """
    base = np.array([row[2:] for row in EMISSIONS.values()], dtype=float).T
    table = np.repeat(base[None], 6, axis=0)
    if segment_drivers:
        for group, source in enumerate(SEGMENT_RATES, start=1):
            for kind, rates in SEGMENT_RATES[source].items():
                table[2 * group : 2 * group + 2, :, TYPES.index(kind)] = rates
    for kind, factors in SHIFTED_RATES.items():
        table[1::2, :, TYPES.index(kind)] *= np.asarray(factors)
    return table


def emission_group(source: np.ndarray) -> np.ndarray:
    """The segment of each lead's (true) source: 0 other, 1 partner, 2 web form."""
    names = list(SOURCES)
    return np.select(
        [source == names.index("partner"), source == names.index("web_form")], [1, 2], 0
    )


def draw_events(
    rng: np.random.Generator,
    segments: Segments,
    lead: dict[str, np.ndarray],
    table: np.ndarray,
    calendar: Calendar,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events of every channel as (lead index, time in µs, type code), unsorted."""
    profile = 2 * lead["group"][segments.lead] + segments.after_shift
    rates = table[profile, segments.state] * lead["engagement"][segments.lead, None]
    first, last = segments.start // DAY_US, (segments.stop - 1) // DAY_US
    parts = []
    for channel, (curve, hours) in CHANNELS.items():
        codes = np.array([i for i, row in enumerate(EMISSIONS.values()) if row[0] == channel])
        # Independent Poisson counts per type: the same law as a channel total split by type.
        count = rng.poisson(rates[:, codes] * calendar.weight(curve, first, last)[:, None])
        seg = np.repeat(np.arange(len(first)), count.sum(axis=1))
        code = np.repeat(np.tile(codes, len(first)), count.ravel())
        day = calendar.draw_days(rng, curve, first[seg], last[seg])
        at = day * DAY_US + draw_time_of_day(rng, lead["offset"][segments.lead[seg]], hours)
        # Counts cover whole days: dropping what falls outside the segment (on its first and
        # last day) thins the process, which stays Poisson.
        inside = (at >= segments.start[seg]) & (at < segments.stop[seg])
        parts.append((segments.lead[seg][inside], at[inside], code[inside]))
    parts.append(_creation_events(rng, lead))
    lead_idx, at, code = (np.concatenate(p) for p in zip(*parts, strict=True))
    return lead_idx, at, code


def _creation_events(
    rng: np.random.Generator, lead: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The form, download or demo request that created each inbound lead."""
    inbound = np.isin(lead["source"], [list(SOURCES).index(s) for s in INBOUND])
    idx = np.flatnonzero(inbound)
    form, download, demo = (
        TYPES.index(t) for t in ("form_submit", "content_download", "demo_request")
    )
    codes = np.where(rng.random(len(idx)) < 0.65, form, download)
    came_hot = (lead["start"][idx] == 2) & (rng.random(len(idx)) < 0.6)  # and asked for a demo
    return idx, lead["created"][idx], np.where(came_hot, demo, codes).astype(np.int64)


def _order_by_lead_and_time(idx: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The stable order by (lead, time): one sort of a packed key when it fits in int64."""
    if not len(at):
        return np.arange(0)
    base, span = at.min(), int(at.max() - at.min()) + 1
    if int(idx.max()) + 1 < np.iinfo(np.int64).max // span:
        return np.argsort(idx * span + (at - base), kind="stable")
    return np.lexsort((at, idx))


def build_activities(
    rng: np.random.Generator,
    events: tuple[np.ndarray, np.ndarray, np.ndarray],
    lead_ids: pd.api.extensions.ExtensionArray,
    n_leads: int,
) -> pd.DataFrame:
    """The activities table, sorted by lead and time; no e-mail after an opt-out."""
    idx, at, code = events
    opt_out = np.isin(code, [TYPES.index(t) for t in OPT_OUT_TYPES])
    first_out = np.full(n_leads, np.iinfo(np.int64).max)
    np.minimum.at(first_out, idx[opt_out], at[opt_out])
    keep = ~(np.isin(code, [TYPES.index(t) for t in EMAIL_TYPES]) & (at > first_out[idx]))
    order = _order_by_lead_and_time(idx[keep], at[keep])
    idx, at, code = idx[keep][order], at[keep][order], code[keep][order]
    value = np.full(len(code), np.nan)
    for c, (_, measure, *_) in enumerate(EMISSIONS.values()):
        if measure:
            value[code == c] = VALUE_DRAWS[measure](rng, int((code == c).sum()))
    return pd.DataFrame(
        {
            "lead_id": lead_ids.take(idx),
            "occurred_at": as_utc(at),
            "type": as_str(np.array(TYPES, dtype=object)).take(code),
            "value": value,
        }
    )
