"""Pipeline health metrics: funnel, stage times, velocity, lead velocity, clean-up lists.

Pure functions over contract frames (``leads``, ``activities``, ``stage_history``, and
``lead_scores`` for MQLs): they never read the store and never mutate their inputs. Every
metric, its formula and its window are defined in the README (Pipeline health report:
metrics). Definitions:

* A lead *reached* a funnel stage when its furthest stage entered before ``as_of`` is that
  stage or a later one (a skipped stage, e.g. a deal without a demo, counts as passed).
  Every lead has reached the first stage. ``lost`` is an exit, not a funnel step.
* **MQL**: reached ``mql_stage`` (``contacted``), or was graded ``marketing_qualified`` or
  ``sales_qualified`` in a scoring run up to ``as_of``. **SQL**: reached ``sql_stage``
  (``qualified``), a decision made by sales. An *opportunity* is a lead that reached SQL.
* The *cohort* is the leads created in ``[as_of - window_days, as_of)``; *closed in the
  window* means converted or lost in that interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import StageConfig, utc
from pipelines.features import open_at

WON = "won"
MQL_STAGE = "contacted"
SQL_STAGE = "qualified"
QUALIFIED_LABELS = ("marketing_qualified", "sales_qualified")
DAY = pd.Timedelta(days=1)
ACTIONS = ("disqualify", "back to qualification", "recycle to nurture")


@dataclass(frozen=True)
class Rate:
    """``numerator / denominator``; NaN when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator else float("nan")


@dataclass(frozen=True)
class Velocity:
    """Pipeline velocity = open opportunities × win rate × average deal value ÷ cycle days.

    ``open_opportunities`` is None when the stage history records no SQL stage (who is an
    opportunity is unknown); the win rate then counts every lost lead (``all_lost``).
    """

    open_opportunities: int | None
    win_rate: Rate
    avg_deal_value: float
    cycle_days: float
    all_lost: bool = False

    @property
    def per_day(self) -> float:
        if not self.cycle_days > 0 or self.open_opportunities is None:
            return float("nan")
        return self.open_opportunities * self.win_rate.value * self.avg_deal_value / self.cycle_days


def funnel_stages(stages: StageConfig, won: str = WON) -> tuple[str, ...]:
    """The funnel steps in order: the open stages, then ``won`` (``lost`` is an exit)."""
    steps = tuple(s for s in stages.order if s not in stages.closed)
    return steps + ((won,) if won in stages.order else ())


