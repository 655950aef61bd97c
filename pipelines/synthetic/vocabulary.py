"""The synthetic CRM's vocabularies: channels, industries, countries, titles, needs, names.

Each table pairs the values a CRM shows with the effects the generator gives them: a share
(how often the value is drawn) and a log-odds shift of the lead's static propensity. The
propensity is a log-rate multiplier in :mod:`pipelines.synthetic.process`, so a shift of
+0.5 makes a lead warm up and close ``exp(0.5 * beta)`` times faster, not a fixed share more.
"""

from __future__ import annotations

import numpy as np

# fmt: off
SOURCES = {  # name: (share, log-odds, start log-odds warming, start log-odds hot)
    "web_form": (0.22, 0.3, 0.3, 0.6), "organic_search": (0.18, 0.1, 0.2, 0.0),
    "paid_search": (0.15, -0.2, 0.0, -0.2), "social": (0.10, -0.6, -0.3, -0.6),
    "referral": (0.07, 0.9, 0.5, 0.5), "event": (0.08, 0.2, 0.4, -0.2),
    "outbound": (0.14, -0.5, -1.0, -1.6), "partner": (0.06, 0.6, 0.3, 0.4),
}
# After ``period_shift``: paid search, retargeted at buyers, flips from weak to strong;
# referrals (a referral bonus now paid for any name) flip the other way; outbound, now an
# account-based team working a list of fitting accounts, turns strong.
SHIFTED_SOURCES = {"paid_search": 0.8, "referral": -0.4, "outbound": 0.5}
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
# After ``period_shift``: a product for shop floors sells to manufacturing and logistics;
# software buyers, saturated, cool off.
SHIFTED_INDUSTRIES = {"manufacturing": 0.8, "logistics": 0.6, "software": -0.1}
COUNTRIES = {  # ISO-2: (share, log-odds, dialling code, domain suffix, legal form, UTC offsets)
    "US": (0.42, 0.1, "1", ".com", "Inc.", "-5 -5 -6 -8 -7"), "GB": (0.11, 0.1, "44", ".co.uk", "Ltd", "0"),
    "DE": (0.08, 0.1, "49", ".de", "GmbH", "1"), "FR": (0.05, -0.2, "33", ".fr", "SAS", "1"),
    "CA": (0.05, 0.1, "1", ".ca", "Inc.", "-5 -5 -8 -7"), "AU": (0.04, 0.1, "61", ".com.au", "Pty Ltd", "10 10 8"),
    "NL": (0.04, 0.1, "31", ".nl", "B.V.", "1"), "IN": (0.06, -0.3, "91", ".in", "Pvt Ltd", "5.5"),
    "BR": (0.04, -0.3, "55", ".com.br", "Ltda", "-3"), "ES": (0.03, -0.2, "34", ".es", "S.L.", "1"),
    "SE": (0.03, 0.1, "46", ".se", "AB", "1"), "IE": (0.02, 0.1, "353", ".ie", "Ltd", "0"),
    "MX": (0.02, -0.3, "52", ".mx", "S.A. de C.V.", "-6"), "SG": (0.01, 0.0, "65", ".sg", "Pte Ltd", "8"),
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
NEEDS = (  # (log-odds, phrases): concrete pains, generic use cases, vague interest
    (0.9, "replace our legacy CRM|need to automate lead routing before Q3|our reps waste hours "
          "on manual data entry|consolidate three sales tools into one|pipeline reporting is "
          "broken|contract with current vendor ends this quarter|scaling the SDR team to 20"),
    (0.1, "better reporting|improve sales productivity|evaluating options|looking for a CRM|"
          "integration with our ERP|marketing automation|more visibility into pipeline"),
    (-1.0, "just browsing|student project|research for a blog post|curious|not sure yet|"
           "price check|comparing vendors for next year"),
)
# Share of leads whose field nobody filled in, for an average source; the attribute
# exists all the same (the generator draws it and it acts on the outcome).
MISSING = {
    "source": 0.02, "owner": 0.01, "company": 0.03, "industry": 0.12, "employees": 0.2,
    "annual_revenue": 0.2, "country": 0.06, "title": 0.07, "email": 0.03, "phone": 0.4,
    "timeframe": 0.3, "need": 0.35, "decision_maker": 0.3,
}
FIELD_GROUPS = {  # which fields a source's capture fills (or not) together
    "firmographic": ("industry", "employees", "annual_revenue"),
    "contact": ("title", "phone"),
    "bant": ("timeframe", "need", "decision_maker"),
}
# Missing-rate multipliers per source and field group: a web form makes its fields
# required; a purchased (outbound) list carries firmographics but never BANT answers; a
# badge scan at an event has the title but no phone and no BANT; partners fill deal forms.
SOURCE_MISSING = {  # source: (firmographic, contact, bant)
    "web_form": (0.8, 0.4, 0.35), "organic_search": (1.0, 1.0, 1.0),
    "paid_search": (1.0, 1.1, 1.0), "social": (1.4, 1.3, 1.6),
    "referral": (1.0, 1.0, 1.1), "event": (1.2, 1.4, 2.3),
    "outbound": (0.3, 0.6, 3.0), "partner": (0.5, 0.8, 0.6),
}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
                 "CA": "Canada", "AU": "Australia", "NL": "Netherlands", "IN": "India", "BR": "Brazil",
                 "ES": "Spain", "SE": "Sweden", "IE": "Ireland", "MX": "Mexico", "SG": "Singapore"}
# fmt: on


def column(table: dict, position: int) -> np.ndarray:
    """One field of every entry of a vocabulary table, in the table's order."""
    return np.array([row[position] for row in table.values()])


def shares(table: dict) -> np.ndarray:
    """The table's shares (its first field), normalised to sum to 1."""
    p = column(table, 0).astype(float)
    return p / p.sum()


def words(rng: np.random.Generator, vocabulary: str, n: int, sep: str | None = None) -> np.ndarray:
    """n words (or phrases, with ``sep``) drawn uniformly from a vocabulary string."""
    choices = np.array(vocabulary.split(sep), dtype=object)
    return choices[rng.integers(len(choices), size=n)]
