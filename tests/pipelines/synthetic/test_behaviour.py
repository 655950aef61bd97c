"""The mechanisms that make the synthetic CRM look like a real one, measured on 20,000 leads."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
CET_COUNTRIES = ["DE", "FR", "NL", "ES", "SE"]  # one zone, UTC+1 in the generator


def _local_hours(times: pd.Series, offset_hours: float) -> pd.Series:
    return (times + pd.Timedelta(hours=offset_hours)).dt.hour


def test_activity_follows_the_latent_state(big_crm: dict[str, pd.DataFrame]) -> None:
    """Events per lead-day rise from dormant to cold to warming to hot."""
    latent = big_crm["latent"].sort_values(["lead_id", "entered_at"], kind="mergesort")
    stop = (
        latent.groupby("lead_id")["entered_at"]
        .shift(-1)
        .fillna(pd.Timestamp("2026-11-01", tz="UTC"))
    )
    spans = latent.assign(stop=stop)
    spans = spans[spans["state"].isin(["cold", "warming", "hot", "dormant"])]
    events = big_crm["activities"].merge(spans, on="lead_id")
    inside = (events["occurred_at"] >= events["entered_at"]) & (
        events["occurred_at"] < events["stop"]
    )
    counts = events[inside].groupby("state").size()
    days = ((spans["stop"] - spans["entered_at"]) / DAY).groupby(spans["state"]).sum()
    rate = counts / days
    print(rate.round(3).to_dict())
    assert rate["dormant"] < rate["cold"] < rate["warming"] < rate["hot"]
    assert rate["hot"] > 4 * rate["cold"]


def test_silent_leads_come_back(big_crm: dict[str, pd.DataFrame]) -> None:
    latent = big_crm["latent"].sort_values(["lead_id", "entered_at"], kind="mergesort")
    following = latent.groupby("lead_id")["state"].shift(-1)
    back = latent[(latent["state"] == "dormant") & (following == "warming")]["lead_id"].unique()
    assert len(back) > 0.05 * len(big_crm["leads"])
    # In the activity log: a gap of 60+ days, then activity again, before any outcome.
    acts = big_crm["activities"]
    acts = acts[~acts["type"].isin(["email_open", "email_bounce", "unsubscribe"])]
    gap = acts.groupby("lead_id")["occurred_at"].diff() > 60 * DAY
    assert acts.loc[gap, "lead_id"].nunique() > 0.03 * len(big_crm["leads"])


def test_work_happens_on_weekdays_in_business_hours(big_crm: dict[str, pd.DataFrame]) -> None:
    leads = big_crm["leads"]
    cet = set(leads.loc[leads["country"].isin(CET_COUNTRIES), "lead_id"])
    acts = big_crm["activities"]
    sales = acts[acts["type"].isin(["call", "meeting"]) & acts["lead_id"].isin(cet)]
    hours = _local_hours(sales["occurred_at"], 1)
    assert ((hours >= 8) & (hours < 18)).mean() > 0.85
    assert (sales["occurred_at"].dt.day_of_week >= 5).mean() < 0.03
    created = leads["created_at"]
    assert (created.dt.day_of_week >= 5).mean() < 0.12  # 2/7 of days, about 8% of the leads
    won = leads["converted_at"].dropna()
    assert (won.dt.day_of_week >= 5).mean() < 0.05  # contracts are signed at work


def test_deals_close_at_quarter_end_and_slow_in_lulls(big_crm: dict[str, pd.DataFrame]) -> None:
    won = big_crm["leads"]["converted_at"].dropna()
    days = pd.Series(pd.date_range("2024-12-01", "2026-10-31", freq="D", tz="UTC"))
    weekday = days[days.dt.day_of_week < 5]
    month, mday = weekday.dt.month, weekday.dt.day
    quarter_end = month.isin([3, 6, 9, 12]) & (mday > weekday.dt.days_in_month - 21)
    lull = (month == 8) | ((month == 12) & (mday >= 20)) | ((month == 1) & (mday <= 2))
    per_day = won.dt.normalize().value_counts().reindex(weekday, fill_value=0).to_numpy()
    plain = ~quarter_end.to_numpy() & ~lull.to_numpy()
    ratio = per_day[quarter_end.to_numpy() & ~lull.to_numpy()].mean() / per_day[plain].mean()
    print(
        f"quarter-end / plain weekday wins: {ratio:.2f}; August: {per_day[(month == 8).to_numpy()].mean() / per_day[plain].mean():.2f}"
    )
    assert ratio > 1.3
    assert per_day[(month == 8).to_numpy()].mean() < 0.9 * per_day[plain].mean()


def test_mid_size_companies_convert_best(big_crm: dict[str, pd.DataFrame]) -> None:
    leads = big_crm["leads"].dropna(subset=["employees"])
    closed_or_old = leads["created_at"] < pd.Timestamp("2026-02-01", tz="UTC")
    leads = leads[closed_or_old]
    size = pd.cut(leads["employees"].astype(float), [0, 10, 100, 2000, np.inf])
    rate = leads["converted_at"].notna().groupby(size, observed=True).agg(["mean", "size"])
    print(rate.round(3))
    small, _, mid, large = rate["mean"]
    assert rate["size"].iloc[-1] > 200
    assert mid > 1.3 * small and mid > 1.3 * large


def test_bant_answers_are_noisy_and_contradict(big_crm: dict[str, pd.DataFrame]) -> None:
    leads = big_crm["leads"]
    big_budget = leads["budget"] > leads["budget"].quantile(0.9)
    assert (big_budget & (leads["purchase_timeframe"] == "12m+")).sum() > 20
    c_level = leads["job_title"].str.contains(r"(?i)\b(?:ceo|chief|founder)\b", na=False)
    not_deciding = leads.loc[c_level, "is_decision_maker"].astype("float64").dropna()
    assert 0.1 < 1 - not_deciding.mean() < 0.4
    timeframe = leads["converted_at"].notna().groupby(leads["purchase_timeframe"]).mean()
    assert timeframe["0-1m"] > timeframe["12m+"]  # noisy, still a signal


def test_gaps_depend_on_the_source(big_crm: dict[str, pd.DataFrame]) -> None:
    leads = big_crm["leads"]
    gaps = (
        leads[["purchase_timeframe", "need", "industry", "phone"]]
        .isna()
        .groupby(leads["source"])
        .mean()
    )
    print(gaps.round(2))
    assert (
        gaps.loc["web_form", "purchase_timeframe"]
        < 0.5 * gaps.loc["organic_search", "purchase_timeframe"]
    )
    assert gaps.loc["outbound", "purchase_timeframe"] > 0.8  # purchased lists have no BANT
    assert gaps.loc["outbound", "industry"] < 0.5 * gaps.loc["social", "industry"]
    assert gaps.loc["event", "phone"] > gaps.loc["web_form", "phone"]


def test_inbound_leads_arrive_with_the_form_that_created_them(
    big_crm: dict[str, pd.DataFrame],
) -> None:
    leads = big_crm["leads"].set_index("lead_id")
    acts = big_crm["activities"]
    at_creation = acts[acts["occurred_at"] == acts["lead_id"].map(leads["created_at"])]
    sources = leads.loc[at_creation["lead_id"], "source"].dropna()
    assert set(sources) <= {"web_form", "organic_search", "paid_search", "social"}
    assert set(at_creation["type"]) == {"form_submit", "content_download", "demo_request"}


def test_states_change_at_midnights_and_exits_within_days(big_crm: dict[str, pd.DataFrame]) -> None:
    """A move between transient states takes effect at a midnight and an exit falls inside
    the day whose state produced it: what makes a midnight snapshot's state sufficient."""
    latent = big_crm["latent"]
    exits = latent[latent["state"].isin(["won", "lost"])]
    moves = latent[~latent["state"].isin(["won", "lost"])].groupby("lead_id")["entered_at"]
    later = moves.nth(slice(1, None))
    assert (later == later.dt.normalize()).all()
    assert (exits["entered_at"] != exits["entered_at"].dt.normalize()).all()
