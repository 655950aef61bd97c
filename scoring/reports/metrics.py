"""Metrics of the scored lists: expected revenue, breakdowns, grades against outcomes, PSI.

Pure functions over contract frames (``leads`` and ``lead_scores``); definitions, formulas
and windows are in the README (Pipeline health report: metrics). Functions taking
``lead_scores`` of one run raise ``ValueError`` when given several ``as_of`` dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import GRADES
from scoring.reports.health import DAY, cohort, utc

PSI_THRESHOLD = 0.2
NON_FEATURES = frozenset({"lead_id", "snapshot_at", "label", "fold", "as_of"})


def _one_run(lead_scores: pd.DataFrame) -> pd.DataFrame:
    if lead_scores["as_of"].nunique() > 1:
        raise ValueError("expected the lead_scores of one as_of; filter the run first")
    return lead_scores


def expected_revenue(lead_scores: pd.DataFrame, leads: pd.DataFrame, by: str) -> pd.DataFrame:
    """Σ expected_value (probability × expected deal value) of one run, grouped by ``by``.

    ``by`` is ``owner_id`` or any ``leads`` column (e.g. ``source``); missing → "(none)".
    Columns: ``by``, ``leads``, ``expected_revenue``, ``share``; largest first.
    """
    scores = _one_run(lead_scores)[["lead_id", "owner_id", "expected_value"]]
    if by != "owner_id":
        scores = scores.merge(leads[["lead_id", by]], on="lead_id", how="left")
    key = scores[by].astype("object").where(scores[by].notna(), "(none)")
    out = scores.groupby(key.rename(by), sort=False).agg(
        leads=("lead_id", "size"), expected_revenue=("expected_value", "sum")
    )
    total = out["expected_revenue"].sum()
    out["share"] = out["expected_revenue"] / total if total else np.nan
    return (
        out.reset_index()
        .sort_values(["expected_revenue", by], ascending=[False, True])
        .reset_index(drop=True)
    )


def breakdown(
    leads: pd.DataFrame,
    lead_scores: pd.DataFrame,
    as_of: pd.Timestamp,
    by: str,
    window_days: int = 365,
) -> pd.DataFrame:
    """Per value of a ``leads`` column: the cohort's outcomes and today's open, scored leads.

    Columns: ``by``, ``leads`` (cohort), ``won``, ``lost``, ``conversion_rate`` (won ÷
    leads), ``win_rate`` (won ÷ (won + lost)), ``avg_deal_value``, ``open_scored``,
    ``mean_score``, ``expected_revenue``; most leads first.
    """
    as_of = utc(as_of)
    group = cohort(leads, as_of, window_days)
    won = group["converted_at"].notna() & (group["converted_at"] < as_of)
    lost = group["lost_at"].notna() & (group["lost_at"] < as_of) & ~won
    key = group[by].astype("object").where(group[by].notna(), "(none)").rename(by)
    out = pd.DataFrame({"leads": key.value_counts()})
    out["won"] = won.groupby(key).sum()
    out["lost"] = lost.groupby(key).sum()
    out["conversion_rate"] = out["won"] / out["leads"]
    out["win_rate"] = out["won"] / (out["won"] + out["lost"]).replace(0, np.nan)
    out["avg_deal_value"] = group.loc[won, "deal_value"].groupby(key[won]).mean()
    scores = _one_run(lead_scores).merge(leads[["lead_id", by]], on="lead_id", how="left")
    skey = scores[by].astype("object").where(scores[by].notna(), "(none)").rename(by)
    scored = scores.groupby(skey).agg(
        open_scored=("lead_id", "size"),
        mean_score=("score", "mean"),
        expected_revenue=("expected_value", "sum"),
    )
    out = out.join(scored, how="outer")
    counts = ["leads", "won", "lost", "open_scored"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["expected_revenue"] = out["expected_revenue"].fillna(0.0)
    out = out.rename_axis(by).reset_index()
    return out.sort_values(["leads", by], ascending=[False, True]).reset_index(drop=True)


def grade_outcomes(
    scores: pd.DataFrame, leads: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int = 90
) -> pd.DataFrame:
    """How one earlier run's grades converted: per grade, the share converted since.

    A lead scored at T counts as converted when ``converted_at`` falls in
    ``(T, min(T + horizon_days, as_of)]``. Columns: ``grade``, ``leads``, ``converted``,
    ``conversion_rate``, ``mean_probability`` (what the model predicted), ``observed_days``.
    """
    scored_at = _one_run(scores)["as_of"].iloc[0] if len(scores) else utc(as_of)
    end = min(scored_at + horizon_days * DAY, utc(as_of))
    converted_at = scores["lead_id"].map(leads.set_index("lead_id")["converted_at"])
    hit = (converted_at > scored_at) & (converted_at <= end)
    out = (
        pd.DataFrame({"grade": scores["grade"], "hit": hit, "p": scores["probability"]})
        .groupby("grade")
        .agg(leads=("hit", "size"), converted=("hit", "sum"), mean_probability=("p", "mean"))
        .reindex(list(GRADES))
    )
    out[["leads", "converted"]] = out[["leads", "converted"]].fillna(0).astype("int64")
    out.insert(2, "conversion_rate", out["converted"] / out["leads"].replace(0, np.nan))
    out["observed_days"] = max(0, (end - scored_at).days)
    return out.rename_axis("grade").reset_index()


def earlier_run(
    dates: pd.Series, as_of: pd.Timestamp, horizon_days: int = 90
) -> pd.Timestamp | None:
    """The run whose outcomes to check: the latest at least a horizon before ``as_of``.

    Falls back to the earliest run before ``as_of`` (its window is still open); None if none.
    """
    as_of = utc(as_of)
    before = pd.Series(dates.unique())
    before = before[before < as_of]
    settled = before[before <= as_of - horizon_days * DAY]
    if len(settled):
        return pd.Timestamp(settled.max())
    return pd.Timestamp(before.min()) if len(before) else None


def _shares(values: pd.Series, edges: np.ndarray | None, categories: list[str]) -> np.ndarray:
    """Shares per bin: numeric bins by ``edges``, else ``categories`` then "(other)"; then missing."""
    missing = values.isna()
    if edges is not None:
        bins = np.searchsorted(edges, values[~missing].astype("float64"), side="right")
        counts = np.bincount(bins, minlength=len(edges) + 1)
    else:
        found = values[~missing].astype(str).value_counts()
        kept = found.reindex(categories, fill_value=0)
        counts = np.append(kept.to_numpy(), found.sum() - kept.sum())
    counts = np.append(np.asarray(counts, dtype="float64"), missing.sum())
    return counts / max(len(values), 1)


def psi(
    expected: pd.Series,
    actual: pd.Series,
    bins: int = 10,
    floor: float = 1e-4,
    max_categories: int = 20,
) -> float:
    """Population stability index of ``actual`` against ``expected``.

    PSI = Σ (a_i − e_i) · ln(a_i / e_i) over bins: deciles of ``expected`` for numbers (edges
    deduplicated); for text and booleans, one bin per value among the ``max_categories``
    most frequent in ``expected`` and one "(other)" bin for the rest (free text would
    otherwise be all noise); plus a bin for missing values. Shares below ``floor`` are
    raised to it so empty bins stay finite. Below 0.1 is stable, 0.1–0.2 a moderate shift,
    above 0.2 a significant one. NaN when either side is empty.
    """
    expected, actual = pd.Series(expected), pd.Series(actual)
    if expected.empty or actual.empty:
        return float("nan")
    numeric = all(
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        for s in (expected, actual)
    )
    edges, categories = None, []
    if numeric:
        known = expected.dropna().astype("float64")
        inner = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(known, inner)) if len(known) else np.array([])
    else:
        counts = expected.dropna().astype(str).value_counts()
        order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        categories = [value for value, _ in order[:max_categories]]
    e = np.maximum(_shares(expected, edges, categories), floor)
    a = np.maximum(_shares(actual, edges, categories), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_by_column(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | None = None,
    bins: int = 10,
    threshold: float = PSI_THRESHOLD,
) -> pd.DataFrame:
    """PSI of every column the two frames share (ids and labels left out), largest first.

    Columns: ``feature``, ``psi``, ``drifted`` (psi > ``threshold``).
    """
    if columns is None:
        columns = [c for c in reference.columns if c in current.columns and c not in NON_FEATURES]
    values = [psi(reference[c], current[c], bins) for c in columns]
    out = pd.DataFrame({"feature": columns, "psi": np.asarray(values, dtype="float64")})
    out["drifted"] = out["psi"] > threshold
    return out.sort_values(["psi", "feature"], ascending=[False, True], ignore_index=True)
