"""Why a lead scores as it does: LightGBM contributions grouped into business signals.

``contributions`` computes exact TreeSHAP values on the transformed features (compiled
tables, or LightGBM's ``pred_contrib`` as the reference: the same numbers). Features are
grouped into *signals* a rep recognises (every engagement feature is one signal; seniority,
department and decision maker are "authority"), and contributions are summed per signal.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from models import tree_contributions

FAMILY_OF_PREFIX = (
    ("bant_authority", "authority"),
    ("bant_need", "need"),
    ("bant_budget", "budget"),
    ("bant_timing", "timing"),
    ("fit_", "fit"),
    ("eng_", "engagement"),
    ("stage_", "stage"),
    ("attr_", "attributes"),
)
# Opting out is not a level of engagement: it gets its own reason ("Unsubscribed from emails").
OPT_OUT_TYPES = ("unsubscribe", "email_bounce")
_OPT_OUT = re.compile(rf"^eng_(negative_count|({'|'.join(OPT_OUT_TYPES)})_.+)$")
_FIT_SIGNALS = {
    "fit_employees": "company_size",
    "fit_employees_band": "company_size",
    "fit_annual_revenue": "revenue",
    "fit_annual_revenue_band": "revenue",
    "fit_free_mail": "email",
    "fit_email_present": "email",
    "fit_phone_present": "phone",
    "fit_industry": "industry",
    "fit_country": "country",
    "fit_source": "source",
}


def family_of(feature: str) -> str:
    """The feature family of a transformed feature name (``fit``, ``engagement``, ...)."""
    for prefix, family in FAMILY_OF_PREFIX:
        if feature.startswith(prefix):
            return family
    return "other"


def signal_of(feature: str) -> str:
    """The business signal a feature belongs to; a lead gets at most one reason per signal.

    Recency, frequency, per-activity counts and decays, high-intent actions and silence are
    all ``engagement``, so a lead hears one engagement sentence, never two that disagree.
    """
    if _OPT_OUT.match(feature):
        return "opt_out"
    if feature.startswith("eng_"):
        return "engagement"
    if feature.startswith("bant_"):
        return feature.split("_")[1]
    if feature in _FIT_SIGNALS:
        return _FIT_SIGNALS[feature]
    if feature == "stage_lead_age_days":
        return "lead_age"
    if feature.startswith("stage_"):
        return "stage"
    return feature


def contributions(
    booster: object, Xt: pd.DataFrame, threads: int = 1, method: str = "exact"
) -> pd.DataFrame:
    """Per-row, per-feature contributions in log-odds (last column ``bias``).

    Args:
        method: ``exact`` (tables compiled once per booster) or ``pred_contrib``.
        threads: LightGBM threads for ``pred_contrib``.
    """
    values = tree_contributions(booster, Xt, method=method, num_threads=threads)
    return pd.DataFrame(values, columns=[*Xt.columns, "bias"], index=Xt.index)


def signal_sums(contrib: pd.DataFrame) -> tuple[list[str], dict[str, list[str]], np.ndarray]:
    """Contributions summed per signal.

    Returns:
        The signals in order of first appearance, each signal's features, and a
        (rows x signals) array of summed log-odds.
    """
    features = [c for c in contrib.columns if c != "bias"]
    members: dict[str, list[str]] = {}
    for feature in features:
        members.setdefault(signal_of(feature), []).append(feature)
    names = list(members)
    position = {name: i for i, name in enumerate(names)}
    membership = np.zeros((len(features), len(names)))
    for j, feature in enumerate(features):
        membership[j, position[signal_of(feature)]] = 1.0
    summed = contrib[features].to_numpy(dtype="float64") @ membership
    return names, members, summed


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
