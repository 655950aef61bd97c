"""The reasons settings (``reasons:`` in ``configs/scoring.yaml``): how many, and their words.

The sign rule lives in these tables. Each signal sorts a lead into one *case* from the lead's
own values (no need stated, a need like converting leads', ...). Each case has the words for
a contribution that raises the score (``raises``) and for one that lowers it (``lowers``).
``null`` means no true sentence of that sign exists for the case: the reason is left out and
the next strongest signal takes its place. So an absence ("No budget stated") is never a
plus unless its ``raises`` names what it is compared with, and a strength ("Plans to buy
within a month") is never a minus. Templates use ``{fields}`` the signal provides, already in
words ("3 pricing-page views", "190 days", "$1M–$10M"); unknown fields are config errors.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from pipelines import Frozen
from scoring.explain.templates import template_fields
from scoring.explain.vocabulary import Words


class Phrase(Frozen):
    """The words of one case: for a raising and for a lowering contribution (null: none).

    Both are required, so a case written with one sign only is an error, not a silent null.
    """

    raises: str | None
    lowers: str | None


def _p(raises: str | None, lowers: str | None) -> Phrase:
    return Phrase(raises=raises, lowers=lowers)


class SignalPhrases(Frozen):
    """Base of one signal's table: its cases are its fields, in the order the code tests them."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _known_fields(self) -> SignalPhrases:
        for case, phrase in self:
            for template in (phrase.raises, phrase.lowers):
                unknown = set(template_fields(template)) - set(self.FIELDS)
                if unknown:
                    allowed = ", ".join(f"{{{f}}}" for f in self.FIELDS) or "none"
                    raise ValueError(f"{case}: unknown field {{{unknown.pop()}}} (use {allowed})")
        return self

    def cases(self) -> tuple[str, ...]:
        """The case names, in declaration order (a case code indexes this tuple)."""
        return tuple(type(self).model_fields)


class EngagementPhrases(SignalPhrases):
    FIELDS = ("activities", "window", "all_activities", "days", "created")
    high_intent: Phrase = _p("Active recently: {activities} in the last {window}", None)
    active: Phrase = _p(
        "Active recently: {activities} in the last {window}",
        "Low-intent activity only: {activities} in the last {window}",
    )
    quiet: Phrase = _p(
        "Engaged earlier: {all_activities}, the last {days} ago",
        "Gone quiet: no activity for {days}",
    )
    no_activity: Phrase = _p(None, "No activity yet (lead created {created})")


class NeedPhrases(SignalPhrases):
    FIELDS = ("words",)
    missing: Phrase = _p(
        "Has not stated a need: leads that state a vague need convert less", "No need stated"
    )
    strong: Phrase = _p("Stated need resembles those of converting leads", None)
    vague: Phrase = _p("States a need ({words})", "Stated need gives little sign of buying")
    weak: Phrase = _p(
        "States a need ({words})", "Stated need resembles those of leads that did not convert"
    )


class BudgetPhrases(SignalPhrases):
    FIELDS = ("budget",)
    missing: Phrase = _p(None, "No budget stated")
    stated: Phrase = _p("Budget of {budget}", "Budget of {budget}")


class TimingPhrases(SignalPhrases):
    FIELDS = ("timeframe", "days_past")
    missing: Phrase = _p(
        "No timeframe stated: leads whose timeframe has passed convert less",
        "No purchase timeframe stated",
    )
    passed: Phrase = _p(None, "Stated timeframe ({timeframe}) passed {days_past} ago")
    later: Phrase = _p(
        "Plans to buy {timeframe}", "Plans to buy {timeframe}: later than most buyers"
    )
    soon: Phrase = _p("Plans to buy {timeframe}", None)


class AuthorityPhrases(SignalPhrases):
    FIELDS = ("title", "role")
    decision_maker: Phrase = _p(
        "Decision maker: {role}", "{role}, though a declared decision maker"
    )
    declared: Phrase = _p("Declared decision maker", None)
    not_decision_maker: Phrase = _p("Job title: {role}", "Not the decision maker: {role}")
    titled: Phrase = _p("Job title: {role}", "Job title: {role}")
    unclear: Phrase = _p("Job title: {title}", "Job title shows no seniority: {title}")
    missing: Phrase = _p(None, "No job title given")


class SizePhrases(SignalPhrases):
    FIELDS = ("employees",)
    known: Phrase = _p("Company of {employees}", "Company of {employees}")
    missing: Phrase = _p(None, "Company size unknown")


