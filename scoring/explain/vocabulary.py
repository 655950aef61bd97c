"""The words reasons are made of (``reasons.words`` in ``configs/scoring.yaml``).

Counts carry their noun (``("a meeting", "{n} meetings")``: the first form for one, the
second for any other count), codes their names (``IN`` → India, ``12m+`` → "in a year or
more", ``c_level`` → "C-level"), and revenue is told as a band ("$10M–$50M").
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from pipelines import Frozen
from scoring.explain.templates import template_fields

Forms = tuple[str, str]


def _check_forms(forms: Forms) -> Forms:
    if template_fields(forms[0]) or template_fields(forms[1]) != ["n"]:
        raise ValueError(
            f"{list(forms)}: the first form is for one (no fields), the second has {{n}}"
        )
    return forms


class Units(Frozen):
    """Nouns of counted things: the form for one, then the form with ``{n}``."""

    day: Forms = ("1 day", "{n} days")
    employee: Forms = ("1 employee", "{n} employees")
    word: Forms = ("1 word", "{n} words")
    time: Forms = ("once", "{n} times")

    @field_validator("*")
    @classmethod
    def _forms(cls, forms: Forms) -> Forms:
        return _check_forms(forms)


ACTIVITIES: dict[str, Forms] = {
    "demo_request": ("a demo request", "{n} demo requests"),
    "meeting": ("a meeting", "{n} meetings"),
    "pricing_page_view": ("a pricing-page view", "{n} pricing-page views"),
    "email_reply": ("an email reply", "{n} email replies"),
    "call": ("a call", "{n} calls"),
    "webinar_attended": ("a webinar attended", "{n} webinars attended"),
    "form_submit": ("a form submitted", "{n} forms submitted"),
    "content_download": ("a content download", "{n} content downloads"),
    "web_visit": ("a website visit", "{n} website visits"),
    "email_click": ("an email click", "{n} email clicks"),
    "email_open": ("an email open", "{n} email opens"),
    "other": ("another activity", "{n} other activities"),
}
SENIORITY = {
    "c_level": "C-level",
    "vp": "VP",
    "director": "director",
    "head": "head of function",
    "manager": "manager",
    "individual": "individual contributor",
    "student_intern": "student or intern",
    "unknown": "",
}
TITLE_WORDS = (
    "CEO", "CTO", "CIO", "CISO", "CDO", "CFO", "COO", "CMO", "CRO", "CHRO", "CPO", "CSO", "CCO",
    "VP", "SVP", "EVP", "AVP", "IT", "HR", "SDR", "BDR", "AE", "MD", "GM", "AI", "ML", "QA",
    "UX", "UI", "CRM", "ERP", "SEO", "PPC", "PR", "PhD", "MBA", "RevOps", "DevOps",
)  # fmt: skip
SMALL_WORDS = ("of", "and", "the", "for", "to", "in", "at", "on", "de", "del", "la", "y")
REVENUE_BANDS = (
    (0.0, "under $1M"),
    (1e6, "$1M–$10M"),
    (1e7, "$10M–$50M"),
    (5e7, "$50M–$250M"),
    (2.5e8, "$250M–$1B"),
    (1e9, "over $1B"),
)
COUNTRIES = {
    "US": "the US", "GB": "the UK", "DE": "Germany", "FR": "France", "CA": "Canada",
    "AU": "Australia", "NL": "the Netherlands", "IN": "India", "BR": "Brazil", "ES": "Spain",
    "SE": "Sweden", "IE": "Ireland", "MX": "Mexico", "SG": "Singapore", "IT": "Italy",
    "CH": "Switzerland", "AT": "Austria", "BE": "Belgium", "DK": "Denmark", "NO": "Norway",
    "FI": "Finland", "PL": "Poland", "PT": "Portugal", "JP": "Japan", "CN": "China",
    "KR": "South Korea", "NZ": "New Zealand", "ZA": "South Africa", "AE": "the UAE",
    "IL": "Israel",
}  # fmt: skip


class Words(Frozen):
    """The vocabulary shared by every signal's phrases."""

    currency: str = "$"
    today: str = "today"
    ago: str = Field("{when} ago", description="a time in the past; {when} is '3 days'")
    units: Units = Units()
    activities: dict[str, Forms] = Field(
        default_factory=lambda: dict(ACTIVITIES),
        description="activity types in the order they are named (after high_intent)",
    )
    more_activities: Forms = ("1 more activity", "{n} more activities")
    high_intent: tuple[str, ...] = ("demo_request", "meeting", "pricing_page_view", "email_reply")
    need_strength: float = Field(
        0.1, gt=0, description="|stated-need strength| (log-odds) above which a need is strong/weak"
    )
    timeframes: dict[str, str] = {
        "0-1m": "within a month",
        "1-3m": "in 1–3 months",
        "3-6m": "in 3–6 months",
        "6-12m": "in 6–12 months",
        "12m+": "in a year or more",
    }
    later_timeframes: tuple[str, ...] = ("6-12m", "12m+")
    seniority: dict[str, str] = Field(default_factory=lambda: dict(SENIORITY))
    title_words: tuple[str, ...] = Field(
        TITLE_WORDS, description="words of job titles written as here, however they were typed"
    )
    title_small_words: tuple[str, ...] = SMALL_WORDS
    title_placeholders: tuple[str, ...] = Field(
        ("-", ".", "x", "n/a", "na", "none", "null", "unknown", "test", "tbd"),
        description="job titles read as no title (compared in lower case)",
    )
    revenue_bands: tuple[tuple[float, str], ...] = REVENUE_BANDS
    countries: dict[str, str] = Field(default_factory=lambda: dict(COUNTRIES))

    @field_validator("activities")
    @classmethod
    def _activity_forms(cls, value: dict[str, Forms]) -> dict[str, Forms]:
        for forms in value.values():
            _check_forms(forms)
        return value

    @field_validator("more_activities")
    @classmethod
    def _more_forms(cls, forms: Forms) -> Forms:
        return _check_forms(forms)

    @field_validator("ago")
    @classmethod
    def _ago_when(cls, value: str) -> str:
        if template_fields(value) != ["when"]:
            raise ValueError(f"{value!r}: needs exactly one {{when}}")
        return value

    @field_validator("revenue_bands")
    @classmethod
    def _bands_rise(cls, bands: tuple[tuple[float, str], ...]) -> tuple[tuple[float, str], ...]:
        edges = [edge for edge, _ in bands]
        if not bands or edges != sorted(set(edges)):
            raise ValueError(
                "revenue_bands: lower edges must rise strictly, starting at the lowest"
            )
        return bands

    @model_validator(mode="after")
    def _timeframes_known(self) -> Words:
        unknown = set(self.later_timeframes) - set(self.timeframes)
        if unknown:
            raise ValueError(f"later_timeframes: {sorted(unknown)} not in timeframes")
        return self
