"""Tests for the synthetic CRM: contract shape, invariants and plausible behaviour.

Mechanisms measured on a larger CRM (seasons, segments, the latent state) are in
``test_behaviour.py``; the oracle in ``test_oracle.py``; the options in ``test_options.py``.
"""

import time

import numpy as np
import pandas as pd
import pytest

from pipelines.contracts import validate_table
from pipelines.synthetic import DEFAULT_END, generate_crm
from pipelines.synthetic import crm as crm_module

N_LEADS = 2_000
DAY = pd.Timedelta(days=1)
HIGH_INTENT = ["demo_request", "pricing_page_view", "meeting", "email_reply"]
CONTRACT_TYPES = {
    "email_open", "email_click", "email_reply", "web_visit", "pricing_page_view",
    "content_download", "webinar_attended", "form_submit", "demo_request", "meeting", "call",
    "unsubscribe", "email_bounce",
}  # fmt: skip
STAGES = {"new", "contacted", "qualified", "demo", "proposal", "negotiation", "won", "lost"}
TS, STR = "datetime64[us, UTC]", "str"
DTYPES = {
    "leads": {
        "lead_id": STR, "created_at": TS, "source": STR, "owner_id": STR, "company": STR,
        "industry": STR, "employees": "Int64", "annual_revenue": "float64", "country": STR,
        "job_title": STR, "email": STR, "phone": STR, "budget": "float64",
        "purchase_timeframe": STR, "need": STR, "is_decision_maker": "boolean",
        "converted_at": TS, "lost_at": TS, "deal_value": "float64",
    },
    "activities": {"lead_id": STR, "occurred_at": TS, "type": STR, "value": "float64"},
    "stage_history": {"lead_id": STR, "stage": STR, "entered_at": TS},
}  # fmt: skip


@pytest.fixture(scope="module")
def crm() -> dict[str, pd.DataFrame]:
    return generate_crm(N_LEADS, seed=7)


@pytest.fixture(scope="module")
def leads(crm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return crm["leads"].set_index("lead_id")


def _converted(leads: pd.DataFrame) -> pd.Series:
    return leads["converted_at"].notna()


def _events_per_lead(events: pd.DataFrame, start: pd.Series, stop: pd.Series) -> pd.Series:
    """Events of each lead with start <= occurred_at < stop (start, stop indexed by lead_id)."""
    window = events.join(pd.DataFrame({"start": start, "stop": stop}), on="lead_id", how="inner")
    inside = (window["occurred_at"] >= window["start"]) & (window["occurred_at"] < window["stop"])
    return inside.groupby(window["lead_id"]).sum().reindex(start.index, fill_value=0)


def test_same_seed_gives_identical_frames() -> None:
    first, second = generate_crm(500, seed=3), generate_crm(500, seed=3)
    for table in DTYPES:
        pd.testing.assert_frame_equal(first[table], second[table])


def test_different_seeds_give_different_frames() -> None:
    first, second = generate_crm(500, seed=3), generate_crm(500, seed=4)
    for table in DTYPES:
        assert not first[table].equals(second[table])


def test_naive_end_is_read_as_utc() -> None:
    naive = generate_crm(200, seed=1, end=pd.Timestamp("2026-11-01"))
    aware = generate_crm(200, seed=1, end=DEFAULT_END)
    for table in DTYPES:
        pd.testing.assert_frame_equal(naive[table], aware[table])


def test_the_latent_frame_does_not_change_the_tables() -> None:
    plain, with_latent = generate_crm(500, seed=3), generate_crm(500, seed=3, with_latent=True)
    assert set(with_latent) == {*DTYPES, "latent"}
    for table in DTYPES:
        pd.testing.assert_frame_equal(plain[table], with_latent[table])


def test_chunks_join_into_one_crm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm_module, "CHUNK_LEADS", 300)
    first, second = generate_crm(1000, seed=5), generate_crm(1000, seed=5)
    for table in DTYPES:
        pd.testing.assert_frame_equal(first[table], second[table])
        validate_table(table, first[table])
    ids = first["leads"]["lead_id"]
    assert ids.is_unique and ids.iloc[0] == "L0000001" and ids.iloc[-1] == "L0001000"
    assert first["leads"]["created_at"].is_monotonic_increasing  # ids follow creation
    assert set(first["activities"]["lead_id"]) <= set(ids)


