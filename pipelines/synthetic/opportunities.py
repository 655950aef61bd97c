"""The synthetic CRM as a B2B opportunities table with a separate accounts file.

The shape follows the sales-pipeline exports of small CRMs (and the public "CRM sales
opportunities" sample data): one row per opportunity naming its account by name, the
sales agent, the product, a four-value ``deal_stage`` and dates without times; firmographics
live in ``accounts.csv``, one row per account, keyed by name.

What a mapping of this file has to cope with, as with the real ones:

* ``deal_stage`` is Prospecting (never contacted), Engaging (contacted, open), Won or Lost;
* ``engage_date`` is the day sales first engaged (the lead entered ``contacted``; the
  creation day for a lead closed without contact) and is empty for Prospecting rows: the
  export has no creation time;
* ``close_date`` is the won date for Won and the lost date for Lost; ``close_value`` the
  deal value for Won, 0 for Lost, empty while open;
* about 30% of open opportunities have no account yet (the rep had not linked one), and
  accounts are shared by many opportunities;
* revenue is in millions, the office location a country name, and some accounts are
  subsidiaries of another account.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synthetic.vocabulary import COUNTRY_NAMES

OPEN_WITHOUT_ACCOUNT = 0.3
SUBSIDIARY_SHARE = 0.12
SECTORS = {
    "software": "software", "financial_services": "finance", "healthcare": "medical",
    "manufacturing": "manufacturing", "retail": "retail", "education": "education",
    "government": "government", "telecom": "telecommunications", "media": "entertainment",
    "logistics": "logistics", "professional_services": "services", "energy": "energy",
    "nonprofit": "nonprofit",
}  # fmt: skip
PRODUCTS = ("Essentials", "Team", "Business", "Enterprise")  # by company size, ascending
PRODUCT_BREAKS = (20, 200, 2000)  # employees where the next product starts
AGENTS = (  # the sales agents, one per owner number
    "Anna Snelling",
    "Cecily Lampkin",
    "Versie Hillebrand",
    "Lajuana Vencill",
    "Moses Frase",
    "Jonathan Berthelot",
    "Marty Freudenburg",
    "Gladys Colclough",
    "Niesha Huffines",
    "Darcel Schlecht",
    "Violet Mclelland",
    "Kami Bicknell",
    "Elease Gluck",
    "Cassey Cress",
    "Donn Cantrell",
    "Reed Clapper",
    "Corliss Cosme",
    "Vicki Laflamme",
    "Rosie Papadopoulos",
    "Garret Kinder",
    "Wilburn Farren",
    "Elizabeth Anderson",
    "Daniell Hammack",
    "Maureen Marcano",
    "Hayden Neloms",
    "Markita Hansen",
    "Boris Faz",
    "Zane Levy",
)
ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _opportunity_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique 8-character ids of digits and capitals, drawn at random."""
    codes = rng.integers(36**8, size=n)
    while len(np.unique(codes)) < n:  # a collision is rare; redraw the later duplicate
        _, first = np.unique(codes, return_index=True)
        duplicate = np.setdiff1d(np.arange(n), first)
        codes[duplicate] = rng.integers(36**8, size=len(duplicate))
    digits = (codes[:, None] // 36 ** np.arange(7, -1, -1)) % 36
    return np.array(["".join(row) for row in ALPHABET[digits]], dtype=object)


def _dates(times: pd.Series) -> pd.Series:
    return times.dt.strftime("%Y-%m-%d").astype("object").where(times.notna(), None)


def _agents(owner_id: pd.Series) -> pd.Series:
    number = owner_id.str.extract(r"(\d+)$")[0].astype("float64")
    return number.map(lambda k: None if np.isnan(k) else AGENTS[int(k) % len(AGENTS)])


def _engage_dates(crm: dict[str, pd.DataFrame]) -> pd.Series:
    """The first contact, or the creation for a lead closed without one."""
    stages = crm["stage_history"]
    contacted = stages[stages["stage"] == "contacted"].groupby("lead_id")["entered_at"].min()
    leads = crm["leads"]
    return leads["lead_id"].map(contacted).fillna(leads["created_at"])


def _stage(crm: dict[str, pd.DataFrame]) -> pd.Series:
    leads, stages = crm["leads"], crm["stage_history"]
    engaged = set(stages.loc[stages["stage"] != "new", "lead_id"])
    stage = np.where(leads["lead_id"].isin(engaged), "Engaging", "Prospecting")
    stage = np.where(leads["lost_at"].notna(), "Lost", stage)
    return pd.Series(np.where(leads["converted_at"].notna(), "Won", stage), index=leads.index)


def _products(rng: np.random.Generator, employees: pd.Series) -> np.ndarray:
    size = employees.astype("float64").fillna(50).to_numpy()
    tier = np.searchsorted(PRODUCT_BREAKS, size, side="right")
    tier = np.clip(tier + rng.choice([-1, 0, 1], len(size), p=[0.1, 0.8, 0.1]), 0, 3)
    return np.array(PRODUCTS, dtype=object)[tier]


def to_opportunities(crm: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """``opportunities`` (one row per lead) and ``accounts`` (one row per company)."""
    rng = np.random.default_rng(seed)
    leads = crm["leads"].reset_index(drop=True)
    stage = _stage(crm)
    is_open = stage.isin(["Prospecting", "Engaging"]).to_numpy()
    unlinked = is_open & (rng.random(len(leads)) < OPEN_WITHOUT_ACCOUNT)
    account = leads["company"].astype("object").where(~unlinked & leads["company"].notna(), None)
    engaged = _engage_dates(crm).reset_index(drop=True).where(stage != "Prospecting")
    close = leads["converted_at"].where(stage == "Won", leads["lost_at"].where(stage == "Lost"))
    value = (
        leads["deal_value"].round().where(stage == "Won", np.where(stage == "Lost", 0.0, np.nan))
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": _opportunity_ids(rng, len(leads)),
            "account": account,
            "sales_agent": _agents(leads["owner_id"]),
            "product": _products(rng, leads["employees"]),
            "deal_stage": stage,
            "engage_date": _dates(engaged),
            "close_date": _dates(close),
            "close_value": pd.array(value, dtype="Int64"),
        }
    )
    return {"opportunities": opportunities, "accounts": _accounts(rng, leads)}


def _accounts(rng: np.random.Generator, leads: pd.DataFrame) -> pd.DataFrame:
    """One row per company: the first value its leads give for each field."""
    fields = (
        leads.dropna(subset=["company"])
        .groupby("company", sort=True)[["industry", "employees", "annual_revenue", "country"]]
        .first()
    )
    n = len(fields)
    employees = fields["employees"].astype("float64")
    age = np.exp(rng.normal(np.log(8) + 0.25 * np.log(employees.fillna(50) / 50), 0.6))
    parent = np.where(rng.random(n) < SUBSIDIARY_SHARE, rng.integers(n, size=n), -1)
    names = fields.index.to_numpy(dtype=object)
    subsidiary = np.where((parent >= 0) & (parent != np.arange(n)), names[parent], None)
    return pd.DataFrame(
        {
            "account": names,
            "sector": fields["industry"].map(SECTORS).to_numpy(dtype=object),
            "year_established": np.clip(2025 - np.round(age), 1850, 2025).astype(np.int64),
            "revenue": (fields["annual_revenue"] / 1e6).round(2).to_numpy(),
            "employees": fields["employees"].array,
            "office_location": fields["country"].map(COUNTRY_NAMES).to_numpy(dtype=object),
            "subsidiary_of": subsidiary,
        }
    )
