"""Point-in-time properties (hypothesis): nothing at or after T, and no outcome, reaches T.

The rule (``shared/data-contract.md``, "Point in time"): a feature at T uses only activities
with ``occurred_at < T`` and stage rows with ``entered_at < T``; lead attributes are known from
``created_at`` on; ``converted_at``, ``lost_at`` and ``deal_value`` are never features. A lead
is in the snapshot at T iff ``created_at < T`` and it has no outcome strictly before T; its
label is 1 iff ``converted_at`` is in (T, T + horizon].

An outcome exactly at T is not "strictly before T": the lead stays in the snapshot at T, and
its label at T is 0 (T is not in (T, T + h]); a stage row entered exactly at T (the synthetic
CRM enters ``won`` at ``converted_at``) is not seen at T.

How the feature properties are checked: one scenario is a handful of leads, their activities
and stage rows (before and after T) and a T; its *worlds* are the scenario ("base") and copies
of it with (a) future activities appended, (b) future stage rows appended, (c) outcomes set at
or after T, and all three at once. Features are computed at T for **every** lead (a superset of
the snapshot at T, so a membership change cannot hide a difference) and each world is compared
with the base by ``assert_frame_equal``; the error names the world. The same test checks that
(c) leaves the snapshot at T (its members) unchanged.

A ``build_feature_frame`` call costs a fixed ~0.25 s of CPU on a 2-core box (a fresh DuckDB
connection, a ~90-aggregate query, pandas merges) whatever the input size, so the default run
evaluates all worlds of a scenario in one call: each world's lead ids get a prefix
(``base/L0``, ``activities/L0``, ...). That relies on a lead's features depending only on its
own rows: a feature computed over the whole table (e.g. relative to the latest event anywhere)
would be seen by every world alike. ``test_truncating_a_synthetic_crm_at_t_changes_nothing``
and the slow copy (base and all-changes worlds in separate calls) cover that case, and
``test_the_property_catches_a_leak`` shows the check fails on planted leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.config import ACTIVITY_TYPES, STAGES
from pipelines.contracts import SCHEMAS, TIMEFRAMES, validate_table
from pipelines.features import frame as features_module
from pipelines.features.frame import build_feature_frame, lead_attributes
from pipelines.features.snapshots import build_snapshots, open_at
from pipelines.features.sql import engagement_sql, stage_sql
from pipelines.synthetic import generate_crm

DAY_US = 86_400_000_000
ORIGIN_US = pd.Timestamp("2026-01-01", tz="UTC").value // 1_000
NAT_US = np.iinfo(np.int64).min  # int64 view of NaT
LEAD_COLUMNS = list(SCHEMAS["leads"].to_schema().columns)
UNKNOWN_TYPE = "linkedin_message"  # not in the contract: counted as `other`
UNKNOWN_STAGE = "on_hold"  # not in the configured stage order
ORPHAN = "L_orphan"  # activities and stage rows of a lead that is not in `leads`
# offsets from T (microseconds) where an off-by-one would show: T itself, one microsecond
# either side, the window, trend and horizon edges
MARKS = sorted(
    {s * m for m in (0, 1, DAY_US, 7 * DAY_US, 14 * DAY_US, 28 * DAY_US, 30 * DAY_US, 90 * DAY_US)
     for s in (1, -1)}
    | {s * (m * DAY_US + d) for m in (7, 90) for d in (1, -1) for s in (1, -1)}
)  # fmt: skip

DEFAULT = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies ---------------------------------------------------------------------------


def offsets(lo_days: float, hi_days: float) -> st.SearchStrategy[int]:
    """Microsecond offsets from T in [lo, hi] days, with the boundary marks drawn often."""
    lo, hi = int(lo_days * DAY_US), int(hi_days * DAY_US)
    marks = [m for m in MARKS if lo <= m <= hi]
    return st.one_of(st.sampled_from(marks), st.integers(lo, hi))


def times(at: int, lo_days: float, hi_days: float) -> st.SearchStrategy[int]:
    return offsets(lo_days, hi_days).map(lambda offset: at + offset)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


AMOUNTS = maybe(st.floats(0, 1e9, allow_nan=False))
VALUES = st.one_of(st.none(), st.just(float("nan")), st.floats(-10, 1e4, allow_nan=False))
TYPES = st.sampled_from((*ACTIVITY_TYPES, UNKNOWN_TYPE))
STAGE_NAMES = st.sampled_from((*STAGES, UNKNOWN_STAGE))
SNAPSHOT_TIMES = st.one_of(
    st.integers(0, 365).map(lambda d: ORIGIN_US + d * DAY_US),  # midnight, like the calendars
    st.integers(0, 365 * DAY_US).map(lambda us: ORIGIN_US + us),
)


def lead_rows(lead_id: str, at: int) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "lead_id": st.just(lead_id),
            "created_at": times(at, -400, 30),
            "source": st.sampled_from([None, "web_form", "referral", "brand_new_channel"]),
            "owner_id": st.sampled_from([None, "rep_01", "rep_02"]),
            "company": st.sampled_from([None, "Acme Inc.", "Initech"]),
            "industry": st.sampled_from([None, "software", "retail"]),
            "employees": maybe(st.integers(0, 200_000)),
            "annual_revenue": AMOUNTS,
            "country": st.sampled_from([None, "US", "DE"]),
            "job_title": st.sampled_from([None, "VP Sales", "intern", "Head of IT"]),
            "email": st.sampled_from([None, "ann@gmail.com", "bob@acme.io", "Cy@Outlook.COM "]),
            "phone": st.sampled_from([None, "+1 555 0100"]),
            "budget": AMOUNTS,
            "purchase_timeframe": st.sampled_from([None, *TIMEFRAMES]),
            "need": st.sampled_from([None, "", "replace our legacy CRM"]),
            "is_decision_maker": st.sampled_from([None, True, False]),
            "converted_at": maybe(times(at, -200, 400)),
            "lost_at": maybe(times(at, -200, 400)),
            "deal_value": AMOUNTS,
        }
    )


def future_outcomes(lead: dict, at: int) -> st.SearchStrategy[dict]:
    """New outcomes at or after T (or none); an outcome already before T is history: kept."""

    def redraw(current: int | None) -> st.SearchStrategy:
        if current is not None and current < at:
            return st.just(current)
        return maybe(times(at, 0, 400))

    return st.fixed_dictionaries(
        {
            "converted_at": redraw(lead["converted_at"]),
            "lost_at": redraw(lead["lost_at"]),
            "deal_value": AMOUNTS,
        }
    )


@dataclass(frozen=True)
class Scenario:
    at: int  # T, microseconds since the epoch
    leads: list[dict]
    activities: list[tuple]  # (lead_id, occurred_at, type, value)
    stages: list[tuple]  # (lead_id, stage, entered_at)
    future_activities: list[tuple]  # all at or after T
    future_stages: list[tuple]  # all at or after T
    future_outcomes: list[dict]  # per lead: converted_at, lost_at (>= T or kept), deal_value

    def worlds(self) -> dict[str, tuple[list, list, list]]:
        """(leads, activities, stages) of the scenario and of its futures."""
        later = [
            {**lead, **new} for lead, new in zip(self.leads, self.future_outcomes, strict=True)
        ]
        acts = self.activities + self.future_activities
        stages = self.stages + self.future_stages
        return {
            "base": (self.leads, self.activities, self.stages),
            "activities": (self.leads, acts, self.stages),
            "stage_history": (self.leads, self.activities, stages),
            "outcomes": (later, self.activities, self.stages),
            "all": (later, acts, stages),
        }


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    at = draw(SNAPSHOT_TIMES)
    ids = [f"L{i}" for i in range(draw(st.integers(1, 6)))]
    leads = [draw(lead_rows(lead_id, at)) for lead_id in ids]
    who = st.sampled_from([*ids, ORPHAN])
    activity = lambda when: st.tuples(who, when, TYPES, VALUES)  # noqa: E731
    stage = lambda when: st.tuples(who, STAGE_NAMES, when)  # noqa: E731
    return Scenario(
        at=at,
        leads=leads,
        activities=draw(st.lists(activity(times(at, -200, 200)), max_size=12)),
        stages=draw(st.lists(stage(times(at, -200, 200)), max_size=8)),
        future_activities=draw(st.lists(activity(times(at, 0, 400)), min_size=1, max_size=8)),
        future_stages=draw(st.lists(stage(times(at, 0, 400)), min_size=1, max_size=5)),
        future_outcomes=[draw(future_outcomes(lead, at)) for lead in leads],
    )


# --- contract frames, built directly (validate_table costs ~25-60 ms a table) ---------------


def _ts(values: list[int | None]) -> pd.DatetimeIndex:
    us = np.array([NAT_US if v is None else v for v in values], dtype="int64")
    return pd.DatetimeIndex(us.view("datetime64[us]")).tz_localize("UTC")


def _str(values: list) -> pd.api.extensions.ExtensionArray:
    return pd.array(list(values), dtype="str")


def _float(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype="float64")


def leads_frame(rows: list[dict]) -> pd.DataFrame:
    def col(name: str) -> list:
        return [r[name] for r in rows]

    text = ("source", "owner_id", "company", "industry", "country", "job_title", "email", "phone")
    frame = {
        "lead_id": _str(col("lead_id")),
        "created_at": _ts(col("created_at")),
        **{c: _str(col(c)) for c in text[:4]},
        "employees": pd.array(col("employees"), dtype="Int64"),
        "annual_revenue": _float(col("annual_revenue")),
        **{c: _str(col(c)) for c in text[4:]},
        "budget": _float(col("budget")),
        "purchase_timeframe": _str(col("purchase_timeframe")),
        "need": _str(col("need")),
        "is_decision_maker": pd.array(col("is_decision_maker"), dtype="boolean"),
        "converted_at": _ts(col("converted_at")),
        "lost_at": _ts(col("lost_at")),
        "deal_value": _float(col("deal_value")),
    }
    return pd.DataFrame(frame)


def activities_frame(rows: list[tuple]) -> pd.DataFrame:
    lead_id, when, kind, value = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "lead_id": _str(lead_id),
            "occurred_at": _ts(when),
            "type": _str(kind),
            "value": _float(value),
        }
    )


def stages_frame(rows: list[tuple]) -> pd.DataFrame:
    lead_id, stage, when = zip(*rows, strict=True) if rows else ((), (), ())
    return pd.DataFrame({"lead_id": _str(lead_id), "stage": _str(stage), "entered_at": _ts(when)})


def _before(value: int | None, at: int) -> bool:
    return value is not None and value < at


def timestamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(us, unit="us", tz="UTC")


# --- features at T ------------------------------------------------------------------------


def features_for_every_lead(leads: list[dict], acts: list[tuple], stages: list[tuple], at: int):
    table = leads_frame(leads)
    snapshots = pd.DataFrame({"lead_id": table["lead_id"], "snapshot_at": _ts([at] * len(table))})
    return build_feature_frame(table, activities_frame(acts), stages_frame(stages), snapshots)


def _prefixed(name: str, world: tuple[list, list, list]) -> tuple[list, list, list]:
    leads, acts, stages = world
    return (
        [{**lead, "lead_id": f"{name}/{lead['lead_id']}"} for lead in leads],
        [(f"{name}/{lead_id}", *rest) for lead_id, *rest in acts],
        [(f"{name}/{lead_id}", *rest) for lead_id, *rest in stages],
    )


def features_per_world(scenario: Scenario, stacked: bool) -> dict[str, pd.DataFrame]:
    """Feature frame at T for every lead of each world, lead ids without the world prefix.

    Unstacked, only the scenario and the world with every change are computed (two calls).
    """
    worlds = scenario.worlds()
    if not stacked:
        return {
            name: features_for_every_lead(*worlds[name], scenario.at) for name in ("base", "all")
        }
    parts = [_prefixed(name, world) for name, world in worlds.items()]
    frame = features_for_every_lead(
        *(sum(rows, []) for rows in zip(*parts, strict=True)), scenario.at
    )
    n, out = len(scenario.leads), {}
    for i, name in enumerate(worlds):  # rows come back in snapshot order: world by world
        part = frame.iloc[i * n : (i + 1) * n].reset_index(drop=True)
        assert part["lead_id"].str.startswith(f"{name}/").all()
        part["lead_id"] = part["lead_id"].str.slice(len(name) + 1)
        out[name] = part
    return out


def assert_future_rows_never_change_features(scenario: Scenario, stacked: bool) -> None:
    frames = features_per_world(scenario, stacked)
    base = frames.pop("base")
    assert base["lead_id"].tolist() == [lead["lead_id"] for lead in scenario.leads]
    for changed, frame in frames.items():
        # `equals` (exact, NaN == NaN, same dtypes) is ~10x cheaper; assert_frame_equal
        # decides and explains when it is False (e.g. a sum added up in another order)
        if not frame.equals(base):
            pd.testing.assert_frame_equal(
                frame, base, obj=f"features at T, {changed} changed at/after T"
            )


def assert_future_outcomes_keep_membership(scenario: Scenario) -> None:
    """Outcomes set at or after T (exactly at T included) leave the snapshot at T as it was."""
    at, worlds = timestamp(scenario.at), scenario.worlds()
    base, later = leads_frame(worlds["base"][0]), leads_frame(worlds["outcomes"][0])
    expected = [
        lead["created_at"] < scenario.at
        and not _before(lead["converted_at"], scenario.at)
        and not _before(lead["lost_at"], scenario.at)
        for lead in scenario.leads
    ]
    assert open_at(base, at).tolist() == expected
    assert open_at(later, at).tolist() == expected
    members = build_snapshots(base, [at])["lead_id"].tolist()
    assert build_snapshots(later, [at])["lead_id"].tolist() == members


@DEFAULT
@given(scenarios())
def test_future_rows_never_change_features(scenario: Scenario) -> None:
    """(a) activities and (b) stage rows at or after T, (c) outcomes set at or after T: no
    feature at T changes, and (c) neither does the snapshot at T (who is in it)."""
    assert_future_rows_never_change_features(scenario, stacked=True)
    assert_future_outcomes_keep_membership(scenario)


@pytest.mark.slow
@SLOW
@given(scenarios())
def test_future_rows_never_change_features_slow(scenario: Scenario) -> None:
    """The key property with 1,000 examples, one world per ``build_feature_frame`` call."""
    assert_future_rows_never_change_features(scenario, stacked=False)
    assert_future_outcomes_keep_membership(scenario)


def _edge_scenario() -> Scenario:
    """One lead, and a future that starts exactly at T."""
    at = ORIGIN_US + 100 * DAY_US
    lead = {**dict.fromkeys(LEAD_COLUMNS), "lead_id": "L0", "created_at": at - 50 * DAY_US}
    return Scenario(
        at=at,
        leads=[lead],
        activities=[("L0", at - DAY_US, "web_visit", 1.0)],
        stages=[("L0", "new", at - 10 * DAY_US)],
        future_activities=[("L0", at, "demo_request", None)],
        future_stages=[("L0", "proposal", at)],
        future_outcomes=[{"converted_at": at, "lost_at": None, "deal_value": 5_000.0}],
    )


def _leaky_lead_attributes(leads: pd.DataFrame, cfg) -> pd.DataFrame:
    out = lead_attributes(leads, cfg)
    out["deal_value_leak"] = leads["deal_value"].to_numpy()
    return out


MUTANTS = {
    "activities": (
        "engagement_sql",
        lambda cfg: engagement_sql(cfg).replace(
            "occurred_at < s.snapshot_at", "occurred_at <= s.snapshot_at"
        ),
    ),
    "stage_history": (
        "stage_sql",
        lambda cfg: stage_sql(cfg).replace(
            "entered_at < s.snapshot_at", "entered_at <= s.snapshot_at"
        ),
    ),
    "outcomes": ("lead_attributes", _leaky_lead_attributes),
}


@pytest.mark.parametrize("leak", list(MUTANTS))
def test_the_property_catches_a_leak(leak: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a `<=` instead of `<`, or an outcome used as a feature, is caught."""
    scenario = _edge_scenario()
    assert_future_rows_never_change_features(scenario, stacked=True)  # the real code passes
    name, mutant = MUTANTS[leak]
    monkeypatch.setattr(features_module, name, mutant)
    with pytest.raises(AssertionError, match=f"{leak} changed at/after T"):
        assert_future_rows_never_change_features(scenario, stacked=True)


