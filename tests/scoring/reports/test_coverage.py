"""The report on a sparse CRM says what it cannot know instead of printing a number.

The CRM: the small synthetic one, with a stage history cut down to the outcomes (won and
lost, as some real exports give it), no deal values, and one scoring run.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pipelines.config import StageConfig
from scoring.reports import ReportInputs, render_report
from scoring.reports.coverage import NOT_MEASURABLE, coverage_of, mask_funnel
from scoring.reports.health import closed_in_window, funnel, pipeline_velocity
from tests.scoring.reports.test_report import AS_OF, EARLIER, fake_scores


@pytest.fixture(scope="module")
def sparse(small_crm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    history = small_crm["stage_history"]
    leads = small_crm["leads"].assign(deal_value=float("nan"))
    return {
        "leads": leads,
        "activities": small_crm["activities"],
        "stage_history": history[history["stage"].isin(["won", "lost"])].reset_index(drop=True),
        "lead_scores": fake_scores(leads, AS_OF, 2),
    }


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def html(sparse: dict[str, pd.DataFrame]) -> str:
    inputs = ReportInputs(**sparse, as_of=AS_OF)  # type: ignore[arg-type]
    return render_report(inputs)


def test_the_inputs_are_as_sparse_as_the_issue_says(sparse: dict[str, pd.DataFrame]) -> None:
    cov = coverage_of(sparse["leads"], sparse["stage_history"], AS_OF, StageConfig())
    assert cov.recorded == () and not cov.sql and cov.deal_values == 0
    assert cov.outcomes == ("won", "lost") and not cov.stages
    # What the unguarded formulas give on these inputs: the issue's 100% and 0.
    v = pipeline_velocity(sparse["leads"], sparse["stage_history"], AS_OF, StageConfig())
    won, lost = closed_in_window(sparse["leads"], AS_OF, 365)
    assert len(lost) > 0 and v.open_opportunities is None and v.all_lost
    assert (v.win_rate.numerator, v.win_rate.denominator) == (len(won), len(won) + len(lost))


def test_sparse_report_says_not_measurable_where_it_cannot_know(html: str) -> None:
    text = _text(html)
    for label in (
        "Open opportunities",
        "Pipeline velocity",
        "Lead velocity rate",
        "MQL → SQL",
        "Expected revenue",
        "Average deal",
        "Stagnant open leads",
    ):
        assert f"{label} {NOT_MEASURABLE}" in text, label
    assert "no SQL stage (qualified or later)" in text
    assert "no stage between new and the outcome (only won, lost)" in text
    assert "no won deal in the CRM has a deal value" in text
    assert "Grades against outcomes: not measurable: no earlier scoring run" in text
    assert "Score drift: not measurable" in text
    # Never the issue's numbers: a 100% MQL → SQL or win rate, 0 open opportunities, money.
    assert "MQL → SQL 100" not in text and "Open opportunities 0" not in text
    assert not re.search(r"Win rate 100\.0%", text)
    assert "Expected conversions" in text and "expected revenue by owner" not in html


def test_win_rate_counts_the_lost_leads_that_never_reached_sql(
    html: str, sparse: dict[str, pd.DataFrame]
) -> None:
    won, lost = closed_in_window(sparse["leads"], AS_OF, 365)
    rate = len(won) / (len(won) + len(lost))
    text = _text(html)
    expected = f"Win rate {100 * rate:.1f}% {len(won):,} won of {len(won) + len(lost):,} closed"
    assert expected in text
    assert "every lost lead counted" in text and rate < 0.9


def test_a_stage_nobody_was_recorded_in_has_no_conversion(small_crm: dict) -> None:
    history = small_crm["stage_history"]
    partial = history[history["stage"] != "demo"]  # the CRM never records demos
    stages = StageConfig()
    cov = coverage_of(small_crm["leads"], partial, AS_OF, stages)
    assert "demo" not in cov.recorded and "proposal" in cov.recorded and cov.sql
    raw = funnel(small_crm["leads"], partial, AS_OF, stages)
    assert raw.set_index("stage").loc["demo", "conversion_to_next"] == 1.0  # skipped = passed
    masked = mask_funnel(raw, cov).set_index("stage")
    assert masked.loc[["qualified", "demo"], "conversion_to_next"].isna().all()
    assert pd.isna(masked.loc["demo", "reached"]) and masked.loc["proposal", "reached"] > 0
    full = coverage_of(small_crm["leads"], history, AS_OF, stages)
    assert mask_funnel(raw, full)["reached"].notna().all()


def test_a_full_crm_keeps_every_number(small_crm: dict) -> None:
    runs = [fake_scores(small_crm["leads"], day, seed) for day, seed in ((EARLIER, 1), (AS_OF, 2))]
    inputs = ReportInputs(**small_crm, lead_scores=pd.concat(runs), as_of=AS_OF)  # type: ignore[arg-type]
    assert NOT_MEASURABLE not in _text(render_report(inputs))
