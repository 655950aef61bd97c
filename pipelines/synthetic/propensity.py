"""A lead's static propensity ``q`` and the state it is created in.

``q`` adds up log-rate shifts (see :mod:`pipelines.synthetic.process` for how it acts):

* fit: source, industry, country, and company size with a sweet spot at mid-market
  (about 300 employees): very large companies buy slower (procurement, committees) and
  very small ones rarely need the product, so size is not monotone;
* authority: seniority of the title and whether the person truly decides;
* need and budget as they truly are (the answers in the form are noisy copies);
* a free-mail address (less serious), the owner's skill, the unobserved intent and noise.

With ``segment_drivers`` the drivers differ by segment: a partner vets the fit before it
refers a lead, so industry and size count half for partner leads; web-form leads start
self-serve trials that anyone can run, so seniority counts half for them. With
``period_shift`` some drivers change from a date on (``SHIFTED_SOURCES``,
``SHIFTED_INDUSTRIES``): each lead then has a second ``q`` for the days after it.
"""

from __future__ import annotations

import numpy as np

from pipelines.synthetic.vocabulary import (
    COUNTRIES,
    INDUSTRIES,
    N_REPS,
    NEEDS,
    SHIFTED_INDUSTRIES,
    SHIFTED_SOURCES,
    SOURCES,
    TITLES,
    column,
)

SWEET_SPOT_EMPLOYEES = 300
# Log-odds lost per squared log-unit below and above the sweet spot: past it, procurement
# and buying committees slow large companies down more than want of need slows small ones.
SIZE_CURVATURE = (0.06, 0.12)
BUDGET_LOG_ODDS, FREE_MAIL_LOG_ODDS, AUTHORITY_LOG_ODDS = 0.3, -0.6, 0.4
INTENT_LOG_ODDS, NOISE_SD, REP_SKILL_SD = 0.8, 0.5, 0.25
PARTNER, WEB_FORM = list(SOURCES).index("partner"), list(SOURCES).index("web_form")


def _shifted(table: dict, shifted: dict[str, float]) -> np.ndarray:
    effects = column(table, 1).astype(float)
    for name, value in shifted.items():
        effects[list(table).index(name)] = value
    return effects


def static_propensity(
    rng: np.random.Generator,
    lead: dict[str, np.ndarray],
    rep_skill: np.ndarray,
    segment_drivers: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``q`` before and after a period shift (the same arrays drive both when none happens)."""
    n = len(lead["intent"])
    fit_weight = np.where(segment_drivers & (lead["source"] == PARTNER), 0.5, 1.0)
    authority_weight = np.where(segment_drivers & (lead["source"] == WEB_FORM), 0.5, 1.0)
    distance = np.log(lead["employees"]) - np.log(SWEET_SPOT_EMPLOYEES)
    size = -np.where(distance < 0, SIZE_CURVATURE[0], SIZE_CURVATURE[1]) * distance**2
    industry = column(INDUSTRIES, 1).astype(float)[lead["industry"]]
    authority = np.array([t[0] for t in TITLES])[lead["level"]]
    authority = authority + AUTHORITY_LOG_ODDS * lead["decision_maker"]
    common = (
        column(COUNTRIES, 1).astype(float)[lead["country"]]
        + authority_weight * authority
        + np.array([k[0] for k in NEEDS])[lead["need_kind"]]
        + BUDGET_LOG_ODDS * lead["has_budget"]
        + FREE_MAIL_LOG_ODDS * lead["freemail"]
        + rep_skill[lead["owner"]]
        + INTENT_LOG_ODDS * lead["intent"]
        + rng.normal(0, NOISE_SD, n)
        + fit_weight * size
    )
    source = column(SOURCES, 1).astype(float)
    before = common + source[lead["source"]] + fit_weight * industry
    after = (
        common
        + _shifted(SOURCES, SHIFTED_SOURCES)[lead["source"]]
        + fit_weight * _shifted(INDUSTRIES, SHIFTED_INDUSTRIES)[lead["industry"]]
    )
    return before, after


def draw_rep_skill(rng: np.random.Generator) -> np.ndarray:
    """Each owner's skill as a log-odds shift (index 0 unused: owners are 1..N_REPS)."""
    return rng.normal(0, REP_SKILL_SD, N_REPS + 1)


def draw_start(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> np.ndarray:
    """The state a lead is created in: cold, warming or hot (a demo request comes in hot)."""
    n, z = len(lead["intent"]), lead["intent"]
    warming = column(SOURCES, 2).astype(float)[lead["source"]]
    hot = column(SOURCES, 3).astype(float)[lead["source"]]
    logits = np.c_[np.zeros(n), -1.0 + 0.9 * z + warming, -2.8 + 1.1 * z + hot]
    return np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)
