"""A synthetic CRM for demos and tests, following ``data-contract.md``.

The data follow a small causal story rather than independent noise. Each lead
belongs to an account (company, industry, size, country) and has a person
(title, seniority, e-mail) and BANT answers driven by an unobserved buying
intent. A latent propensity (source, fit, authority, budget, need, timing,
intent, the owner's skill and noise) sets a cure-type conversion hazard: the
share of leads that ever convert and how fast. The same propensity shapes the
engagement a lead shows and how far it gets in the funnel. Outcomes after
``end`` are censored, so recent leads look open exactly as they would in a CRM
export. Everything is vectorised numpy and deterministic per seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

DEFAULT_END = pd.Timestamp("2026-11-01", tz="UTC")
DAY_US = 86_400_000_000
NEVER = np.iinfo(np.int64).max // 2  # latent "no such event"; far beyond any end
NAT = np.iinfo(np.int64).min  # int64 view of NaT

# fmt: off
# Vocabularies. Shares are normalised where drawn; log-odds shift the conversion propensity.
SOURCES = {  # name: (share, log-odds)
    "web_form": (0.22, 0.3), "organic_search": (0.18, 0.1), "paid_search": (0.15, -0.2),
    "social": (0.10, -0.6), "referral": (0.07, 0.9), "event": (0.08, 0.2),
    "outbound": (0.14, -0.5), "partner": (0.06, 0.6),
}
INDUSTRIES = {  # name: (share, log-odds, words that end company names)
    "software": (0.18, 0.4, "Software Labs Systems Technologies Analytics"),
    "financial_services": (0.10, 0.3, "Capital Financial Partners Bank Insurance"),
    "healthcare": (0.09, 0.0, "Health Medical Care Clinics Diagnostics"),
    "manufacturing": (0.11, 0.1, "Manufacturing Industries Components Machines"),
    "retail": (0.09, -0.1, "Retail Stores Outfitters Goods Market"),
    "education": (0.07, -0.4, "Academy Learning Education Institute"),
    "government": (0.04, -0.5, "Authority Agency Council Services"),
    "telecom": (0.04, 0.1, "Telecom Networks Communications Mobile"),
    "media": (0.05, 0.0, "Media Studios Publishing Digital"),
    "logistics": (0.06, 0.2, "Logistics Freight Shipping Transport"),
    "professional_services": (0.09, 0.2, "Consulting Advisors Partners Group"),
    "energy": (0.04, 0.0, "Energy Power Solar Utilities"),
    "nonprofit": (0.04, -0.6, "Foundation Trust Alliance"),
}
COUNTRIES = {  # ISO-2: (share, log-odds, dialling code, domain suffix, legal form)
    "US": (0.42, 0.1, "1", ".com", "Inc."), "GB": (0.11, 0.1, "44", ".co.uk", "Ltd"),
    "DE": (0.08, 0.1, "49", ".de", "GmbH"), "FR": (0.05, -0.2, "33", ".fr", "SAS"),
    "CA": (0.05, 0.1, "1", ".ca", "Inc."), "AU": (0.04, 0.1, "61", ".com.au", "Pty Ltd"),
    "NL": (0.04, 0.1, "31", ".nl", "B.V."), "IN": (0.06, -0.3, "91", ".in", "Pvt Ltd"),
    "BR": (0.04, -0.3, "55", ".com.br", "Ltda"), "ES": (0.03, -0.2, "34", ".es", "S.L."),
    "SE": (0.03, 0.1, "46", ".se", "AB"), "IE": (0.02, 0.1, "353", ".ie", "Ltd"),
    "MX": (0.02, -0.3, "52", ".mx", "S.A. de C.V."), "SG": (0.01, 0.0, "65", ".sg", "Pte Ltd"),
}
NAME_PREFIXES = ("North Blue Silver Apex Bright Granite Harbor Summit Pioneer Cedar Quantum Vertex "
                 "Lumen Atlas Crescent Iron Nova Red Clear Ever Oak Swift True Green Bay Hill Lake")
NAME_CORES = "wind field bridge point line gate peak wave path forge view ridge"
FIRST_NAMES = ("james maria wei olivia noah sofia liam emma lucas anna mohammed priya daniel "
               "laura carlos yuki ahmed chloe david elena jonas fatima michael sarah raj lena")
LAST_NAMES = ("smith garcia chen muller johnson rossi kumar silva brown martin novak tanaka jones "
              "schmidt lopez wilson patel kowalski nguyen dubois andersson oconnor singh taylor")
FREE_MAIL = "gmail.com yahoo.com hotmail.com outlook.com"
N_REPS = 25
TITLES = (  # seniority level: (log-odds, P(decision maker), titles as people type them)
    (0.5, 0.85, "CEO|Chief Executive Officer|CEO & Founder|Founder|Co-founder & CEO|Owner|CTO|"
                "Chief Technology Officer|COO|CFO|Chief Revenue Officer|Managing Director|"
                "Geschäftsführer"),
    (0.6, 0.70, "VP Sales|vp of sales|Vice President, Marketing|VP Marketing|VP of Engineering|"
                "SVP Operations|Vice President of Sales|EVP, Revenue|VP, IT|VP Customer Success"),
    (0.4, 0.50, "Head of IT|Director of Sales|Dir. of Operations|Sales Director|IT Director|"
                "Head of Marketing|Director, Revenue Operations|Head of Growth|"
                "Directora de Marketing"),
    (0.1, 0.25, "Marketing Manager|Sr. mgr, marketing|Sales Manager|IT Manager|Team Lead|"
                "Senior Manager, Sales Ops|Gerente de ventas|Product Manager|RevOps Manager|"
                "Operations Manager"),
    (-0.3, 0.08, "software engineer|Sales Representative|SDR|Business Development Rep|Analyst|"
                 "Marketing Specialist|Data Analyst|Consultant|Accountant|Office Manager|"
                 "Developer"),
    (-2.0, 0.01, "Intern|student|Marketing Intern|MBA Candidate|PhD student|n/a|-|test"),
)
LEVEL_SHARES = {  # founders and owners answer for small companies
    "small": (0.28, 0.07, 0.12, 0.18, 0.25, 0.10), "large": (0.04, 0.09, 0.16, 0.30, 0.33, 0.08),
}
TIMEFRAMES = np.array(["0-1m", "1-3m", "3-6m", "6-12m", "12m+"])
TIMEFRAME_LOG_ODDS = np.array([0.6, 0.4, 0.0, -0.4, -0.9])
TIMEFRAME_DAYS = np.array([25.0, 50.0, 90.0, 140.0, 200.0])  # median days to convert
NEEDS = (  # (log-odds, phrases): concrete pains, generic use cases, vague interest
    (0.9, "replace our legacy CRM|need to automate lead routing before Q3|our reps waste hours "
          "on manual data entry|consolidate three sales tools into one|pipeline reporting is "
          "broken|contract with current vendor ends this quarter|scaling the SDR team to 20"),
    (0.1, "better reporting|improve sales productivity|evaluating options|looking for a CRM|"
          "integration with our ERP|marketing automation|more visibility into pipeline"),
    (-1.0, "just browsing|student project|research for a blog post|curious|not sure yet|"
           "price check|comparing vendors for next year"),
)
EVENTS = {  # name: (rate after creation, slope on propensity, rate before conversion,
            #        rate per day while open, measure in value)
    "email_open":        (5.0,   0.1,   2.0, 0.015,   ""),
    "email_click":       (1.2,   0.15,  1.0, 0.002,   ""),
    "email_reply":       (0.25,  0.25,  0.8, 0.0,     ""),
    "web_visit":         (3.0,   0.15,  2.5, 0.005,   "pages"),
    "pricing_page_view": (0.3,   0.3,   1.2, 0.0,     "pages"),
    "content_download":  (0.6,   0.15,  0.4, 0.001,   ""),
    "webinar_attended":  (0.2,   0.15,  0.2, 0.0005,  "webinar"),
    "form_submit":       (0.9,   0.1,   0.3, 0.0,     ""),
    "demo_request":      (0.06,  0.4,   0.6, 0.0,     ""),
    "meeting":           (0.1,   0.35,  1.2, 0.0,     "meeting"),
    "call":              (0.8,   0.2,   1.0, 0.0,     "call"),
    "unsubscribe":       (0.02,  -0.4,  0.0, 0.00003, ""),
    "email_bounce":      (0.015, -0.25, 0.0, 0.0,     ""),
    "chat_message":      (0.004, 0.0,   0.0, 0.0,     ""),  # a type outside the contract's list
}
VALUE_DRAWS = {  # pages viewed or minutes
    "pages": lambda rng, k: rng.geometric(0.4, k),
    "webinar": lambda rng, k: rng.integers(5, 61, k),
    "meeting": lambda rng, k: rng.choice([15, 30, 45, 60], k, p=[0.1, 0.5, 0.15, 0.25]),
    "call": lambda rng, k: np.round(rng.lognormal(np.log(4), 0.9, k), 1),
}
MISSING = {  # share of leads whose field nobody filled in (the attribute exists all the same)
    "source": 0.02, "owner": 0.01, "company": 0.03, "industry": 0.12, "employees": 0.2,
    "annual_revenue": 0.2, "country": 0.06, "title": 0.07, "email": 0.03, "phone": 0.4,
    "timeframe": 0.3, "need": 0.35, "decision_maker": 0.3,
}
STAGES = np.array(["new", "contacted", "qualified", "demo", "proposal", "negotiation",
                   "won", "lost"])
SLOT_STAGES = np.array([0, 1, 2, 3, 4, 2, 4, 5, 6])  # one path; slots 5-6 are a move back
SLOT_GAPS = np.array([0.0, 0.4, 1.0, 1.0, 1.0, 0.6, 0.6, 1.0, 1.0])  # relative time to reach
WON_DEPTH = [0.0, 0.0, 0.05, 0.15, 0.3, 0.5]  # furthest stage before won, lost or left open
LOST_DEPTH = [0.2, 0.3, 0.25, 0.12, 0.08, 0.05]
OPEN_DEPTH = [0.3, 0.35, 0.2, 0.08, 0.05, 0.02]
# fmt: on
EMAIL_EVENTS = ("email_open", "email_click", "email_reply")
RAMP_DAYS = 10  # mean lead time of the engagement ramp before a conversion
INTERCEPT = -2.9  # log-odds of an average lead; about 14% of all leads ever convert


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _column(table: dict, position: int) -> np.ndarray:
    return np.array([row[position] for row in table.values()])


def _shares(table: dict) -> np.ndarray:
    p = _column(table, 0)
    return p / p.sum()


def _words(rng: np.random.Generator, words: str, n: int, sep: str | None = None) -> np.ndarray:
    """n words (or phrases, with sep) drawn uniformly from a vocabulary string."""
    return np.array(words.split(sep), dtype=object)[rng.integers(len(words.split(sep)), size=n)]


def _draw_created(rng: np.random.Generator, n: int, end_us: int, days: int) -> np.ndarray:
    """Creation times in [end - days, end), sorted, with lead volume growing 60% over the span."""
    u, growth, span = np.sort(rng.random(n)), 0.6, days * DAY_US
    t = (np.sqrt(1 + 2 * growth * u * (1 + growth / 2)) - 1) / growth  # inverse CDF of 1 + g*t
    return end_us - span + np.minimum((t * span).astype(np.int64), span - 1)


def _draw_accounts(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Companies: name, web domain, industry, size, revenue, country and account owner."""
    industry = rng.choice(len(INDUSTRIES), n, p=_shares(INDUSTRIES))
    country = rng.choice(len(COUNTRIES), n, p=_shares(COUNTRIES))
    stem = _words(rng, NAME_PREFIXES, n) + _words(rng, NAME_CORES, n)
    kind = np.empty(n, dtype=object)
    for i, (*_, words) in enumerate(INDUSTRIES.values()):
        kind[industry == i] = _words(rng, words, int((industry == i).sum()))
    legal = np.where(rng.random(n) < 0.6, " " + _column(COUNTRIES, 4)[country].astype(object), "")
    domain = stem + np.where(rng.random(n) < 0.3, kind, "")
    employees = np.clip(np.round(rng.lognormal(np.log(60), 1.7, n)), 1, 400_000)
    return {
        "industry": industry,
        "country": country,
        "company": stem + " " + kind + legal,
        "domain": np.char.lower(domain.astype(str)).astype(object) + _column(COUNTRIES, 3)[country],
        "employees": employees,
        "revenue": np.round(employees * rng.lognormal(np.log(150_000), 0.5, n), -3),
        "owner": rng.integers(1, N_REPS + 1, n),
    }