def test_truncating_a_synthetic_crm_at_t_changes_nothing() -> None:
    """No stacking: the full tables vs the tables cut at T, outcomes at/after T removed."""
    crm = generate_crm(300, seed=23)
    leads, acts, stages = crm["leads"], crm["activities"], crm["stage_history"]
    at = pd.Timestamp("2026-04-06", tz="UTC")
    snapshots = build_snapshots(leads, [at])
    assert len(snapshots) > 30 and snapshots["label"].sum() > 0
    assert (acts["occurred_at"] >= at).sum() > 100 and (stages["entered_at"] >= at).sum() > 10
    blind = leads.copy()
    for column in ("converted_at", "lost_at"):
        blind[column] = blind[column].where(blind[column] < at)  # NaT from T on
    blind["deal_value"] = np.nan
    full = build_feature_frame(leads, acts, stages, snapshots)
    cut = build_feature_frame(
        blind, acts[acts["occurred_at"] < at], stages[stages["entered_at"] < at], snapshots
    )
    pd.testing.assert_frame_equal(cut, full)
    assert full["eng_total_count"].notna().sum() > 10  # the comparison is not all-NaN


# --- membership and labels (pure pandas, no DuckDB) ----------------------------------------


@st.composite
def labelled_leads(draw: st.DrawFn) -> tuple[list[dict], list[int], int]:
    """Leads with outcomes around T and T + horizon, two snapshot times and the horizon."""
    at = draw(SNAPSHOT_TIMES)
    later = at + draw(st.sampled_from([0, 1, 7 * DAY_US]) | st.integers(-60 * DAY_US, 60 * DAY_US))
    horizon = draw(st.integers(1, 200))
    h = horizon * DAY_US
    edges = [t + d for t in (at, at + h, later, later + h) for d in (-1, 0, 1)]
    around = st.sampled_from(edges) | times(at, -300, 300)
    leads = []
    for i in range(draw(st.integers(1, 6))):
        lead = dict.fromkeys(LEAD_COLUMNS)  # attributes play no part in membership or labels
        lead["lead_id"] = f"L{i}"
        lead["created_at"] = draw(
            st.sampled_from([at - 1, at, at + 1, later]) | times(at, -400, 30)
        )
        lead["converted_at"] = draw(maybe(around))
        lead["lost_at"] = draw(maybe(around))
        leads.append(lead)
    return leads, sorted({at, later}), horizon


