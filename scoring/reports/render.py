"""The pipeline and model health report: one self-contained HTML page for sales managers.

:func:`render_report` takes contract frames (no store access) and returns the HTML: charts
are PNG ``data:`` URIs, the CSS and JS are inline, and a Content-Security-Policy forbids
any network load. Metrics come from :mod:`scoring.reports.health` and :mod:`scoring.reports.metrics`;
their definitions are in the README (Pipeline health report: metrics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.features import open_at
from scoring.reports import charts as report_charts
from scoring.reports import health
from scoring.reports.coverage import (
    NOT_MEASURABLE,
    Coverage,
    coverage_of,
    mask_funnel,
    unknown_kpi,
    unknown_note,
)
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
    is_missing,
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


def _opportunities(v: health.Velocity, cov: Coverage) -> str:
    if v.open_opportunities is None:
        return unknown_kpi("Open opportunities", cov.no_sql)
    return kpi("Open opportunities", fmt_int(v.open_opportunities), "reached SQL, still open")


def _pipeline_velocity(v: health.Velocity, cov: Coverage) -> str:
    if not np.isnan(v.per_day):
        return kpi("Pipeline velocity", fmt_money(v.per_day) + " / day", "expected won value")
    return unknown_kpi("Pipeline velocity", _velocity_gaps(v, cov))


def _velocity_gaps(v: health.Velocity, cov: Coverage) -> str:
    gaps = []
    if v.open_opportunities is None:
        gaps.append(cov.no_sql)
    if np.isnan(v.avg_deal_value):
        gaps.append("no deal won in the window has a deal value")
    if not v.cycle_days > 0:
        gaps.append("no deal won in the window")
    return "; ".join(gaps)


def _lvr(p: PipelineMetrics, cov: Coverage, month: str = "%b %Y") -> str:
    latest = p.lvr.iloc[-1]
    if not cov.sql:
        return unknown_kpi("Lead velocity rate", cov.no_sql)
    if np.isnan(latest["lvr"]):
        before = latest["month"] - pd.DateOffset(months=1)
        return unknown_kpi("Lead velocity rate", f"no SQL in {before:%B %Y} to grow from")
    note = f"SQLs {latest['month'].strftime(month)} vs month before"
    return kpi("Lead velocity rate", fmt_pct(latest["lvr"]), note)


def _mql_to_sql(rate: health.Rate, cov: Coverage, what: str = "MQLs") -> str:
    if not cov.sql:
        return unknown_kpi("MQL → SQL", cov.no_sql)
    if not rate.denominator:
        return unknown_kpi("MQL → SQL", "no MQL in the cohort")
    return kpi(
        "MQL → SQL", fmt_pct(rate.value), f"{rate.numerator:,} of {rate.denominator:,} {what}"
    )


def _win_rate(v: health.Velocity, cov: Coverage, long: bool = False) -> str:
    rate = v.win_rate
    if not rate.denominator:
        return unknown_kpi("Win rate", "no lead won or lost in the window")
    if v.all_lost:
        note = f"{rate.numerator:,} won of {rate.denominator:,} closed leads, every lost lead "
        return kpi("Win rate", fmt_pct(rate.value), note + f"counted: {cov.no_sql}")
    note = "opportunities closed in window"
    if long:
        note = f"{rate.numerator:,} won of {rate.denominator:,} closed opportunities"
    return kpi("Win rate", fmt_pct(rate.value), note)


def _expected_revenue(inputs: ReportInputs, current: pd.DataFrame, cov: Coverage) -> list[str]:
    if current.empty:
        return []
    days = inputs.horizon_days
    if not cov.deal_values:
        conversions = fmt_num(current["probability"].sum(), 0)
        return [
            unknown_kpi("Expected revenue", f"{cov.no_deal_values} (see expected conversions)"),
            kpi("Expected conversions", conversions, f"next {days} days: Σ probability"),
        ]
    revenue = current["expected_value"].sum()
    return [kpi("Expected revenue", fmt_money(revenue), f"next {days} days")]


def _summary(
    inputs: ReportInputs, p: PipelineMetrics | None, current: pd.DataFrame, cov: Coverage
) -> str:
    open_leads = int(open_at(inputs.leads, inputs.as_of).sum())
    cards = [kpi("Open leads", fmt_int(open_leads), "not won, not lost")]
    if p is not None:
        v = p.velocity
        cards += [
            _opportunities(v, cov),
            _pipeline_velocity(v, cov),
            _lvr(p, cov),
            _mql_to_sql(p.mql_to_sql, cov),
            _win_rate(v, cov),
            kpi("Sales cycle", fmt_num(v.cycle_days) + " days", "mean, deals won in window"),
        ]
    cards += _expected_revenue(inputs, current, cov)
    return f'<div class="kpis">{"".join(cards)}</div>'


def _reached(value: object) -> str:
    return "not recorded" if is_missing(value) else fmt_int(value)


def _funnel_section(inputs: ReportInputs, p: PipelineMetrics | None, cov: Coverage) -> str:
    if p is None:
        return empty_note("No stage_history table in the store: funnel metrics need it.")
    thresholds = inputs.stages.stagnant_days
    funnel = mask_funnel(p.funnel, cov)
    merged = funnel.merge(p.days_in_stage, on="stage", how="left")
    merged["stagnant_now"] = merged["stage"].map(p.stagnant_by_stage).fillna(0)
    merged["threshold"] = merged["stage"].map(thresholds)
    if not cov.stages:  # every open lead reads as "new since created": unknown
        merged[["in_stage_now", "stagnant_now"]] = np.nan
    columns = [
        Column("stage", "stage"),
        Column("in_stage_now", "open now", fmt_int, True),
        Column("stagnant_now", "stagnant now", fmt_int, True),
        Column("threshold", "limit (days)", fmt_int, True),
        Column("reached", "cohort reached", _reached, True),
        Column("conversion_to_next", "→ next stage", fmt_pct, True),
        Column("conversion_from_first", "from first", fmt_pct, True),
        Column("stays", "stays", fmt_int, True),
        Column("mean_days", "mean days", fmt_num, True),
        Column("median_days", "median days", fmt_num, True),
    ]
    if cov.stages:
        shown = funnel.dropna(subset=["reached"])
        charts = [
            chart_card(report_charts.funnel_chart(shown), "funnel"),
            chart_card(report_charts.stage_now_chart(p.funnel, p.stagnant_by_stage), "stages now"),
            chart_card(
                report_charts.days_in_stage_chart(p.days_in_stage, thresholds), "stage days"
            ),
        ]
    else:
        charts = [
            unknown_note("Stage-to-stage funnel, stages now and days in stage", cov.no_stages)
        ]
    rate, v = p.mql_to_sql, p.velocity
    stagnant = int(p.stagnant_by_stage.sum())
    won = p.funnel.iloc[-1]
    cards = [
        _mql_to_sql(rate, cov, "cohort MQLs"),
        kpi("Cohort", fmt_int(p.funnel["reached"].iloc[0]), "leads created in the window"),
        kpi("Cohort won", fmt_pct(won["conversion_from_first"]), f"{won['reached']:,} leads"),
        kpi("Sales cycle, mean", fmt_num(v.cycle_days) + " days", "created → won"),
        kpi(
            "Sales cycle, median",
            fmt_num(p.cycle_days.median()) + " days",
            f"{len(p.cycle_days):,} deals won",
        ),
    ]
    if cov.stages:
        share = stagnant / max(int(p.funnel["in_stage_now"].sum()), 1)
        cards += [
            kpi("Stagnant open leads", fmt_int(stagnant), "past their stage's threshold"),
            kpi("Stagnant share", fmt_pct(share), "of open leads"),
        ]
    else:
        cards.append(unknown_kpi("Stagnant open leads", cov.no_stages))
    table = (
        f'<div class="card span"><h3>Stages</h3><div class="wide">{data_table(merged, columns)}'
        "</div></div>"
    )
    kpis = f'<div class="kpis two">{"".join(cards)}</div>'
    return f'<div class="grid">{"".join(charts)}{kpis}{table}</div>'


def _velocity_section(inputs: ReportInputs, p: PipelineMetrics | None, cov: Coverage) -> str:
    if p is None:
        return empty_note("No stage_history table in the store: velocity needs it.")
    v = p.velocity
    if np.isnan(v.per_day):
        formula = f"{NOT_MEASURABLE}: {esc(_velocity_gaps(v, cov))}"
    else:
        formula = (
            f"{v.open_opportunities:,} open opportunities × {fmt_pct(v.win_rate.value)} win "
            f"rate × {fmt_money(v.avg_deal_value)} average deal ÷ {fmt_num(v.cycle_days)} days "
            f"cycle = <b>{fmt_money(v.per_day)} per day</b> ({fmt_money(30 * v.per_day)} per "
            "30 days)"
        )
    latest = p.lvr.iloc[-1]
    deal = (
        unknown_kpi("Average deal", "no deal won in the window has a deal value")
        if np.isnan(v.avg_deal_value)
        else kpi("Average deal", fmt_money(v.avg_deal_value), "deals won in window")
    )
    sqls = (
        kpi("SQLs last month", fmt_int(latest["qualified_leads"]), "first reached qualified")
        if cov.sql
        else unknown_kpi("SQLs last month", cov.no_sql)
    )
    cards = "".join([_lvr(p, cov, "%B %Y"), sqls, _win_rate(v, cov, long=True), deal])
    chart = (
        chart_card(report_charts.lvr_chart(p.lvr), "lead velocity")
        if cov.sql
        else unknown_note("Lead velocity", cov.no_sql)
    )
    return (
        f'<p class="formula">Pipeline velocity: {formula}</p>'
        f'<div class="grid">{chart}<div class="kpis two">{cards}</div></div>'
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
    cov = coverage_of(inputs.leads, inputs.stage_history, at, inputs.stages)
    bodies = {
        "summary": _summary(inputs, pipeline, current, cov),
        "funnel": _funnel_section(inputs, pipeline, cov),
        "velocity": _velocity_section(inputs, pipeline, cov),
        "scores": scores_section(inputs, current),
        "cleanup": cleanup_section(inputs, current, cov),
        "revenue": revenue_section(inputs, current, cov),
        "segments": segments_section(inputs, current, cov),
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
        "is defined, with its formula and window, in the README (Pipeline health report: "
        "metrics). This file is self-contained and needs no network.</footer></main>"
    )
    return page(f"leadscore report {at.date()}", Markup(body), LOADED_JS)