@pytest.mark.parametrize("kwargs", [{"n_leads": 0}, {"n_leads": 10, "history_days": 0}])
def test_rejects_empty_requests(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_crm(**kwargs)


def test_columns_and_dtypes_follow_the_contract(crm: dict[str, pd.DataFrame]) -> None:
    assert set(crm) == set(DTYPES)
    for table, dtypes in DTYPES.items():
        assert list(crm[table].columns) == list(dtypes), table
        assert crm[table].dtypes.astype(str).to_dict() == dtypes, table
    assert crm["leads"]["phone"].isna().any()
    assert crm["leads"]["phone"].dtype.na_value is np.nan  # missing strings are NaN
    for table in DTYPES:  # the contract's own checks, as every read and write runs them
        assert len(validate_table(table, crm[table])) == len(crm[table]), table


def test_ids_are_unique_and_referenced(crm: dict[str, pd.DataFrame]) -> None:
    ids = crm["leads"]["lead_id"]
    assert ids.is_unique and len(ids) == N_LEADS
    assert ids.str.fullmatch(r"L\d{7}").all()
    assert set(crm["activities"]["lead_id"]) <= set(ids)
    assert set(crm["stage_history"]["lead_id"]) == set(ids)


def test_lead_attributes_are_in_range(leads: pd.DataFrame) -> None:
    assert leads["created_at"].min() >= DEFAULT_END - 730 * DAY
    assert leads["created_at"].max() < DEFAULT_END
    assert leads["source"].dropna().isin(
        ["web_form", "organic_search", "paid_search", "social", "referral", "event", "outbound",
         "partner"]
    ).all()  # fmt: skip
    assert leads["owner_id"].dropna().str.fullmatch(r"rep_\d\d").all()
    assert leads["country"].dropna().str.fullmatch(r"[A-Z]{2}").all()
    assert (
        leads["purchase_timeframe"].dropna().isin(["0-1m", "1-3m", "3-6m", "6-12m", "12m+"]).all()
    )
    for column in ["employees", "annual_revenue", "budget", "deal_value"]:
        assert (leads[column].dropna() >= 0).all(), column
    assert 0.3 < leads["budget"].isna().mean() < 0.6  # not stated, or not typed in
    assert leads["email"].dropna().str.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+").all()
    assert leads["phone"].dropna().str.contains(" 555 ").all()  # fictional numbers only
    assert leads["job_title"].nunique() > 50  # free text, many spellings


def test_outcomes_are_consistent(leads: pd.DataFrame) -> None:
    converted, lost = _converted(leads), leads["lost_at"].notna()
    assert not (converted & lost).any()
    assert (leads["deal_value"].notna() == converted).all()
    for column in ["converted_at", "lost_at"]:
        outcome = leads[column].dropna()
        assert (outcome > leads.loc[outcome.index, "created_at"]).all()
        assert (outcome < DEFAULT_END).all()
    days = (leads["converted_at"] - leads["created_at"]).dropna() / DAY
    assert days.min() > 0 and 20 <= days.median() <= 150


def test_activities_lie_inside_each_leads_life(crm: dict, leads: pd.DataFrame) -> None:
    events = crm["activities"].join(leads[["created_at", "converted_at", "lost_at"]], on="lead_id")
    assert (events["occurred_at"] >= events["created_at"]).all()
    assert (events["occurred_at"] < DEFAULT_END).all()
    assert not (events["occurred_at"] >= events["lost_at"]).any()
    assert not (events["occurred_at"] > events["converted_at"] + 30 * DAY).any()
    order = crm["activities"].sort_values(["lead_id", "occurred_at"], kind="stable")
    pd.testing.assert_frame_equal(crm["activities"], order.reset_index(drop=True))
    assert set(events["type"]) - CONTRACT_TYPES <= {"chat_message"}
    measured = events["type"].isin(["web_visit", "pricing_page_view", "webinar_attended",
                                    "meeting", "call"])  # fmt: skip
    assert events.loc[~measured, "value"].isna().all()
    assert (events.loc[measured, "value"] > 0).all()


def test_engagement_volume_is_plausible_and_heavy_tailed(crm: dict) -> None:
    per_lead = (
        crm["activities"].groupby("lead_id").size().reindex(crm["leads"]["lead_id"], fill_value=0)
    )
    assert 10 <= per_lead.mean() <= 30
    assert per_lead.max() > 5 * per_lead.median()


def test_stage_history_matches_outcomes(crm: dict, leads: pd.DataFrame) -> None:
    stages = crm["stage_history"]
    assert set(stages["stage"]) == STAGES
    by_lead = stages.groupby("lead_id", sort=False)
    first, last = by_lead.first(), by_lead.last()
    assert (first["stage"] == "new").all()
    assert (first["entered_at"] == leads.loc[first.index, "created_at"]).all()
    assert (by_lead["entered_at"].diff().dropna() > pd.Timedelta(0)).all()  # strictly increasing
    assert (stages["entered_at"] < DEFAULT_END).all()
    outcome_rows = stages[stages["stage"].isin(["won", "lost"])]
    assert outcome_rows["lead_id"].is_unique  # won/lost only once, as the last stage
    won, lost = last["stage"] == "won", last["stage"] == "lost"
    assert (won == _converted(leads).loc[last.index]).all()
    assert (lost == leads.loc[last.index, "lost_at"].notna()).all()
    assert (last.loc[won, "entered_at"] == leads.loc[won[won].index, "converted_at"]).all()
    assert (last.loc[lost, "entered_at"] == leads.loc[lost[lost].index, "lost_at"]).all()
    moved_back = stages.groupby("lead_id")["stage"].apply(lambda s: (s == "qualified").sum() > 1)
    assert moved_back.any()


def test_conversion_rate_is_plausible(leads: pd.DataFrame) -> None:
    rate = _converted(leads).mean()
    print(f"conversion rate {rate:.3f}")
    assert 0.08 <= rate <= 0.20


def test_converters_show_high_intent_before_converting(crm: dict, leads: pd.DataFrame) -> None:
    # Non-converters are looked at the same age after creation as converters convert at.
    converted = _converted(leads)
    delays = (leads.loc[converted, "converted_at"] - leads.loc[converted, "created_at"]).to_numpy()
    others = leads[~converted]
    reference = others["created_at"] + np.random.default_rng(0).choice(delays, len(others))
    still_open = (reference < others["lost_at"].fillna(DEFAULT_END)) & (reference < DEFAULT_END)
    reference = reference[still_open]
    high_intent = crm["activities"][crm["activities"]["type"].isin(HIGH_INTENT)]
    conv_at = leads.loc[converted, "converted_at"]
    before_conversion = _events_per_lead(high_intent, conv_at - 30 * DAY, conv_at).mean()
    before_reference = _events_per_lead(high_intent, reference - 30 * DAY, reference).mean()
    print(f"high-intent events in 30 days: {before_conversion:.2f} vs {before_reference:.2f}")
    assert before_conversion > 3 * before_reference


def test_lead_attributes_relate_to_conversion(crm: dict, leads: pd.DataFrame) -> None:
    converted = _converted(leads)
    free_mail = leads["email"].str.contains(r"@(?:gmail|yahoo|hotmail|outlook)\.com$", na=False)
    assert converted[free_mail].mean() < converted[~free_mail].mean()
    timeframe = converted.groupby(leads["purchase_timeframe"]).mean()
    assert timeframe["0-1m"] > timeframe["3-6m"] > timeframe["12m+"]
    vague = leads["need"].str.contains("just browsing|student project|curious", na=False)
    concrete = leads["need"].str.contains("legacy CRM|lead routing|manual data entry", na=False)
    assert converted[concrete].mean() > 2 * converted[vague].mean()
    senior = leads["job_title"].str.contains(r"(?i)\b(?:ceo|founder|vp|vice president|chief)\b")
    junior = leads["job_title"].str.contains(r"(?i)\b(?:intern|student)\b")
    deciders = leads["is_decision_maker"].astype("float64")
    # Declared authority contradicts the title now and then (a box left at its default).
    assert deciders[senior].mean() > 0.5 > 0.2 > deciders[junior].mean()
    assert converted[senior].mean() > converted[junior].mean()
    opted_out = crm["activities"].query("type in ['unsubscribe', 'email_bounce']")["lead_id"]
    assert converted[leads.index.isin(opted_out)].mean() < converted.mean()


def test_100k_leads_generate_within_30_seconds() -> None:
    start = time.perf_counter()
    big = generate_crm(100_000, seed=0)
    elapsed = time.perf_counter() - start
    rows = {table: len(frame) for table, frame in big.items()}
    print(f"100k leads in {elapsed:.1f} s: {rows}")
    assert elapsed <= 30
    assert 1_000_000 <= rows["activities"] <= 3_000_000
