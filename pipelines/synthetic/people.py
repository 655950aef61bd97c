"""Accounts and the people behind leads: company, title, contact details and BANT answers.

Each lead belongs to an account (company, industry, size, country, owner) shared with
other leads of the same company, and has a person (seniority, title as typed, e-mail, time
zone). An unobserved intent ``z`` drives both the lead's propensity and its BANT answers,
which are noisy and sometimes contradict each other, as form answers do: people click a
timeframe at random, leave a "decision maker" box at its default, or type a placeholder
budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synthetic.vocabulary import (
    COUNTRIES,
    FIRST_NAMES,
    FREE_MAIL,
    INDUSTRIES,
    LAST_NAMES,
    LEVEL_SHARES,
    N_REPS,
    NAME_CORES,
    NAME_PREFIXES,
    NEEDS,
    TITLES,
    column,
    shares,
    words,
)

RANDOM_TIMEFRAME = 0.07  # share of timeframe answers clicked without meaning them
FLIPPED_AUTHORITY = 0.12  # "decision maker" box left at its default or ticked out of pride
PLACEHOLDER_BUDGET = 0.04  # a budget typed as a round big number to get past the form


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def draw_accounts(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Companies: name, web domain, industry, size, revenue, country and account owner."""
    industry = rng.choice(len(INDUSTRIES), n, p=shares(INDUSTRIES))
    country = rng.choice(len(COUNTRIES), n, p=shares(COUNTRIES))
    stem = words(rng, NAME_PREFIXES, n) + words(rng, NAME_CORES, n)
    kind = np.empty(n, dtype=object)
    for i, (*_, names) in enumerate(INDUSTRIES.values()):
        kind[industry == i] = words(rng, names, int((industry == i).sum()))
    legal = np.where(rng.random(n) < 0.6, " " + column(COUNTRIES, 4)[country].astype(object), "")
    domain = stem + np.where(rng.random(n) < 0.3, kind, "")
    employees = np.clip(np.round(rng.lognormal(np.log(60), 1.7, n)), 1, 400_000)
    return {
        "industry": industry,
        "country": country,
        "company": stem + " " + kind + legal,
        "domain": np.char.lower(domain.astype(str)).astype(object) + column(COUNTRIES, 3)[country],
        "employees": employees,
        "revenue": np.round(employees * rng.lognormal(np.log(150_000), 0.5, n), -3),
        "owner": rng.integers(1, N_REPS + 1, n),
    }


