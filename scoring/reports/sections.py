"""The health report's score-based sections: scores, clean-up, revenue, segments, monitoring.

Each function takes the :class:`~scoring.reports.render.ReportInputs` and this run's ``lead_scores``
rows, and returns the section's HTML body.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import empty_table
from scoring.reports import charts as report_charts
from scoring.reports import health, metrics
from scoring.reports.coverage import Coverage, unknown_kpi, unknown_note
from scoring.reports.html import (
    Column,
    Markup,
    chart_card,
    data_table,
    empty_note,
    esc,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    grade_badge,
    kpi,
)
from scoring.reports.inputs import ReportInputs

TOP_BARS = 25


def runs_at(lead_scores: pd.DataFrame | None, at: pd.Timestamp | None) -> pd.DataFrame:
    """The ``lead_scores`` rows of the run at ``at`` (empty when there is none)."""
    if lead_scores is None or at is None:
        return empty_table("lead_scores")
    return lead_scores[lead_scores["as_of"] == at].reset_index(drop=True)


def _previous_run(inputs: ReportInputs) -> pd.Timestamp | None:
    if inputs.lead_scores is None:
        return None
    before = inputs.lead_scores.loc[inputs.lead_scores["as_of"] < inputs.as_of, "as_of"]
    return pd.Timestamp(before.max()) if len(before) else None


def _no_run(inputs: ReportInputs) -> str:
    day = inputs.as_of.date()
    return empty_note(f"No scoring run for {day}: run `leadscore score --as-of {day}` first.")


def _grade_verdict(outcomes: pd.DataFrame, horizon_days: int) -> str:
    rates = outcomes.set_index("grade")["conversion_rate"].dropna()
    if rates.empty:
        return "No leads in that run."
    text = ", ".join(f"grade {g}: {fmt_pct(r)}" for g, r in rates.items())
    ordered = bool((rates.diff().dropna() <= 0).all())
    verdict = (
        '<span class="ok">grades are in order</span> (better grades converted more)'
        if ordered
        else '<span class="flag">grades are out of order</span>: check calibration'
    )
    days = int(outcomes["observed_days"].iloc[0])
    window = "" if days >= horizon_days else f" Only {days} of {horizon_days} days observed so far."
    return f"Converted within the horizon: {esc(text)}; {verdict}.{esc(window)}"


def scores_section(inputs: ReportInputs, current: pd.DataFrame) -> str:
    if current.empty:
        return _no_run(inputs)
    previous_at = _previous_run(inputs)
    previous = runs_at(inputs.lead_scores, previous_at)
    label = f"run of {previous_at.date()}" if previous_at is not None else ""
    cards = [
        chart_card(
            report_charts.score_histogram(current["score"], previous["score"], label), "scores"
        ),
        chart_card(report_charts.grade_mix_chart(current["grade"]), "grade mix"),
    ]
    dates = inputs.lead_scores["as_of"] if inputs.lead_scores is not None else pd.Series()
    earlier = metrics.earlier_run(dates, inputs.as_of, inputs.horizon_days)
    if earlier is None:
        hint = (inputs.as_of - pd.Timedelta(days=inputs.horizon_days)).date()
        why = (
            f"no earlier scoring run; score an earlier date too (`leadscore score --as-of {hint}`)"
        )
        cards.append(unknown_note("Grades against outcomes", why))
    else:
        outcomes = metrics.grade_outcomes(
            runs_at(inputs.lead_scores, earlier), inputs.leads, inputs.as_of, inputs.horizon_days
        )
        chart = report_charts.grade_outcome_chart(outcomes, str(earlier.date()))
        columns = [
            Column("grade", "grade", grade_badge),
            Column("leads", "leads scored", fmt_int, True),
            Column("converted", "converted", fmt_int, True),
            Column("conversion_rate", "observed", fmt_pct, True),
            Column("mean_probability", "predicted", fmt_pct, True),
        ]
        caption = _grade_verdict(outcomes, inputs.horizon_days)
        table = data_table(outcomes, columns, sortable=False)
        cards.append(chart_card(chart, "grades against outcomes"))
        cards.append(
            f'<div class="card"><h3>Grades of {earlier.date()} against outcomes</h3>'
            f'<p class="lead">{caption}</p>{table}</div>'
        )
    return f'<div class="grid">{"".join(cards)}</div>'


def _why(row: pd.Series, thresholds: dict[str, int]) -> str:
    parts = []
    if row["stagnant"]:
        limit = thresholds.get(str(row["stage"]), 0)
        parts.append(f"{row['days_in_stage']:.0f} days in {row['stage']} (limit {limit})")
    if row["dormant"]:
        parts.append(f"no activity for {row['days_idle']:.0f} days")
    return "; ".join(parts)


def cleanup_section(
    inputs: ReportInputs, current: pd.DataFrame, cov: Coverage | None = None
) -> str:
    """Stagnant or dormant leads; only dormant ones when the CRM records no stages."""
    stages_known = cov is None or cov.stages
    todo = health.cleanup_list(
        inputs.leads,
        inputs.activities,
        inputs.stage_history if stages_known else None,
        inputs.as_of,
        inputs.stages,
        inputs.dormant_days,
        inputs.disqualify_days,
    )
    if todo.empty:
        return empty_note("Nothing to clean up: no stagnant or dormant open leads.")
    todo = todo.merge(current[["lead_id", "grade", "score"]], on="lead_id", how="left")
    todo["why"] = todo.apply(_why, axis=1, args=(inputs.stages.stagnant_days,))
    counts = todo["action"].value_counts()
    notes = {
        "disqualify": f"idle {inputs.disqualify_days}+ days",
        "back to qualification": "stalled at SQL or later",
        "recycle to nurture": "stalled early, or dormant",
    }
    cards = "".join(kpi(a, fmt_int(counts.get(a, 0)), notes[a]) for a in health.ACTIONS)
    if cov is not None and not stages_known:
        cards += unknown_kpi("stagnant", cov.no_stages + "; dormant leads only")
    by_owner = pd.crosstab(todo["owner_id"].fillna("(unassigned)"), todo["action"])
    by_owner = by_owner.reindex(columns=list(health.ACTIONS), fill_value=0)
    by_owner["total"] = by_owner.sum(axis=1)
    by_owner = by_owner.sort_values("total", ascending=False).rename_axis("owner").reset_index()
    short = {"back to qualification": "re-qualify", "recycle to nurture": "nurture"}
    owner_cols = [Column("owner", "owner")] + [
        Column(c, short.get(c, c), fmt_int, True) for c in [*health.ACTIONS, "total"]
    ]
    shown = todo.head(inputs.max_rows)
    list_cols = [
        Column("lead_id", "lead"),
        Column("owner_id", "owner"),
        Column("stage", "stage"),
        Column("why", "why"),
        Column("grade", "grade", grade_badge),
        Column("score", "score", fmt_num, True),
        Column("action", "suggested action"),
    ]
    more = f"Showing {len(shown):,} of {len(todo):,} leads." if len(todo) > len(shown) else ""
    chart = report_charts.cleanup_chart(todo, health.funnel_stages(inputs.stages))
    return (
        f'<div class="kpis">{cards}</div><div class="grid" style="margin-top:16px">'
        f"{chart_card(chart, 'clean-up by stage')}"
        f'<div class="card"><h3>By owner</h3><div class="scroll short">'
        f"{data_table(by_owner, owner_cols)}</div></div>"
        f'<div class="card span"><h3>Leads to clean up</h3><p class="lead">{esc(more)} Ordered '
        f'by action, then longest idle.</p><div class="scroll">{data_table(shown, list_cols)}'
        "</div></div></div>"
    )


def revenue_section(
    inputs: ReportInputs, current: pd.DataFrame, cov: Coverage | None = None
) -> str:
    """Expected revenue by owner and source; expected conversions when no deal has a value."""
    if current.empty:
        return _no_run(inputs)
    money = cov is None or cov.deal_values > 0
    # Without deal values, every expected value is probability × the configured default:
    # an assumption, not revenue. Σ probability (expected conversions) is what is known.
    scores = current if money else current.assign(expected_value=current["probability"])
    what = "expected revenue" if money else "expected conversions"
    fmt = fmt_money if money else (lambda v: fmt_num(v, 1))
    cards = []
    for by, title in (("owner_id", "owner"), ("source", "source")):
        table = metrics.expected_revenue(scores, inputs.leads, by)
        top = table.head(TOP_BARS)
        chart = report_charts.hbar_chart(
            top[by], top["expected_revenue"], f"{what.capitalize()} by {title}", money=money
        )
        columns = [
            Column(by, title),
            Column("leads", "open leads", fmt_int, True),
            Column("expected_revenue", what, fmt, True),
            Column("share", "share", fmt_pct, True),
        ]
        scroll = f'<div class="scroll short">{data_table(table, columns)}</div>'
        cards.append(chart_card(chart, f"{what} by {title}", scroll))
    if money:
        total = kpi(
            "Expected revenue", fmt_money(current["expected_value"].sum()), "all open leads"
        )
    else:
        assert cov is not None
        total = unknown_kpi("Expected revenue", cov.no_deal_values) + kpi(
            "Expected conversions", fmt_num(current["probability"].sum(), 0), "Σ probability"
        )
    return (
        f'<div class="kpis">{total}{kpi("Open leads scored", fmt_int(len(current)))}</div>'
        f'<div class="grid" style="margin-top:16px">{"".join(cards)}</div>'
    )


def segments_section(
    inputs: ReportInputs, current: pd.DataFrame, cov: Coverage | None = None
) -> str:
    """Cohort outcomes and open scored leads per source and industry."""
    money = cov is None or cov.deal_values > 0
    charts, tables = [], []
    for by in ("source", "industry"):
        table = metrics.breakdown(inputs.leads, current, inputs.as_of, by, inputs.window_days)
        ranked = table[table["leads"] > 0].sort_values("conversion_rate", ascending=False)
        chart = report_charts.hbar_chart(
            ranked[by], ranked["conversion_rate"], f"Cohort conversion rate by {by}"
        )
        charts.append(chart_card(chart, f"conversion by {by}"))
        columns = [
            Column(by, by),
            Column("leads", "cohort leads", fmt_int, True),
            Column("won", "won", fmt_int, True),
            Column("lost", "lost", fmt_int, True),
            Column("conversion_rate", "conversion", fmt_pct, True),
            Column("win_rate", "win rate", fmt_pct, True),
            Column("avg_deal_value", "avg deal", fmt_money, True),
            Column("open_scored", "open now", fmt_int, True),
            Column("mean_score", "mean score", fmt_num, True),
            Column("expected_revenue", "expected revenue", fmt_money, True),
        ]
        if not money:  # no deal values: no average deal, no revenue to expect
            columns = [c for c in columns if c.key not in ("avg_deal_value", "expected_revenue")]
        tables.append(
            f'<div class="card span"><h3>By {by}</h3><div class="scroll short">'
            f"{data_table(table, columns)}</div></div>"
        )
    return f'<div class="grid">{"".join(charts + tables)}</div>'


def _psi_status(value: float) -> Markup:
    if np.isnan(value):
        return Markup("-")
    if value > metrics.PSI_THRESHOLD:
        return Markup('<span class="flag">significant shift</span>')
    return Markup("moderate shift" if value > 0.1 else '<span class="ok">stable</span>')


def _reference_scores(reference: pd.DataFrame | None) -> pd.Series | None:
    if reference is None:
        return None
    if "score" in reference.columns:
        return reference["score"]
    if "probability" in reference.columns:
        return 100 * reference["probability"]
    return None


def monitoring_section(inputs: ReportInputs, current: pd.DataFrame) -> str:
    rows = []
    previous_at = _previous_run(inputs)
    if len(current) and previous_at is not None:
        before = runs_at(inputs.lead_scores, previous_at)["score"]
        rows.append((f"score vs run of {previous_at.date()}", before))
    trained = _reference_scores(inputs.reference)
    if len(current) and trained is not None:
        rows.append(("score vs training reference", trained))
    table = pd.DataFrame(
        {
            "comparison": [name for name, _ in rows],
            "psi": [metrics.psi(ref, current["score"]) for _, ref in rows],
        }
    )
    score_part = (
        data_table(
            table,
            [
                Column("comparison", "score"),
                Column("psi", "PSI", lambda v: fmt_num(v, 3), True),
                Column("psi", "status", _psi_status),
            ],
            sortable=False,
        )
        if len(table)
        else unknown_note("Score drift", "no earlier scoring run and no training reference")
    )
    if inputs.reference is None or inputs.current_features is None:
        features = empty_note(
            "No training reference: feature drift needs a sample of the training features "
            "(`leadscore report --reference FILE`; Parquet or CSV)."
        )
    else:
        drift = metrics.psi_by_column(inputs.reference, inputs.current_features)
        top = drift.head(TOP_BARS)
        chart = report_charts.psi_chart(top, metrics.PSI_THRESHOLD)
        columns = [
            Column("feature", "feature"),
            Column("psi", "PSI", lambda v: fmt_num(v, 3), True),
            Column("psi", "status", _psi_status),
        ]
        flagged = int(drift["drifted"].sum())
        features = (
            f'<div class="grid">{chart_card(chart, "feature drift")}<div class="card"><h3>'
            f"{flagged} of {len(drift)} features above {metrics.PSI_THRESHOLD}</h3>"
            f'<div class="scroll">{data_table(drift, columns)}</div></div></div>'
        )
    return f'<div class="stack"><div class="card">{score_part}</div>{features}</div>'
