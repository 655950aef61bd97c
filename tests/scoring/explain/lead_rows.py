"""Hand-made leads for the reason tests: every column the reasons read, with values chosen.

``lead(...)`` is an ordinary lead (a stated need, budget and timeframe, a titled contact,
no activity); keyword arguments replace columns. ``engagement(...)`` builds consistent
activity columns from counts in the last week and counts long ago.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVITY = (
    "email_open", "email_click", "email_reply", "web_visit", "pricing_page_view",
    "content_download", "webinar_attended", "form_submit", "demo_request", "meeting", "call",
    "unsubscribe", "email_bounce", "other",
)  # fmt: skip
WINDOWS = ("count", "7d", "30d", "90d")
DECAYS = ("decay_7d", "decay_30d")
EXTRA = ("days_since_last", "days_since_high_intent", "days_since_first", "active_days_90d")
EXTRA += ("recent_count", "prior_count", "negative_count", "value_sum", "trend")
HIGH_INTENT = ("demo_request", "pricing_page_view", "meeting", "email_reply")
NAN = float("nan")


def engagement(
    recent: dict[str, int] | None = None, earlier: dict[str, int] | None = None, days: float = 2.0
) -> dict[str, float]:
    """Activity columns: ``recent`` counts ``days`` ago (within a week), ``earlier`` 190 days ago."""
    recent, earlier = recent or {}, earlier or {}
    out: dict[str, float] = {}
    for kind in (*ACTIVITY, "total"):
        now = sum(recent.values()) if kind == "total" else recent.get(kind, 0)
        before = sum(earlier.values()) if kind == "total" else earlier.get(kind, 0)
        for window in WINDOWS:
            out[f"eng_{kind}_{window}"] = float(now + (before if window == "count" else 0))
        for decay in DECAYS:
            out[f"eng_{kind}_{decay}"] = now * 0.8
    last = days if recent else (190.0 if earlier else NAN)
    out.update({f"eng_{name}": 0.0 for name in EXTRA})
    out["eng_days_since_last"] = last
    out["eng_days_since_first"] = 190.0 if earlier else last
    out["eng_days_since_high_intent"] = days if any(k in recent for k in HIGH_INTENT) else NAN
    out["eng_negative_count"] = float(
        sum(d.get(k, 0) for d in (recent, earlier) for k in ("unsubscribe", "email_bounce"))
    )
    return out


def lead(**values: object) -> dict[str, object]:
    """One lead's transformed features and raw inputs; ``values`` replace the defaults."""
    row: dict[str, object] = {
        # transformed features (as the model's transformers give them)
        "bant_authority_seniority": "vp",
        "bant_authority_department": "sales",
        "bant_authority_decision_maker": NAN,
        "bant_authority_level": 5.0,
        "bant_need_present": 1.0,
        "bant_need_words": 4.0,
        "bant_need_strength": 0.5,
        "bant_budget": 25_000.0,
        "bant_budget_missing": 0.0,
        "bant_budget_per_employee": 250.0,
        "bant_budget_to_revenue": 0.005,
        "bant_timing_months": 3.0,
        "bant_timing_missing": 0.0,
        "bant_timing_days_past": -40.0,
        "fit_employees": 100.0,
        "fit_employees_band": 3.0,
        "fit_annual_revenue": 5e6,
        "fit_annual_revenue_band": 2.0,
        "fit_free_mail": 0.0,
        "fit_email_present": 1.0,
        "fit_phone_present": 1.0,
        "fit_industry": "software",
        "fit_country": "US",
        "fit_source": "referral",
        **engagement(),
        "stage_current": "contacted",
        "stage_days_in_stage": 10.0,
        "stage_stagnant": 0.0,
        "stage_backward_moves": 0.0,
        "stage_lead_age_days": 51.0,
        # raw inputs
        "lead_age_days": 51.0,
        "job_title": "VP Sales",
        "need": "replace our legacy CRM",
        "purchase_timeframe": "1-3m",
        "employees": 100.0,
        "annual_revenue": 5e6,
        "budget": 25_000.0,
        "is_decision_maker": None,
        "industry": "software",
        "country": "US",
        "source": "referral",
        "email_present": True,
        "email_free_mail": False,
        "phone_present": True,
    }
    row.update(values)
    return row


FEATURES = [c for c in lead() if c.startswith(("bant_", "fit_", "eng_", "stage_"))]
RAW = [c for c in lead() if c not in FEATURES or c in ("stage_current", "stage_days_in_stage")]


def frames(rows: list[dict[str, object]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The transformed features (``Xt``) and the raw inputs (``X``) of ``rows``."""
    table = pd.DataFrame(rows)
    Xt = table[FEATURES].copy()
    for column in ("bant_authority_seniority", "bant_authority_department", "stage_current"):
        Xt[column] = Xt[column].astype("category")
    return Xt, table[RAW].copy()


def contributions_for(rows: int, seed: int, scale: float = 0.3) -> pd.DataFrame:
    """Random per-feature contributions (some exactly zero) and a bias column."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, scale, size=(rows, len(FEATURES)))
    values[rng.random(values.shape) < 0.3] = 0.0
    frame = pd.DataFrame(values, columns=FEATURES)
    frame["bias"] = -2.0
    return frame