def draw_offsets(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Each person's UTC offset in hours, among the zones of the account's country."""
    zones = [text.split() for text in column(COUNTRIES, 5)]
    count = np.array([len(z) for z in zones])
    table = np.array([[float(z[i % len(z)]) for i in range(count.max())] for z in zones])
    return table[country, (rng.random(len(country)) * count[country]).astype(np.int64)]


def draw_person(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """Seniority, title, contacts and the unobserved intent, authority, need and budget."""
    n = len(lead["employees"])
    small = (lead["employees"] < 50)[:, None]
    cumulative = np.cumsum(np.where(small, LEVEL_SHARES["small"], LEVEL_SHARES["large"]), axis=1)
    lead["level"] = (rng.random(n)[:, None] > cumulative[:, :-1]).sum(axis=1)
    lead["intent"] = z = rng.normal(size=n)
    lead["decision_maker"] = rng.random(n) < np.array([t[1] for t in TITLES])[lead["level"]]
    student = lead["level"] == len(TITLES) - 1
    logits = np.c_[1.2 * z - 0.6, np.zeros(n), -1.2 * z - 0.8 + 2.5 * student]
    lead["need_kind"] = np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)
    lead["has_budget"] = rng.random(n) < _sigmoid(0.45 + 0.6 * z)
    lead["title"] = draw_titles(rng, lead["level"])
    draw_contacts(rng, lead)


def draw_answers(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """BANT answers as typed into a form, from the intent and the state the lead came in."""
    n, z, start = len(lead["intent"]), lead["intent"], lead["start"]
    eager = -0.8 * z - 0.9 * (start == 2) - 0.4 * (start == 1) + rng.normal(0, 0.8, n)
    timeframe = np.digitize(eager, [-1.1, -0.3, 0.4, 1.1])
    lead["timeframe"] = np.where(
        rng.random(n) < RANDOM_TIMEFRAME, rng.integers(5, size=n), timeframe
    )
    flipped = rng.random(n) < FLIPPED_AUTHORITY
    lead["declared_dm"] = lead["decision_maker"] ^ flipped
    need = np.empty(n, dtype=object)
    for kind, (_, phrases) in enumerate(NEEDS):
        pick = lead["need_kind"] == kind
        need[pick] = words(rng, phrases, int(pick.sum()), sep="|")
    also = (lead["need_kind"] == 0) & (rng.random(n) < 0.3)
    lead["need"] = np.where(also, need + "; " + words(rng, NEEDS[1][1], n, sep="|"), need)
    budget = np.exp(0.7 * np.log(lead["employees"]) + 7.2 + 0.35 * z + rng.normal(0, 0.6, n))
    magnitude = 10.0 ** (np.floor(np.log10(budget)) - 1)  # people state round figures
    budget = np.round(budget / magnitude) * magnitude
    lead["placeholder"] = placeholder = rng.random(n) < PLACEHOLDER_BUDGET
    lead["budget"] = np.where(placeholder, 10.0 ** rng.integers(5, 7, n), budget)


def _typo(rng: np.random.Generator, text: str) -> str:
    """The text with two neighbouring letters swapped, as hasty typists do."""
    spots = [i for i in range(1, len(text) - 1) if text[i : i + 2].isalpha()]
    i = spots[int(rng.integers(len(spots)))] if spots else 0
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :] if spots else text


def draw_titles(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
    """Job titles as typed: synonyms, a few typos, odd casing and stray spaces."""
    title = np.empty(len(level), dtype=object)
    for lvl, (*_, text) in enumerate(TITLES):
        base = text.split("|")
        typos = [_typo(rng, t) for t in base if len(t) > 3]
        weight = np.r_[np.arange(1, len(base) + 1) ** -0.7, np.full(len(typos), 0.02)]
        pick = level == lvl
        title[pick] = rng.choice(np.array(base + typos), pick.sum(), p=weight / weight.sum())
    s = pd.Series(title, dtype=object)
    noise = rng.choice(6, len(s), p=[0.81, 0.08, 0.02, 0.03, 0.03, 0.03])
    s[noise == 1] = s[noise == 1].str.lower()
    s[noise == 2] = s[noise == 2].str.upper()
    s[noise == 3] = "  " + s[noise == 3]
    s[noise == 4] = s[noise == 4] + " "
    s[noise == 5] = s[noise == 5].str.replace(" ", "  ", n=1)
    return s.to_numpy()


def draw_contacts(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """Fake e-mail addresses (company domain or free-mail) and fake 555 phone numbers."""
    n = len(lead["level"])
    first, last = words(rng, FIRST_NAMES, n), words(rng, LAST_NAMES, n)
    initial = first.astype("<U1").astype(object)
    style = rng.integers(4, size=n)
    local = np.choose(style, [first + "." + last, initial + last, first, first + "_" + last])
    p_free = _sigmoid(-1.4 + 1.8 * (lead["level"] == 5) + 0.8 * (lead["employees"] < 10))
    lead["freemail"] = free = rng.random(n) < p_free
    digits = rng.integers(1, 99, n).astype(str).astype(object)
    local = np.where(free & (rng.random(n) < 0.5), local + digits, local)
    lead["email"] = local + "@" + np.where(free, words(rng, FREE_MAIL, n), lead["domain"])
    dial = column(COUNTRIES, 2)[lead["country"]].astype(object)
    three, four = (rng.integers(10**k, size=n).astype(str) for k in (3, 4))
    lead["phone"] = "+" + dial + " 555 " + np.char.zfill(three, 3) + " " + np.char.zfill(four, 4)