class RevenuePhrases(SignalPhrases):
    FIELDS = ("revenue",)
    known: Phrase = _p("Company revenue {revenue}", "Company revenue {revenue}")
    missing: Phrase = _p(None, "Company revenue unknown")


class EmailPhrases(SignalPhrases):
    company: Phrase = _p("Uses a company email address", None)
    free_mail: Phrase = _p(None, "Uses a free-mail address")
    missing: Phrase = _p(None, "No email address given")


class PhonePhrases(SignalPhrases):
    given: Phrase = _p("Phone number given", None)
    missing: Phrase = _p(None, "No phone number given")


class CategoryPhrases(SignalPhrases):
    FIELDS = ("value",)
    known: Phrase = _p("{value}", "{value}")
    missing: Phrase = _p(None, None)


def _category(known: str, missing: str) -> CategoryPhrases:
    return CategoryPhrases(known=_p(known, known), missing=_p(None, missing))


class StagePhrases(SignalPhrases):
    FIELDS = ("stage", "days")
    moved_back: Phrase = _p(
        "In the {stage} stage for {days}", "Moved back in the funnel, now in the {stage} stage"
    )
    stuck: Phrase = _p("In the {stage} stage for {days}", "Stuck in the {stage} stage for {days}")
    moving: Phrase = _p("In the {stage} stage for {days}", "In the {stage} stage for {days}")
    missing: Phrase = _p(None, "No funnel stage recorded")


class LeadAgePhrases(SignalPhrases):
    FIELDS = ("created",)
    known: Phrase = _p("Lead created {created}", "Lead created {created}")
    missing: Phrase = _p(None, None)


class OptOutPhrases(SignalPhrases):
    FIELDS = ("bounces",)
    unsubscribed: Phrase = _p(None, "Unsubscribed from emails")
    bounced: Phrase = _p(None, "Emails bounced {bounces}")
    clean: Phrase = _p("Still subscribed to emails", None)


class OtherPhrases(SignalPhrases):
    """Any feature without a table of its own (a column a newer model adds)."""

    FIELDS = ("name", "value")
    known: Phrase = _p("{name}: {value}", "{name}: {value}")
    missing: Phrase = _p(None, "{name} unknown")


class FlatPhrases(SignalPhrases):
    """Flat mode: one reason per source column."""

    FIELDS = ("column", "value")
    value: Phrase = _p("{column}: {value}", "{column}: {value}")
    company_mail: Phrase = _p("{column}: a company address", None)
    free_mail: Phrase = _p(None, "{column}: a free-mail address")
    given: Phrase = _p("{column} given", None)
    missing: Phrase = _p(
        "{column} not given: leads that give one convert less", "{column} not given"
    )


class Phrases(Frozen):
    """One table per signal."""

    engagement: EngagementPhrases = EngagementPhrases()
    need: NeedPhrases = NeedPhrases()
    budget: BudgetPhrases = BudgetPhrases()
    timing: TimingPhrases = TimingPhrases()
    authority: AuthorityPhrases = AuthorityPhrases()
    company_size: SizePhrases = SizePhrases()
    revenue: RevenuePhrases = RevenuePhrases()
    email: EmailPhrases = EmailPhrases()
    phone: PhonePhrases = PhonePhrases()
    industry: CategoryPhrases = _category("Industry: {value}", "Industry unknown")
    country: CategoryPhrases = _category("Based in {value}", "Country unknown")
    source: CategoryPhrases = _category("Lead source: {value}", "Lead source unknown")
    stage: StagePhrases = StagePhrases()
    lead_age: LeadAgePhrases = LeadAgePhrases()
    opt_out: OptOutPhrases = OptOutPhrases()
    other: OtherPhrases = OtherPhrases()
    flat: FlatPhrases = FlatPhrases()


class ReasonSettings(Frozen):
    """How many reasons a lead gets, from which contributions, and in which words."""

    count: int = Field(5, ge=0, le=10)
    min_abs_contribution: float = Field(
        0.01, ge=0, description="log-odds below which a signal is not a reason"
    )
    method: Literal["exact", "pred_contrib"] = Field(
        "exact",
        description="exact: compiled TreeSHAP tables (pred_contrib's values, several times "
        "faster); pred_contrib: LightGBM's own TreeSHAP, the reference",
    )
    threads: int = Field(1, ge=1, description="LightGBM threads for pred_contrib")
    recent_days: int = Field(
        30, ge=1, description="'Active recently' vs 'Gone quiet': one of features' windows_days"
    )
    activity_items: int = Field(3, ge=1, le=6, description="activity types named in a sentence")
    phrases: Phrases = Phrases()
    words: Words = Words()
