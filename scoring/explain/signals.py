"""The signals other than engagement: BANT, firmographics, contact, stage, opt-outs.

Each spec reads the lead's values (transformed features first, raw inputs as a fallback),
sorts the lead into a case of its phrases table and puts its fields in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.explain import settings as tables
from scoring.explain.cases import FieldWords, SignalSpec, needs, select
from scoring.explain.columns import Columns
from scoring.explain.engagement import ENGAGEMENT
from scoring.explain.settings import ReasonSettings as Settings
from scoring.explain.wording import (
    bands_in_words,
    counts_in_words,
    days_in_words,
    display_title,
    each_distinct,
    label_in_words,
    money_in_words,
    role_in_words,
    when_in_words,
)

_BUDGET = ("bant_budget", "budget")
_DECIDES = ("bant_authority_decision_maker", "is_decision_maker")
_EMPLOYEES = ("fit_employees", "employees")
_REVENUE = ("fit_annual_revenue", "annual_revenue")
_EMAIL = ("fit_email_present", "email_present")
_FREE_MAIL = ("fit_free_mail", "email_free_mail")
_PHONE = ("fit_phone_present", "phone_present")
_AGE = ("stage_lead_age_days", "lead_age_days")


def cases_of(table: type[tables.SignalPhrases]) -> tuple[str, ...]:
    """The cases of a phrases table, in the order its codes count them."""
    return tuple(table.model_fields)


def _num(cols: Columns, names: tuple[str, ...]) -> np.ndarray:
    return cols.num(cols.first(*names) or names[0])


def _known_spec(
    table: str, phrases: type[tables.SignalPhrases], columns: tuple[str, ...], words: FieldWords
) -> SignalSpec:
    """A number that is ``known`` or ``missing``, its field named after the first field."""
    return SignalSpec(
        table,
        needs(columns),
        lambda c, s: select(cases_of(phrases), [(np.isnan(_num(c, columns)), "missing")], "known"),
        {phrases.FIELDS[0]: words},
    )


def _need(cols: Columns, s: Settings) -> np.ndarray:
    strength, cut = cols.num("bant_need_strength"), s.words.need_strength
    return select(
        cases_of(tables.NeedPhrases),
        [
            (cols.num("bant_need_present") != 1, "missing"),
            (strength >= cut, "strong"),
            (strength <= -cut, "weak"),
        ],
        "vague",
    )


def _timing(cols: Columns, s: Settings) -> np.ndarray:
    timeframe, past = cols.text("purchase_timeframe"), cols.num("bant_timing_days_past")
    return select(
        cases_of(tables.TimingPhrases),
        [
            (pd.isna(timeframe) | np.isnan(past), "missing"),
            (past > 0, "passed"),
            (np.isin(timeframe, list(s.words.later_timeframes)), "later"),
        ],
        "soon",
    )


def _job_titles(cols: Columns, s: Settings) -> np.ndarray:
    """Job titles, placeholders ("n/a", "-") as None."""
    if "job_titles" not in cols.memo:
        given = cols.text("job_title").copy()
        placeholders = set(s.words.title_placeholders)
        given[[str(t).lower() in placeholders for t in given]] = None
        cols.memo["job_titles"] = given
    titles: np.ndarray = cols.memo["job_titles"]
    return titles


def _authority(cols: Columns, s: Settings) -> np.ndarray:
    titled = pd.notna(_job_titles(cols, s))
    decides = _num(cols, _DECIDES)
    seniority = cols.text("bant_authority_seniority")
    return select(
        cases_of(tables.AuthorityPhrases),
        [
            ((decides == 1) & titled, "decision_maker"),
            (decides == 1, "declared"),
            (~titled, "missing"),
            (decides == 0, "not_decision_maker"),
            (pd.isna(seniority) | (seniority == "unknown"), "unclear"),
        ],
        "titled",
    )


def _titles(cols: Columns, rows: np.ndarray, s: Settings) -> list[str]:
    return each_distinct(_job_titles(cols, s)[rows], lambda t: display_title(str(t), s.words))


def _roles(cols: Columns, rows: np.ndarray, s: Settings) -> list[str]:
    said: dict[tuple[object, object], str] = {}
    out = []
    for title, seniority in zip(
        _job_titles(cols, s)[rows], cols.text("bant_authority_seniority")[rows], strict=True
    ):
        if (title, seniority) not in said:
            named = "" if seniority is None else s.words.seniority.get(str(seniority), "")
            said[title, seniority] = role_in_words(display_title(str(title), s.words), named)
        out.append(said[title, seniority])
    return out


def _email(cols: Columns, s: Settings) -> np.ndarray:
    free = _num(cols, _FREE_MAIL)
    return select(
        cases_of(tables.EmailPhrases),
        [((_num(cols, _EMAIL) != 1) | np.isnan(free), "missing"), (free == 1, "free_mail")],
        "company",
    )


def _stage(cols: Columns, s: Settings) -> np.ndarray:
    return select(
        cases_of(tables.StagePhrases),
        [
            (pd.isna(cols.text("stage_current")), "missing"),
            (cols.num_or("stage_backward_moves", 0.0) > 0, "moved_back"),
            (cols.num_or("stage_stagnant", 0.0) == 1, "stuck"),
        ],
        "moving",
    )


def _opt_out(cols: Columns, s: Settings) -> np.ndarray:
    return select(
        cases_of(tables.OptOutPhrases),
        [
            (cols.num_or("eng_unsubscribe_count", 0.0) > 0, "unsubscribed"),
            (cols.num_or("eng_email_bounce_count", 0.0) > 0, "bounced"),
        ],
        "clean",
    )


def _category(table: str, column: str) -> SignalSpec:
    """A category told by its value ("Industry: financial services"), or unknown."""
    return SignalSpec(
        table,
        needs(column),
        lambda c, s: select(
            cases_of(tables.CategoryPhrases), [(pd.isna(c.text(column)), "missing")], "known"
        ),
        {
            "value": lambda c, r, s: label_in_words(
                c.text(column)[r], s.words.countries if column == "country" else None
            )
        },
    )


SPECS: dict[str, SignalSpec] = {
    "engagement": ENGAGEMENT,
    "need": SignalSpec(
        "need",
        needs("bant_need_present", "bant_need_strength", "bant_need_words"),
        _need,
        {"words": lambda c, r, s: counts_in_words(c.num("bant_need_words")[r], s.words.units.word)},
    ),
    "budget": SignalSpec(
        "budget",
        needs(_BUDGET),
        lambda c, s: select(
            cases_of(tables.BudgetPhrases), [(np.isnan(_num(c, _BUDGET)), "missing")], "stated"
        ),
        {"budget": lambda c, r, s: money_in_words(_num(c, _BUDGET)[r], s.words)},
    ),
    "timing": SignalSpec(
        "timing",
        needs("purchase_timeframe", "bant_timing_days_past"),
        _timing,
        {
            "timeframe": lambda c, r, s: label_in_words(
                c.text("purchase_timeframe")[r], s.words.timeframes
            ),
            "days_past": lambda c, r, s: days_in_words(c.num("bant_timing_days_past")[r], s.words),
        },
    ),
    "authority": SignalSpec(
        "authority",
        needs("job_title", "bant_authority_seniority", _DECIDES),
        _authority,
        {"title": _titles, "role": _roles},
    ),
    "company_size": _known_spec(
        "company_size",
        tables.SizePhrases,
        _EMPLOYEES,
        lambda c, r, s: counts_in_words(_num(c, _EMPLOYEES)[r], s.words.units.employee),
    ),
    "revenue": _known_spec(
        "revenue",
        tables.RevenuePhrases,
        _REVENUE,
        lambda c, r, s: bands_in_words(_num(c, _REVENUE)[r], s.words),
    ),
    "email": SignalSpec("email", needs(_EMAIL, _FREE_MAIL), _email),
    "phone": SignalSpec(
        "phone",
        needs(_PHONE),
        lambda c, s: select(
            cases_of(tables.PhonePhrases), [(_num(c, _PHONE) == 1, "given")], "missing"
        ),
    ),
    "industry": _category("industry", "industry"),
    "country": _category("country", "country"),
    "source": _category("source", "source"),
    "stage": SignalSpec(
        "stage",
        needs("stage_current", "stage_days_in_stage"),
        _stage,
        {
            "stage": lambda c, r, s: label_in_words(c.text("stage_current")[r]),
            "days": lambda c, r, s: days_in_words(c.num("stage_days_in_stage")[r], s.words),
        },
    ),
    "lead_age": _known_spec(
        "lead_age",
        tables.LeadAgePhrases,
        _AGE,
        lambda c, r, s: when_in_words(_num(c, _AGE)[r], s.words),
    ),
    "opt_out": SignalSpec(
        "opt_out",
        needs(),
        _opt_out,
        {
            "bounces": lambda c, r, s: counts_in_words(
                c.num_or("eng_email_bounce_count", 0.0)[r], s.words.units.time
            )
        },
    ),
}