def _typo(rng: np.random.Generator, text: str) -> str:
    """The text with two neighbouring letters swapped, as hasty typists do."""
    spots = [i for i in range(1, len(text) - 1) if text[i : i + 2].isalpha()]
    i = spots[int(rng.integers(len(spots)))] if spots else 0
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :] if spots else text


def _draw_titles(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
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


def _draw_contacts(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """Fake e-mail addresses (company domain or free-mail) and fake 555 phone numbers."""
    n = len(lead["level"])
    first, last = _words(rng, FIRST_NAMES, n), _words(rng, LAST_NAMES, n)
    initial = first.astype("<U1").astype(object)
    style = rng.integers(4, size=n)
    local = np.choose(style, [first + "." + last, initial + last, first, first + "_" + last])
    p_free = _sigmoid(-1.4 + 1.8 * (lead["level"] == 5) + 0.8 * (lead["employees"] < 10))
    lead["freemail"] = free = rng.random(n) < p_free
    digits = rng.integers(1, 99, n).astype(str).astype(object)
    local = np.where(free & (rng.random(n) < 0.5), local + digits, local)
    lead["email"] = local + "@" + np.where(free, _words(rng, FREE_MAIL, n), lead["domain"])
    dial = _column(COUNTRIES, 2)[lead["country"]].astype(object)
    three, four = (rng.integers(10**k, size=n).astype(str) for k in (3, 4))
    lead["phone"] = "+" + dial + " 555 " + np.char.zfill(three, 3) + " " + np.char.zfill(four, 4)


def _draw_bant(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """BANT answers driven by the lead's unobserved intent: timing, need, budget, authority."""
    n, intent = len(lead["intent"]), lead["intent"]
    lead["timeframe"] = np.digitize(-0.9 * intent + rng.normal(0, 0.8, n), [-1.1, -0.3, 0.4, 1.1])
    student = lead["level"] == len(TITLES) - 1
    logits = np.c_[1.2 * intent - 0.6, np.zeros(n), -1.2 * intent - 0.8 + 2.5 * student]
    lead["need_kind"] = np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)
    need = np.empty(n, dtype=object)
    for kind, (_, phrases) in enumerate(NEEDS):
        pick = lead["need_kind"] == kind
        need[pick] = _words(rng, phrases, int(pick.sum()), sep="|")
    also = (lead["need_kind"] == 0) & (rng.random(n) < 0.3)
    lead["need"] = np.where(also, need + "; " + _words(rng, NEEDS[1][1], n, sep="|"), need)
    budget = np.exp(0.7 * np.log(lead["employees"]) + 7.2 + 0.35 * intent + rng.normal(0, 0.6, n))
    magnitude = 10.0 ** (np.floor(np.log10(budget)) - 1)  # people state round figures
    lead["budget"] = np.round(budget / magnitude) * magnitude
    lead["has_budget"] = rng.random(n) < _sigmoid(0.45 + 0.6 * intent)
    lead["decision_maker"] = rng.random(n) < np.array([t[1] for t in TITLES])[lead["level"]]


def _draw_outcomes(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> None:
    """Latent propensity, then a cure-type hazard: who ever converts or is lost, and when."""
    n = len(lead["created"])
    tables: dict[str, dict] = {"source": SOURCES, "industry": INDUSTRIES, "country": COUNTRIES}
    fit = np.sum([_column(table, 1)[lead[key]] for key, table in tables.items()], axis=0)
    fit -= 0.06 * (np.log(lead["employees"]) - np.log(300)) ** 2  # sweet spot: mid-market
    authority = np.array([t[0] for t in TITLES])[lead["level"]] + 0.3 * lead["decision_maker"]
    need = np.array([k[0] for k in NEEDS])[lead["need_kind"]]
    bant = need + 0.3 * lead["has_budget"] + TIMEFRAME_LOG_ODDS[lead["timeframe"]]
    rep_skill = rng.normal(0, 0.25, N_REPS + 1)[lead["owner"]]
    unobserved = 0.8 * lead["intent"] + rng.normal(0, 0.5, n)
    quality = fit + authority + bant - 0.6 * lead["freemail"] + rep_skill + unobserved
    lead["quality"] = quality  # log-odds relative to an average lead
    converts = rng.random(n) < _sigmoid(INTERCEPT + quality)
    days = TIMEFRAME_DAYS[lead["timeframe"]] * np.exp(-0.15 * quality) * rng.lognormal(0, 0.55, n)
    at = lead["created"] + (np.clip(days, 2, 720) * DAY_US).astype(np.int64)
    lead["conv"] = np.where(converts, at, NEVER)
    days = 35 * np.exp(0.25 * quality) * rng.lognormal(0, 1.0, n)  # poor leads are dropped fast
    at = lead["created"] + (np.clip(days, 1 / 24, 720) * DAY_US).astype(np.int64)
    lead["lost"] = np.where(~converts & (rng.random(n) < 0.7), at, NEVER)
    deal = np.exp(np.log(1200) + 0.55 * np.log(lead["employees"]) + rng.normal(0, 0.5, n))
    stated = lead["budget"] * rng.uniform(0.6, 1.2, n)
    lead["deal"] = np.round(np.where(lead["has_budget"], np.sqrt(deal * stated), deal), -1)


def _draw_leads(rng: np.random.Generator, n: int, end_us: int, days: int) -> dict[str, np.ndarray]:
    """All per-lead attributes, observed and latent, as aligned numpy arrays."""
    accounts = _draw_accounts(rng, max(1, int(0.45 * n)))
    popularity = rng.lognormal(0.0, 1.0, len(accounts["owner"]))  # some accounts send many leads
    account = rng.choice(len(popularity), n, p=popularity / popularity.sum())
    lead = {key: values[account] for key, values in accounts.items()}
    lead["created"] = _draw_created(rng, n, end_us, days)
    lead["source"] = rng.choice(len(SOURCES), n, p=_shares(SOURCES))
    small = (lead["employees"] < 50)[:, None]
    cumulative = np.cumsum(np.where(small, LEVEL_SHARES["small"], LEVEL_SHARES["large"]), axis=1)
    lead["level"] = (rng.random(n)[:, None] > cumulative[:, :-1]).sum(axis=1)
    lead["intent"] = rng.normal(size=n)
    lead["title"] = _draw_titles(rng, lead["level"])
    _draw_contacts(rng, lead)
    _draw_bant(rng, lead)
    _draw_outcomes(rng, lead)
    return lead


def _as_str(values: np.ndarray, missing: np.ndarray | None = None) -> ExtensionArray:
    out = values.astype(object)
    if missing is not None:
        out[missing] = None
    return pd.array(out, dtype="str")


def _as_utc(us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC")


def _leads_frame(
    rng: np.random.Generator, lead: dict[str, np.ndarray], end_us: int
) -> pd.DataFrame:
    """The leads table: attributes with CRM-style gaps, outcomes censored at end."""
    n = len(lead["created"])
    gone = {column: rng.random(n) < rate for column, rate in MISSING.items()}
    gone["annual_revenue"] |= gone["employees"]  # enrichment tends to return both or neither

    def named(table: dict, column: str) -> ExtensionArray:
        return _as_str(np.array(list(table), dtype=object)[lead[column]], gone[column])

    converted, lost = lead["conv"] < end_us, lead["lost"] < end_us
    ids = np.char.add("L", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    owners = np.char.add("rep_", np.char.zfill(lead["owner"].astype(str), 2))
    columns = {
        "lead_id": _as_str(ids),
        "created_at": _as_utc(lead["created"]),
        "source": named(SOURCES, "source"),
        "owner_id": _as_str(owners, gone["owner"]),
        "company": _as_str(lead["company"], gone["company"]),
        "industry": named(INDUSTRIES, "industry"),
        "employees": pd.arrays.IntegerArray(lead["employees"].astype(np.int64), gone["employees"]),
        "annual_revenue": np.where(gone["annual_revenue"], np.nan, lead["revenue"]),
        "country": named(COUNTRIES, "country"),
        "job_title": _as_str(lead["title"], gone["title"]),
        "email": _as_str(lead["email"], gone["email"]),
        "phone": _as_str(lead["phone"], gone["phone"]),
        "budget": np.where(lead["has_budget"], lead["budget"], np.nan),
        "purchase_timeframe": _as_str(TIMEFRAMES[lead["timeframe"]], gone["timeframe"]),
        "need": _as_str(lead["need"], gone["need"]),
        "is_decision_maker": pd.arrays.BooleanArray(lead["decision_maker"], gone["decision_maker"]),
        "converted_at": _as_utc(np.where(converted, lead["conv"], NAT)),
        "lost_at": _as_utc(np.where(lost, lead["lost"], NAT)),
        "deal_value": np.where(converted, lead["deal"], np.nan),
    }
    return pd.DataFrame(columns)


def _draw_events(
    rng: np.random.Generator, lead: dict[str, np.ndarray], stop: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Raw events of every type as (lead index, time in us, type code), before filtering.

    Each type mixes a burst after creation that decays, a ramp in the weeks before
    a conversion and a trickle (newsletters, return visits) until ``stop``.
    """
    created, conv = lead["created"], lead["conv"]
    n, converter = len(created), conv < NEVER
    engagement = rng.lognormal(0.0, 0.9, n)  # heavy tail: a few leads are very active
    decay_us = rng.lognormal(np.log(14), 0.6, n) * DAY_US
    window = stop - created
    parts = []
    for code, (early, slope, ramp, per_day, _) in enumerate(EVENTS.values()):
        rates = (
            engagement * early * np.exp(slope * lead["quality"]),
            np.where(converter, engagement * ramp, 0.0),
            engagement * per_day * window / DAY_US,
        )
        for component, rate in enumerate(rates):
            idx = np.repeat(np.arange(n), rng.poisson(rate))
            if component == 0:
                t = created[idx] + rng.exponential(decay_us[idx])
            elif component == 1:
                t = conv[idx] - rng.exponential(RAMP_DAYS * DAY_US, len(idx))
            else:
                t = created[idx] + rng.random(len(idx)) * window[idx]
            parts.append((idx, t.astype(np.int64), np.full(len(idx), code)))
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def _build_activities(
    rng: np.random.Generator, lead: dict[str, np.ndarray], end_us: int, lead_ids: ExtensionArray
) -> pd.DataFrame:
    """The activities table, sorted by lead and time.

    Events stop at lost_at, two weeks after conversion, or at end; e-mail events
    stop once the lead unsubscribes or its address bounces.
    """
    converter = lead["conv"] < NEVER
    stop = np.minimum(np.where(converter, lead["conv"] + 14 * DAY_US, lead["lost"]), end_us)
    idx, t, code = _draw_events(rng, lead, stop)
    keep = (t >= lead["created"][idx]) & (t < stop[idx])
    idx, t, code = idx[keep], t[keep], code[keep]
    names = list(EVENTS)
    opt_out = np.isin(code, [names.index("unsubscribe"), names.index("email_bounce")])
    first_out = np.full(len(stop), NEVER)
    np.minimum.at(first_out, idx[opt_out], t[opt_out])
    keep = ~(np.isin(code, [names.index(e) for e in EMAIL_EVENTS]) & (t > first_out[idx]))
    order = np.lexsort((t[keep], idx[keep]))
    idx, t, code = idx[keep][order], t[keep][order], code[keep][order]
    value = np.full(len(code), np.nan)
    for c, (*_, measure) in enumerate(EVENTS.values()):
        if measure:
            value[code == c] = VALUE_DRAWS[measure](rng, int((code == c).sum()))
    return pd.DataFrame(
        {
            "lead_id": lead_ids.take(idx),
            "occurred_at": _as_utc(t),
            "type": _as_str(np.array(names)).take(code),
            "value": value,
        }
    )


def _build_stage_history(
    rng: np.random.Generator, lead: dict[str, np.ndarray], end_us: int, lead_ids: ExtensionArray
) -> pd.DataFrame:
    """The stage history: each lead walks the slots of one path as far as it gets.

    Won and lost are entered exactly at the outcome; open leads stall after a
    while. Entries at or after end are not known yet and are left out.
    """
    created, n = lead["created"], len(lead["created"])
    won = lead["conv"] < NEVER
    closed = won | (lead["lost"] < NEVER)
    depth = np.select(
        [won, closed],
        [rng.choice(6, n, p=WON_DEPTH), rng.choice(6, n, p=LOST_DEPTH)],
        rng.choice(6, n, p=OPEN_DEPTH),
    )
    back = (rng.random(n) < 0.06) & (depth >= 4)  # e.g. proposal -> qualified: new decision maker
    depth = np.where(back & won, 5, depth)
    demo = (depth >= 3) & (rng.random(n) > 0.15)  # small deals skip the demo
    include = np.c_[depth >= 0, depth >= 1, depth >= 2, demo, depth >= 4, back,
                    back & (depth >= 5), depth >= 5, closed]  # fmt: skip
    outcome = np.where(won, lead["conv"], lead["lost"])
    stall = (rng.lognormal(np.log(40), 0.8, n) * DAY_US).astype(np.int64)
    span = np.where(closed, outcome - created, stall) - 16  # room for the strictness shift
    gaps = rng.exponential(1.0, (n, 9)) * SLOT_GAPS * np.c_[include[:, :-1], np.ones(n)]
    share = np.cumsum(gaps, axis=1) / (gaps.sum(axis=1, keepdims=True) + 1e-12)
    entered = created[:, None] + (share * span[:, None]).astype(np.int64)
    entered[:, -1] = outcome
    slot = np.arange(9)  # make times strictly increasing without moving the outcome
    entered = np.maximum.accumulate(np.where(include, entered - slot, NAT), axis=1) + slot
    stage = np.tile(SLOT_STAGES, (n, 1))
    stage[:, -1] = np.where(won, 6, 7)
    keep = (include & (entered < end_us)).ravel()
    return pd.DataFrame(
        {
            "lead_id": lead_ids.take(np.repeat(np.arange(n), 9)[keep]),
            "stage": _as_str(STAGES).take(stage.ravel()[keep]),
            "entered_at": _as_utc(entered.ravel()[keep]),
        }
    )


def generate_crm(
    n_leads: int, seed: int = 0, end: pd.Timestamp = DEFAULT_END, history_days: int = 730
) -> dict[str, pd.DataFrame]:
    """Generate a synthetic CRM: leads, their activities and their stage history.

    Args:
        n_leads: Number of leads, created over ``[end - history_days, end)``.
        seed: Seed for ``np.random.default_rng``; the same seed gives identical frames.
        end: Export time; nothing is known at or after it. A naive timestamp is read as UTC.
        history_days: Length of the creation window in days.

    Returns:
        ``{"leads": ..., "activities": ..., "stage_history": ...}`` following the data contract.

    Raises:
        ValueError: If ``n_leads`` or ``history_days`` is less than 1.
    """
    if n_leads < 1 or history_days < 1:
        raise ValueError(f"need n_leads >= 1 and history_days >= 1, got {n_leads}, {history_days}")
    end_ts = pd.Timestamp(end)
    end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts.tz_convert("UTC")
    end_us = int(end_ts.value // 1000)
    rng = np.random.default_rng(seed)
    lead = _draw_leads(rng, n_leads, end_us, history_days)
    leads = _leads_frame(rng, lead, end_us)
    lead_ids = leads["lead_id"].array
    return {
        "leads": leads,
        "activities": _build_activities(rng, lead, end_us, lead_ids),
        "stage_history": _build_stage_history(rng, lead, end_us, lead_ids),
    }