@DEFAULT
@given(labelled_leads())
def test_membership_and_label_follow_the_contract(case: tuple[list[dict], list[int], int]) -> None:
    """(d) in the snapshot at T iff created < T and no outcome < T; label iff T < conv <= T+h."""
    leads, dates, horizon = case
    h = horizon * DAY_US
    expected = [
        (
            lead["lead_id"],
            at,
            int(lead["converted_at"] is not None and at < lead["converted_at"] <= at + h),
        )
        for at in dates
        for lead in sorted(leads, key=lambda lead: lead["lead_id"])
        if lead["created_at"] < at
        and not _before(lead["converted_at"], at)
        and not _before(lead["lost_at"], at)
    ]
    snaps = build_snapshots(
        leads_frame(leads), [timestamp(at) for at in dates], horizon_days=horizon
    )
    got = [(r.lead_id, r.snapshot_at.value // 1_000, int(r.label)) for r in snaps.itertuples()]
    assert got == expected


# --- the direct frames are contract frames -------------------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_strategy_frames_are_what_validate_table_returns(scenario: Scenario) -> None:
    leads, acts, stages = scenario.worlds()["all"]
    for name, frame in (
        ("leads", leads_frame(leads)),
        ("activities", activities_frame(acts)),
        ("stage_history", stages_frame(stages)),
    ):
        pd.testing.assert_frame_equal(validate_table(name, frame), frame, obj=name)
