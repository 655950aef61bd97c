"""Why a lead scores as it does: LightGBM contributions grouped into business signals.

``contributions`` runs TreeSHAP (``pred_contrib``) on the transformed features. Features are
grouped into *signals* a rep recognises (all pricing-page features are one signal; seniority,
department and decision maker are "authority"), contributions are summed per signal, and
the strongest signals become reasons phrased from the lead's own values.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

ACTIVITY_PHRASES = {
    "email_open": ("Opened {n} email{s}", "No emails opened"),
    "email_click": ("Clicked {n} email link{s}", "No email links clicked"),
    "email_reply": ("Replied to {n} email{s}", "No email replies"),
    "web_visit": ("Visited the website {n} time{s}", "No website visits"),
    "pricing_page_view": ("Viewed the pricing page {n} time{s}", "No pricing page views"),
    "content_download": ("Downloaded {n} content piece{s}", "No content downloads"),
    "webinar_attended": ("Attended {n} webinar{s}", "No webinars attended"),
    "form_submit": ("Submitted {n} form{s}", "No forms submitted"),
    "demo_request": ("Requested a demo {n} time{s}", "No demo requested"),
    "meeting": ("Had {n} meeting{s}", "No meetings"),
    "call": ("Had {n} call{s}", "No calls"),
    "unsubscribe": ("Unsubscribed from emails", "Never unsubscribed"),
    "email_bounce": ("Emails bounced {n} time{s}", "No bounced emails"),
    "other": ("{n} other activit{ies}", "No other activities"),
    "total": ("{n} activit{ies}", "No activity"),
}
_ENG = re.compile(r"^eng_(?P<kind>[a-z_]+?)_(?P<window>count|\d+d)$")
_DECAY = re.compile(r"^eng_(?P<kind>[a-z_]+)_decay_(?P<half_life>[\d_]+)d$")
FAMILY_OF_PREFIX = (
    ("bant_authority", "authority"),
    ("bant_need", "need"),
    ("bant_budget", "budget"),
    ("bant_timing", "timing"),
    ("fit_", "fit"),
    ("eng_", "engagement"),
    ("stage_", "stage"),
)


def family_of(feature: str) -> str:
    """The feature family of a transformed feature name (``fit``, ``engagement``, ...)."""
    for prefix, family in FAMILY_OF_PREFIX:
        if feature.startswith(prefix):
            return family
    return "other"


def signal_of(feature: str) -> str:
    """The business signal a feature belongs to; reasons are given per signal."""
    match = _DECAY.match(feature) or _ENG.match(feature)
    if match and match["kind"] in ACTIVITY_PHRASES:
        return f"activity:{match['kind']}"
    if feature.startswith(("eng_high_intent", "eng_days_since_high_intent")):
        return "high_intent"
    if feature.startswith("eng_"):
        return (
            "recency"
            if feature in ("eng_days_since_last", "eng_days_since_first")
            else "engagement"
        )
    if feature.startswith("bant_"):
        return feature.split("_")[1]
    if feature in ("fit_employees", "fit_employees_band", "fit_annual_revenue"):
        return "company_size"
    if feature in ("fit_free_mail", "fit_email_present", "fit_phone_present"):
        return "contact"
    if feature == "stage_lead_age_days":
        return "lead_age"
    if feature.startswith("stage_"):
        return "stage"
    return feature


def contributions(booster: object, Xt: pd.DataFrame, threads: int = 1) -> pd.DataFrame:
    """Per-row, per-feature contributions in log-odds (last column ``bias``)."""
    values = booster.predict(Xt, pred_contrib=True, num_threads=threads)  # type: ignore[attr-defined]
    return pd.DataFrame(values, columns=[*Xt.columns, "bias"], index=Xt.index)


def family_scores(contrib: pd.DataFrame, families: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """0–100 profile scores: how strongly a group of families pushes the lead up or down.

    ``100 * sigmoid(sum of the group's contributions)``: 50 means the group says nothing
    either way (an average lead), 73 means it multiplies the odds of converting by e,
    27 that it divides them by e.
    """
    out = {}
    for name, members in families.items():
        columns = [c for c in contrib.columns if family_of(c) in members]
        logit = contrib[columns].sum(axis=1)
        out[name] = np.round(100.0 / (1.0 + np.exp(-logit)), 1)
    return pd.DataFrame(out, index=contrib.index)


def _plural(template: str, n: float) -> str:
    count = int(round(n))
    return template.format(n=count, s="" if count == 1 else "s", ies="y" if count == 1 else "ies")


def _days(value: float) -> str:
    days = int(value)
    return f"{days} day" + ("" if days == 1 else "s")


def _ago(value: float) -> str:
    return "today" if value < 1 else f"{_days(value)} ago"


class RowView:
    """One row across column arrays of the transformed features and the raw inputs."""

    def __init__(self, columns: dict[str, np.ndarray], row: int) -> None:
        self._columns = columns
        self._row = row

    def get(self, name: str, default: object = None) -> object:
        column = self._columns.get(name)
        return default if column is None else column[self._row]

    __getitem__ = get


def column_arrays(*frames: pd.DataFrame) -> dict[str, np.ndarray]:
    """Column name → numpy array, earlier frames winning on a name clash."""
    out: dict[str, np.ndarray] = {}
    for frame in frames:
        for column in frame.columns:
            out.setdefault(column, frame[column].to_numpy())
    return out


# Sentences per feature: (value, missing, the lead's row) -> text. Built once, not per call.
Phraser = Callable[[Any, bool, RowView], str]
_BUILDERS: dict[str, Phraser] = {
    "eng_days_since_last": lambda value, missing, raw: (
        "No activity yet"
        if missing
        else f"No activity for {_days(value)}"
        if value >= 14
        else f"Last activity {_ago(value)}"
    ),
    "eng_days_since_high_intent": lambda value, missing, raw: (
        "No high-intent action yet (demo, pricing, meeting, reply)"
        if missing
        else f"Last high-intent action {_ago(value)}"
    ),
    "eng_days_since_first": lambda value, missing, raw: (
        "No activity yet" if missing else f"First activity {_ago(value)}"
    ),
    "eng_trend": lambda value, missing, raw: (
        "Activity rising over the last 2 weeks"
        if value > 0
        else (
            "Activity falling over the last 2 weeks"
            if value < 0
            else "Activity flat over the last 2 weeks"
        )
    ),
    "eng_active_days_90d": lambda value, missing, raw: (
        f"Active on {int(value)} day{'s' if value != 1 else ''} in the last 90 days"
    ),
    "eng_negative_count": lambda value, missing, raw: (
        "Unsubscribed or bounced" if value > 0 else "No unsubscribes or bounces"
    ),
    "bant_need_present": lambda value, missing, raw: (
        "States a need" if value == 1 else "No need stated"
    ),
    "bant_need_strength": lambda value, missing, raw: (
        "No need stated"
        if missing
        else (
            "Stated need resembles converting leads'"
            if value > 0
            else "Stated need resembles non-converting leads'"
        )
    ),
    "bant_need_words": lambda value, missing, raw: (
        "No need stated" if missing else f"Need described in {int(value)} words"
    ),
    "bant_budget": lambda value, missing, raw: (
        "No budget stated" if missing else f"Budget stated: {value:,.0f}"
    ),
    "bant_budget_missing": lambda value, missing, raw: (
        "No budget stated" if value == 1 else f"Budget stated: {raw.get('budget', 0):,.0f}"
    ),
    "bant_budget_per_employee": lambda value, missing, raw: (
        "No budget stated" if missing else f"Budget of {value:,.0f} per employee"
    ),
    "bant_budget_to_revenue": lambda value, missing, raw: (
        "No budget stated" if missing else f"Budget is {value:.2%} of revenue"
    ),
    "bant_timing_months": lambda value, missing, raw: (
        "No purchase timeframe stated"
        if missing
        else f"Plans to buy within {raw.get('purchase_timeframe')}"
    ),
    "bant_timing_missing": lambda value, missing, raw: (
        "No purchase timeframe stated"
        if value == 1
        else f"Plans to buy within {raw.get('purchase_timeframe')}"
    ),
    "bant_timing_days_past": lambda value, missing, raw: (
        "No purchase timeframe stated"
        if missing
        else (
            f"Stated timeframe ({raw.get('purchase_timeframe')}) passed {_days(value)} ago"
            if value > 0
            else f"Within the stated timeframe ({raw.get('purchase_timeframe')})"
        )
    ),
    "fit_free_mail": lambda value, missing, raw: (
        "No email address"
        if missing
        else ("Uses a free-mail address" if value == 1 else "Uses a company email address")
    ),
    "fit_email_present": lambda value, missing, raw: (
        "Email address given" if value == 1 else "No email address"
    ),
    "fit_phone_present": lambda value, missing, raw: (
        "Phone number given" if value == 1 else "No phone number"
    ),
    "fit_employees": lambda value, missing, raw: (
        "Company size unknown" if missing else f"Company of {value:,.0f} employees"
    ),
    "fit_employees_band": lambda value, missing, raw: (
        "Company size unknown" if missing else f"Company of {raw.get('employees'):,.0f} employees"
    ),
    "fit_annual_revenue": lambda value, missing, raw: (
        "Revenue unknown" if missing else f"Company revenue {value:,.0f}"
    ),
    "stage_current": lambda value, missing, raw: (
        "No stage recorded" if missing else f"Stage: {value}"
    ),
    "stage_days_in_stage": lambda value, missing, raw: (
        "No stage recorded"
        if missing
        else f"In stage {raw.get('stage_current')} for {_days(value)}"
    ),
    "stage_stagnant": lambda value, missing, raw: (
        "No stage recorded"
        if missing
        else (
            f"Stuck in {raw.get('stage_current')} past its threshold"
            if value == 1
            else f"Moving: {raw.get('stage_current')} within its threshold"
        )
    ),
    "stage_backward_moves": lambda value, missing, raw: (
        f"Moved back in the funnel {int(value)} time{'s' if value != 1 else ''}"
        if value > 0
        else "Never moved back in the funnel"
    ),
    "stage_lead_age_days": lambda value, missing, raw: f"Lead created {_ago(value)}",
}


def _activity_phraser(feature: str) -> Phraser | None:
    """Counts and decayed counts per activity type ("Viewed the pricing page 3 times ...")."""
    decay = _DECAY.match(feature)
    if decay and decay["kind"] in ACTIVITY_PHRASES:
        positive, negative = ACTIVITY_PHRASES[decay["kind"]]
        # A decayed count reads as "about n recently": each event weighs 1 today, 1/2 a half-life ago.
        return lambda value, missing, row: (
            _plural(positive, max(1.0, value)) + " recently"
            if value >= 0.5
            else negative + " recently"
        )
    match = _ENG.match(feature)
    if match and match["kind"] in ACTIVITY_PHRASES:
        positive, negative = ACTIVITY_PHRASES[match["kind"]]
        window = match["window"]
        when = (
            " since the lead was created"
            if window == "count"
            else f" in the last {window[:-1]} days"
        )
        return lambda value, missing, row: (
            (_plural(positive, value) if value > 0 else negative) + when
        )
    return None


def _authority(value: Any, missing: bool, row: RowView) -> str:
    title = row.get("job_title")
    seniority = row.get("bant_authority_seniority")
    who = f"{title} ({seniority})" if isinstance(title, str) else "no job title"
    return (
        "Decision maker: " if row.get("bant_authority_decision_maker") == 1 else "Job title: "
    ) + who


@functools.cache
def _phraser(feature: str) -> Phraser:
    """The sentence builder of one feature, chosen once per feature, not once per lead."""
    activity = _activity_phraser(feature)
    if activity is not None:
        return activity
    if feature in _BUILDERS:
        return _BUILDERS[feature]
    if feature.startswith("bant_authority"):
        return _authority
    if feature.startswith("fit_"):
        name = feature.removeprefix("fit_").replace("_", " ").capitalize()
        return lambda value, missing, row: f"{name}: {'unknown' if missing else value}"
    if feature.startswith("eng_high_intent"):
        return lambda value, missing, row: (
            "Strong recent high-intent activity"
            if value >= 0.5
            else "Little recent high-intent activity"
        )
    if feature.startswith("eng_"):
        return lambda value, missing, row: (
            "Engaged recently" if value >= 1 else "Little recent engagement"
        )
    return lambda value, missing, row: f"{feature}: {value}"


def phrase(feature: str, row: RowView) -> str:
    """A rep-readable sentence for ``feature`` from one lead's features and raw inputs."""
    value: Any = row[feature]
    missing = value is None or (value != value if isinstance(value, float) else pd.isna(value))
    return _phraser(feature)(value, missing, row)


def top_reasons(
    contrib: pd.DataFrame, Xt: pd.DataFrame, raw: pd.DataFrame, k: int = 5, min_abs: float = 0.01
) -> list[str]:
    """JSON lists of up to ``k`` signed reasons per row, strongest first.

    Each reason is one signal: its features' contributions summed, phrased from the
    feature with the largest |contribution| within it; ``+`` raises the score, ``-`` lowers it.
    """
    features = [c for c in contrib.columns if c != "bias"]
    signals = pd.Index([signal_of(f) for f in features])
    values = contrib[features].to_numpy()
    codes, names = pd.factorize(signals)
    summed = np.zeros((len(values), len(names)))
    for j, code in enumerate(codes):
        summed[:, code] += values[:, j]
    order = np.argsort(-np.abs(summed), axis=1, kind="stable")[:, :k]
    # The feature that speaks for each signal in each row: its largest |contribution|.
    leader = np.empty((len(values), len(names)), dtype=np.int64)
    for code in range(len(names)):
        members = np.flatnonzero(codes == code)
        leader[:, code] = members[np.argmax(np.abs(values[:, members]), axis=1)]
    columns = column_arrays(Xt, raw)
    reasons = []
    for row in range(len(values)):
        view, items = RowView(columns, row), []
        for code in order[row]:
            total = summed[row, code]
            if abs(total) < min_abs:
                break
            items.append(("+ " if total > 0 else "- ") + phrase(features[leader[row, code]], view))
        reasons.append(json.dumps(items))
    return reasons
