"""The pipeline and model health report: one self-contained HTML page for sales managers.

:func:`render_report` takes contract frames (no store access) and returns the HTML: charts
are PNG ``data:`` URIs, the CSS and JS are inline, and a Content-Security-Policy forbids
any network load. Metrics come from :mod:`scoring.reports.health` and :mod:`scoring.reports.metrics`;
their definitions are in ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.features import open_at
from scoring.reports import charts as report_charts
from scoring.reports import health
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
    kpi,
    page,
)
from scoring.reports.inputs import ReportInputs
from scoring.reports.sections import (
    cleanup_section,
    monitoring_section,
    revenue_section,
    runs_at,
    scores_section,
    segments_section,
)

SECTIONS = (
    ("summary", "Summary"),
    ("funnel", "Funnel"),
    ("velocity", "Velocity"),
    ("scores", "Scores"),
    ("cleanup", "Clean-up"),
    ("revenue", "Expected revenue"),
    ("segments", "Sources & industries"),
    ("monitoring", "Model monitoring"),
)
# On load, counts the charts whose image loaded, so a headless browser can check them.
LOADED_JS = """
window.addEventListener('load',function(){var ok=0;
Array.prototype.forEach.call(document.querySelectorAll('img.chart'),function(i){
if(i.complete&&i.naturalWidth>0)ok++;});
document.body.setAttribute('data-charts-loaded',String(ok));});
"""


@dataclass(frozen=True)
class PipelineMetrics:
    """The stage-history metrics, computed once for the summary and the sections."""

    funnel: pd.DataFrame
    stagnant_by_stage: pd.Series
    days_in_stage: pd.DataFrame
    mql_to_sql: health.Rate
    velocity: health.Velocity
    lvr: pd.DataFrame
    cycle_days: pd.Series


def pipeline_metrics(inputs: ReportInputs) -> PipelineMetrics | None:
    """The funnel and velocity metrics (None without a stage history)."""
    leads, history, at, stages = inputs.leads, inputs.stage_history, inputs.as_of, inputs.stages
    if history is None:
        return None
    window = inputs.window_days
    return PipelineMetrics(
        funnel=health.funnel(leads, history, at, stages, window),
        stagnant_by_stage=health.stagnant_leads(leads, history, at, stages)["stage"].value_counts(),
        days_in_stage=health.days_in_stage(history, at, stages, window),
        mql_to_sql=health.mql_to_sql(leads, history, at, stages, inputs.lead_scores, window),
        velocity=health.pipeline_velocity(leads, history, at, stages, window),
        lvr=health.lead_velocity_rate(history, at, stages),
        cycle_days=health.cycle_days(leads, at, window),
    )


def _summary(inputs: ReportInputs, p: PipelineMetrics | None, current: pd.DataFrame) -> str:
    open_leads = int(open_at(inputs.leads, inputs.as_of).sum())
    cards = [kpi("Open leads", fmt_int(open_leads), "not won, not lost")]
    if p is not None:
        v, rate, lvr = p.velocity, p.mql_to_sql, p.lvr.iloc[-1]
        cards += [
            kpi("Open opportunities", fmt_int(v.open_opportunities), "reached SQL, still open"),
            kpi("Pipeline velocity", fmt_money(v.per_day) + " / day", "expected won value"),
            kpi(
                "Lead velocity rate",
                fmt_pct(lvr["lvr"]),
                f"SQLs {lvr['month']:%b %Y} vs month before",
            ),
            kpi(
                "MQL → SQL", fmt_pct(rate.value), f"{rate.numerator:,} of {rate.denominator:,} MQLs"
            ),
            kpi("Win rate", fmt_pct(v.win_rate.value), "opportunities closed in window"),
            kpi("Sales cycle", fmt_num(v.cycle_days) + " days", "mean, deals won in window"),
        ]
    if len(current):
        revenue = current["expected_value"].sum()
        cards.append(
            kpi("Expected revenue", fmt_money(revenue), f"next {inputs.horizon_days} days")
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def _funnel_section(inputs: ReportInputs, p: PipelineMetrics | None) -> str:
    if p is None:
        return empty_note("No stage_history table in the store: funnel metrics need it.")
    thresholds = inputs.stages.stagnant_days
    merged = p.funnel.merge(p.days_in_stage, on="stage", how="left")
    merged["stagnant_now"] = merged["stage"].map(p.stagnant_by_stage).fillna(0)
    merged["threshold"] = merged["stage"].map(thresholds)
    columns = [
        Column("stage", "stage"),
        Column("in_stage_now", "open now", fmt_int, True),
        Column("stagnant_now", "stagnant now", fmt_int, True),
        Column("threshold", "limit (days)", fmt_int, True),
        Column("reached", "cohort reached", fmt_int, True),
        Column("conversion_to_next", "→ next stage", fmt_pct, True),
        Column("conversion_from_first", "from first", fmt_pct, True),
        Column("stays", "stays", fmt_int, True),
        Column("mean_days", "mean days", fmt_num, True),
        Column("median_days", "median days", fmt_num, True),
    ]
    charts = [
        chart_card(report_charts.funnel_chart(p.funnel), "funnel"),
        chart_card(report_charts.stage_now_chart(p.funnel, p.stagnant_by_stage), "stages now"),
        chart_card(report_charts.days_in_stage_chart(p.days_in_stage, thresholds), "stage days"),
    ]
    rate, v = p.mql_to_sql, p.velocity
    stagnant = int(p.stagnant_by_stage.sum())
    cards = "".join(
        [
            kpi(
                "MQL → SQL",
                fmt_pct(rate.value),
                f"{rate.numerator:,} of {rate.denominator:,} cohort MQLs",
            ),
            kpi("Cohort", fmt_int(p.funnel["reached"].iloc[0]), "leads created in the window"),
            kpi("Sales cycle, mean", fmt_num(v.cycle_days) + " days", "created → won"),
            kpi(
                "Sales cycle, median",
                fmt_num(p.cycle_days.median()) + " days",
                f"{len(p.cycle_days):,} deals won",
            ),
            kpi("Stagnant open leads", fmt_int(stagnant), "past their stage's threshold"),
            kpi(
                "Stagnant share",
                fmt_pct(stagnant / max(int(p.funnel["in_stage_now"].sum()), 1)),
                "of open leads",
            ),
        ]
    )
    table = (
        f'<div class="card span"><h3>Stages</h3><div class="wide">{data_table(merged, columns)}'
        "</div></div>"
    )
    return f'<div class="grid">{"".join(charts)}<div class="kpis two">{cards}</div>{table}</div>'


def _velocity_section(inputs: ReportInputs, p: PipelineMetrics | None) -> str:
    if p is None:
        return empty_note("No stage_history table in the store: velocity needs it.")
    v = p.velocity
    formula = (
        f"{v.open_opportunities:,} open opportunities × {fmt_pct(v.win_rate.value)} win rate × "
        f"{fmt_money(v.avg_deal_value)} average deal ÷ {fmt_num(v.cycle_days)} days cycle "
        f"= <b>{fmt_money(v.per_day)} per day</b> ({fmt_money(30 * v.per_day)} per 30 days)"
    )
    latest = p.lvr.iloc[-1]
    cards = "".join(
        [
            kpi(
                "Lead velocity rate",
                fmt_pct(latest["lvr"]),
                f"SQLs {latest['month']:%B %Y} vs month before",
            ),
            kpi("SQLs last month", fmt_int(latest["qualified_leads"]), "first reached qualified"),
            kpi(
                "Win rate",
                fmt_pct(v.win_rate.value),
                f"{v.win_rate.numerator:,} won of {v.win_rate.denominator:,} closed opportunities",
            ),
            kpi("Average deal", fmt_money(v.avg_deal_value), "deals won in window"),
        ]
    )
    return (
        f'<p class="formula">Pipeline velocity: {formula}</p>'
        f'<div class="grid">{chart_card(report_charts.lvr_chart(p.lvr), "lead velocity")}'
        f'<div class="kpis two">{cards}</div></div>'
    )


def render_report(inputs: ReportInputs) -> str:
    """The whole report as one HTML document."""
    current = runs_at(inputs.lead_scores, inputs.as_of)
    at = inputs.as_of
    model = (
        f"scores from {current['model_name'].iloc[0]} v{current['model_version'].iloc[0]}"
        if len(current)
        else "no scoring run for this date"
    )
    first, last = at - pd.Timedelta(days=inputs.window_days), at - pd.Timedelta(days=1)
    window = f"window: {first.date()} to {last.date()} ({inputs.window_days} days)"
    pipeline = pipeline_metrics(inputs)
    bodies = {
        "summary": _summary(inputs, pipeline, current),
        "funnel": _funnel_section(inputs, pipeline),
        "velocity": _velocity_section(inputs, pipeline),
        "scores": scores_section(inputs, current),
        "cleanup": cleanup_section(inputs, current),
        "revenue": revenue_section(inputs, current),
        "segments": segments_section(inputs, current),
        "monitoring": monitoring_section(inputs, current),
    }
    leads_text = {
        "summary": f"The state of the pipeline on {at.date()}.",
        "funnel": "Cohort: leads created in the window. A skipped stage counts as passed.",
        "velocity": f"Deals closed in the window; open opportunities on {at.date()}.",
        "scores": "This run's scores, and how an earlier run's grades actually converted.",
        "cleanup": "Open leads stuck in a stage past its threshold, or with no activity.",
        "revenue": f"Σ probability × expected deal value over the next {inputs.horizon_days} days.",
        "segments": "Cohort outcomes and today's open, scored leads per segment.",
        "monitoring": "Population stability index (PSI): above 0.2 is a significant shift.",
    }
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS)
    sections = "".join(
        f'<section id="{key}"><h2>{esc(title)}</h2><p class="lead">{esc(leads_text[key])}</p>'
        f"{bodies[key]}</section>"
        for key, title in SECTIONS
    )
    body = (
        f'<header class="top"><h1>Pipeline &amp; model health</h1><div class="sub">as of '
        f"{at.date()} · {esc(model)} · {esc(window)}</div></header><nav>{nav}</nav>"
        f"<main>{sections}<footer>Generated by <code>leadscore report</code>. Every metric "
        "is defined, with its formula and window, in docs/metrics.md. This file is "
        "self-contained and needs no network.</footer></main>"
    )
    return page(f"leadscore report {at.date()}", Markup(body), LOADED_JS)