def cohort(leads: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Leads created in ``[as_of - window_days, as_of)``."""
    as_of = utc(as_of)
    created = leads["created_at"]
    return leads[(created >= as_of - window_days * DAY) & (created < as_of)]


def furthest_stage(
    stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig
) -> pd.Series:
    """Per lead_id, the position in :func:`funnel_stages` of the furthest stage entered."""
    steps = funnel_stages(stages)
    known = stage_history[stage_history["entered_at"] < utc(as_of)]
    position = known["stage"].map({s: i for i, s in enumerate(steps)})
    return position.groupby(known["lead_id"]).max().dropna().astype("int64")


def current_stage(
    leads: pd.DataFrame, stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig
) -> pd.DataFrame:
    """Open leads at ``as_of`` with the stage they are in and since when.

    A lead without a stage entry is in the first stage since it was created.
    """
    as_of = utc(as_of)
    open_leads = leads.loc[open_at(leads, as_of), ["lead_id", "owner_id", "created_at"]]
    known = stage_history[stage_history["entered_at"] < as_of]
    order = known["stage"].map({s: i for i, s in enumerate(stages.order)}).fillna(-1)
    latest = (
        known.assign(_order=order)
        .sort_values(["lead_id", "entered_at", "_order"], kind="mergesort")
        .drop_duplicates("lead_id", keep="last")[["lead_id", "stage", "entered_at"]]
    )
    out = open_leads.merge(latest, on="lead_id", how="left", validate="one_to_one")
    out["stage"] = out["stage"].fillna(funnel_stages(stages)[0])
    out["entered_at"] = out["entered_at"].fillna(out["created_at"])
    return out.drop(columns="created_at").reset_index(drop=True)


def funnel(
    leads: pd.DataFrame,
    stage_history: pd.DataFrame,
    as_of: pd.Timestamp,
    stages: StageConfig,
    window_days: int = 365,
) -> pd.DataFrame:
    """One row per funnel stage: open leads in it now, and the cohort's stage-to-stage flow.

    Columns: ``stage``, ``in_stage_now`` (open leads at ``as_of``), ``reached`` (cohort
    leads that reached the stage), ``conversion_to_next`` (reached next ÷ reached this),
    ``conversion_from_first`` (reached ÷ cohort size).
    """
    steps = funnel_stages(stages)
    members = cohort(leads, as_of, window_days)["lead_id"]
    depth = furthest_stage(stage_history, as_of, stages).reindex(members).fillna(0)
    reached = np.array([int((depth >= i).sum()) for i in range(len(steps))])
    now = current_stage(leads, stage_history, as_of, stages)["stage"].value_counts()
    with np.errstate(divide="ignore", invalid="ignore"):
        to_next = np.append(reached[1:] / reached[:-1], np.nan)
        from_first = reached / reached[0] if reached[0] else np.full(len(steps), np.nan)
    return pd.DataFrame(
        {
            "stage": steps,
            "in_stage_now": now.reindex(list(steps), fill_value=0).to_numpy(dtype="int64"),
            "reached": reached,
            "conversion_to_next": to_next,
            "conversion_from_first": from_first,
        }
    )


def mql_to_sql(
    leads: pd.DataFrame,
    stage_history: pd.DataFrame,
    as_of: pd.Timestamp,
    stages: StageConfig,
    lead_scores: pd.DataFrame | None = None,
    window_days: int = 365,
) -> Rate:
    """Share of the cohort's MQLs that became SQLs (definitions in the module docstring)."""
    steps = funnel_stages(stages)
    members = cohort(leads, as_of, window_days)["lead_id"]
    depth = furthest_stage(stage_history, as_of, stages).reindex(members).fillna(0)
    mql = depth >= steps.index(MQL_STAGE)
    if lead_scores is not None:
        graded = lead_scores[
            (lead_scores["as_of"] <= utc(as_of))
            & lead_scores["qualification"].isin(QUALIFIED_LABELS)
        ]
        mql |= depth.index.isin(graded["lead_id"])
    sql = depth >= steps.index(SQL_STAGE)
    return Rate(int((mql & sql).sum()), int(mql.sum()))


def days_in_stage(
    stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig, window_days: int = 365
) -> pd.DataFrame:
    """Days spent per open stage, over completed stays that ended in the window.

    A stay runs from entering a stage to the lead's next stage entry. Columns: ``stage``,
    ``stays``, ``mean_days``, ``median_days``.
    """
    as_of = utc(as_of)
    known = stage_history[stage_history["entered_at"] < as_of].sort_values(
        ["lead_id", "entered_at"], kind="mergesort"
    )
    left = known.groupby("lead_id")["entered_at"].shift(-1)
    done = left.notna() & (left >= as_of - window_days * DAY) & ~known["stage"].isin(stages.closed)
    days = ((left - known["entered_at"]) / DAY)[done]
    by_stage = days.groupby(known.loc[done, "stage"]).agg(["count", "mean", "median"])
    steps = [s for s in funnel_stages(stages) if s not in stages.closed]
    out = by_stage.reindex(steps).rename(
        columns={"count": "stays", "mean": "mean_days", "median": "median_days"}
    )
    out["stays"] = out["stays"].fillna(0).astype("int64")
    return out.rename_axis("stage").reset_index()


def closed_in_window(
    leads: pd.DataFrame, as_of: pd.Timestamp, window_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(won, lost)``: leads converted, and leads lost without converting, in the window."""
    as_of = utc(as_of)
    start = as_of - window_days * DAY
    won = leads["converted_at"].between(start, as_of, inclusive="left")
    converted = leads["converted_at"].notna() & (leads["converted_at"] < as_of)
    lost = leads["lost_at"].between(start, as_of, inclusive="left") & ~converted
    return leads[won], leads[lost]


def cycle_days(leads: pd.DataFrame, as_of: pd.Timestamp, window_days: int = 365) -> pd.Series:
    """Days from creation to conversion of the deals won in the window (one value per deal)."""
    won, _ = closed_in_window(leads, as_of, window_days)
    return ((won["converted_at"] - won["created_at"]) / DAY).reset_index(drop=True)


def records_sql(stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig) -> bool:
    """Whether any lead entered the SQL stage, or an open stage after it, before ``as_of``.

    A history of outcomes only (won, lost) cannot tell an opportunity from a lead.
    """
    steps = funnel_stages(stages)
    later = [s for s in steps[steps.index(SQL_STAGE) :] if s not in stages.closed and s != WON]
    known = stage_history["entered_at"] < utc(as_of)
    return bool((known & stage_history["stage"].isin(later)).any())


def pipeline_velocity(
    leads: pd.DataFrame,
    stage_history: pd.DataFrame,
    as_of: pd.Timestamp,
    stages: StageConfig,
    window_days: int = 365,
) -> Velocity:
    """Open opportunities at ``as_of``, with win rate, deal value and cycle of the window.

    Without a recorded SQL stage (:func:`records_sql`), open opportunities are unknown
    (None) and the win rate counts every lead lost in the window, since no lost lead could
    have been recorded as an opportunity.
    """
    opportunity = funnel_stages(stages).index(SQL_STAGE)
    depth = furthest_stage(stage_history, as_of, stages)
    opportunities = depth.index[depth >= opportunity]
    open_leads = leads.loc[open_at(leads, utc(as_of)), "lead_id"]
    won, lost = closed_in_window(leads, as_of, window_days)
    known = records_sql(stage_history, as_of, stages)
    lost_opportunities = int(lost["lead_id"].isin(opportunities).sum()) if known else len(lost)
    deal = won["deal_value"].dropna()
    return Velocity(
        open_opportunities=int(open_leads.isin(opportunities).sum()) if known else None,
        win_rate=Rate(len(won), len(won) + lost_opportunities),
        avg_deal_value=float(deal.mean()) if len(deal) else float("nan"),
        cycle_days=float(cycle_days(leads, as_of, window_days).mean()),
        all_lost=not known,
    )


def lead_velocity_rate(
    stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig, months: int = 12
) -> pd.DataFrame:
    """Qualified leads (first reached SQL) per complete calendar month, with month-over-month growth.

    Columns: ``month`` (first day, UTC), ``qualified_leads``, ``lvr`` (growth over the month
    before, a fraction). The last row is the latest complete month before ``as_of``.
    """
    steps = funnel_stages(stages)
    as_of = utc(as_of)
    later = stage_history[
        stage_history["stage"].isin(steps[steps.index(SQL_STAGE) :])
        & (stage_history["entered_at"] < as_of)
    ]
    first = later.groupby("lead_id")["entered_at"].min()
    index = first.dt.year * 12 + first.dt.month - 1
    last = as_of.year * 12 + as_of.month - 2  # the month before the one holding as_of
    span = np.arange(last - months, last + 1)
    counts = index.value_counts().reindex(span, fill_value=0).astype("int64")
    month = [pd.Timestamp(year=int(i // 12), month=int(i % 12) + 1, day=1, tz="UTC") for i in span]
    frame = pd.DataFrame({"month": month, "qualified_leads": counts.to_numpy()})
    frame["lvr"] = frame["qualified_leads"].astype("float64").pct_change().replace(np.inf, np.nan)
    return frame.iloc[1:].reset_index(drop=True)


def stagnant_leads(
    leads: pd.DataFrame, stage_history: pd.DataFrame, as_of: pd.Timestamp, stages: StageConfig
) -> pd.DataFrame:
    """Open leads in a stage for longer than its ``stagnant_days`` threshold.

    Columns: ``lead_id``, ``owner_id``, ``stage``, ``entered_at``, ``days_in_stage``,
    ``threshold_days``; longest first.
    """
    now = current_stage(leads, stage_history, as_of, stages)
    now["days_in_stage"] = (utc(as_of) - now["entered_at"]) / DAY
    now["threshold_days"] = now["stage"].map(stages.stagnant_days).astype("float64")
    stuck = now[now["days_in_stage"] > now["threshold_days"]]
    return stuck.sort_values(["days_in_stage", "lead_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def dormant_leads(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    as_of: pd.Timestamp,
    dormant_days: int = 30,
    ignore_types: tuple[str, ...] = ("unsubscribe", "email_bounce"),
) -> pd.DataFrame:
    """Open leads with no activity (other than ``ignore_types``) for ``dormant_days`` or more.

    A lead never active counts from its creation. Columns: ``lead_id``, ``owner_id``,
    ``last_activity_at`` (NaT when never active), ``days_idle``; idlest first.
    """
    as_of = utc(as_of)
    open_leads = leads.loc[open_at(leads, as_of), ["lead_id", "owner_id", "created_at"]]
    acts = activities[(activities["occurred_at"] < as_of) & ~activities["type"].isin(ignore_types)]
    last = acts.groupby("lead_id")["occurred_at"].max().rename("last_activity_at")
    out = open_leads.merge(last, left_on="lead_id", right_index=True, how="left")
    out["days_idle"] = (as_of - out["last_activity_at"].fillna(out["created_at"])) / DAY
    idle = out[out["days_idle"] >= dormant_days].drop(columns="created_at")
    return idle.sort_values(["days_idle", "lead_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def cleanup_list(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    stage_history: pd.DataFrame | None,
    as_of: pd.Timestamp,
    stages: StageConfig,
    dormant_days: int = 30,
    disqualify_days: int = 90,
) -> pd.DataFrame:
    """Stagnant or dormant open leads, each with a suggested action.

    Actions, first rule that applies: ``disqualify`` when idle for ``disqualify_days`` or
    more; ``back to qualification`` when stagnant in the SQL stage or later (a stalled deal:
    re-check BANT); else ``recycle to nurture``. Without a stage history only dormancy is
    known. Columns: ``lead_id``, ``owner_id``, ``stage``, ``days_in_stage``, ``stagnant``,
    ``days_idle``, ``dormant``, ``action``; ordered by action, then idlest first.
    """
    as_of = utc(as_of)
    idle = dormant_leads(leads, activities, as_of, dormant_days=0)
    if stage_history is not None:
        now = current_stage(leads, stage_history, as_of, stages)
        stuck = stagnant_leads(leads, stage_history, as_of, stages)["lead_id"]
        now = now.assign(
            days_in_stage=(as_of - now["entered_at"]) / DAY, stagnant=now["lead_id"].isin(stuck)
        )
    else:
        now = idle[["lead_id", "owner_id"]].assign(stage=None, days_in_stage=np.nan, stagnant=False)
    out = now.drop(columns=["entered_at"], errors="ignore").merge(
        idle[["lead_id", "days_idle"]], on="lead_id", how="left", validate="one_to_one"
    )
    out["dormant"] = out["days_idle"] >= dormant_days
    out = out[out["stagnant"] | out["dormant"]].copy()
    steps = funnel_stages(stages)
    late = out["stage"].isin(steps[steps.index(SQL_STAGE) :])
    out["action"] = np.select(
        [out["days_idle"] >= disqualify_days, out["stagnant"] & late],
        list(ACTIONS[:2]),
        default=ACTIONS[2],
    )
    rank = out["action"].map({a: i for i, a in enumerate(ACTIONS)})
    order = np.lexsort((out["lead_id"].to_numpy(), -out["days_idle"].to_numpy(), rank.to_numpy()))
    return out.iloc[order].reset_index(drop=True)
