"""``leadscore top`` as a rep reads it: who the lead is and why, on one uncut line when piped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import GradeThresholds, to_grade, to_score
from pipelines.contracts import LeadScores
from pipelines.features.snapshots import open_at
from pipelines.inputs import write_inputs
from pipelines.storage import open_store
from scoring.ranking import add_ranks
from scoring.reports import TOP_COLUMNS, read_lead_scores, top_list
from tests.paths import REPO

AS_OF = pd.Timestamp("2026-11-01", tz="UTC")
# Longer than any terminal's 80 columns on its own: a piped line must still hold all of it.
FIRST = "+ Active recently: a meeting, 3 pricing-page views and 5 email opens in the last 30 days"
REASONS = [FIRST, "+ Decision maker: CIO (C-level)", "- Company of 12 employees"]
BANT = {"need": True, "budget": False, "authority": None, "timing": True}


def _run(leads: pd.DataFrame) -> pd.DataFrame:
    """A scoring run without a model: random probabilities, the same reasons for everyone."""
    rng = np.random.default_rng(5)
    open_leads = leads[open_at(leads, AS_OF)]
    p = rng.random(len(open_leads)) ** 2
    score = to_score(p)
    frame = pd.DataFrame(
        {
            "as_of": AS_OF,
            "run_id": "run-top",
            "model_name": "lead-conversion",
            "model_version": "1",
            "lead_id": open_leads["lead_id"].to_numpy(),
            "owner_id": open_leads["owner_id"].to_numpy(),
            "probability": p,
            "score": score,
            "grade": to_grade(score, GradeThresholds()),
            "fit_score": 50.0,
            "engagement_score": 50.0,
            "qualification": "sales_qualified",
            "bant": json.dumps(BANT),
            "top_reasons": json.dumps(REASONS),
            "trend": "improving",
            "expected_value": p * 10_000,
        }
    )
    return LeadScores.validate(add_ranks(frame)[list(LeadScores.to_schema().columns)])


@pytest.fixture(scope="module")
def listed(small_crm: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    uri = f"duckdb:///{tmp_path_factory.mktemp('top') / 'crm.duckdb'}"
    store = open_store(uri)
    write_inputs(store, {k: small_crm[k] for k in ("leads", "activities", "stage_history")})
    scores = _run(small_crm["leads"])
    store.write("lead_scores", scores)
    return {"store": uri, "scores": scores, "leads": small_crm["leads"]}


def _leadscore(*args: str) -> str:
    """The real console script's entry point in a child process, its stdout a pipe."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("COLUMNS", None)
    command = [sys.executable, "-c", "from scoring.cli.app import main; main()", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _best(listed: dict, n: int) -> pd.DataFrame:
    best = listed["scores"].sort_values("rank_overall").head(n)
    return best.merge(listed["leads"][["lead_id", "company"]], on="lead_id", how="left")


def test_piped_top_shows_company_and_first_reason_on_one_uncut_line(listed: dict) -> None:
    out = _leadscore("top", "-n", "5", "--store", listed["store"])
    lines = out.splitlines()
    header = next(line for line in lines if "first reason" in line)
    for column in TOP_COLUMNS:
        assert column in header
    assert "…" not in out  # nothing cut
    for row in _best(listed, 5).itertuples():
        (line,) = [line for line in lines if row.lead_id in line]
        assert row.company in line and FIRST in line and row.owner_id in line
        assert "sales qualified" in line and "improving" in line and f"{row.score:.1f}" in line


def test_plain_is_tab_separated_and_wide_adds_reasons_and_bant(listed: dict) -> None:
    out = _leadscore("top", "-n", "3", "--plain", "--wide", "--store", listed["store"])
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0] == [*TOP_COLUMNS[:-1], "BANT", "reasons"]
    assert len(rows) == 4 and all(len(row) == len(rows[0]) for row in rows)
    best = _best(listed, 3)
    assert [row[1] for row in rows[1:]] == best["lead_id"].tolist()
    assert [row[2] for row in rows[1:]] == best["company"].tolist()
    assert rows[1][-2] == "need ✓, budget ✗, authority ?, timing ✓"
    assert rows[1][-1] == " | ".join(REASONS)


def test_top_list_ranks_within_an_owner_and_shows_missing_values_as_dashes(listed: dict) -> None:
    scores, leads = listed["scores"], listed["leads"]
    owner = scores["owner_id"].dropna().iloc[0]
    mine = scores[scores["owner_id"] == owner].sort_values("rank_in_owner")
    unnamed = leads.assign(company=None)
    table = top_list(scores.assign(top_reasons=None, trend=None), unnamed, owner, n=4)
    assert table.columns.tolist() == list(TOP_COLUMNS)
    assert table["rank"].tolist() == ["1", "2", "3", "4"]
    assert table["lead"].tolist() == mine["lead_id"].head(4).tolist()
    assert set(table["company"]) == set(table["first reason"]) == set(table["trend"]) == {"-"}


def test_top_for_an_unknown_owner_is_a_one_line_error(listed: dict, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from scoring.cli.app import main; main()"]
    args = ["top", "--owner", "nobody", "--store", listed["store"]]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no scored leads for owner 'nobody'"


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_the_list_read_is_the_latest_date_and_only_its_rows(
    small_crm: dict, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"{kind}:///{tmp_path / ('s.duckdb' if kind == 'duckdb' else 'dir')}")
    latest = _run(small_crm["leads"])
    earlier = latest.assign(as_of=AS_OF - pd.Timedelta(days=1), run_id="run-before")
    store.write("lead_scores", pd.concat([earlier, latest], ignore_index=True))
    asked: list[object] = []
    read = type(store).read
    monkeypatch.setattr(
        type(store),
        "read",
        lambda self, t, *a, **k: asked.append(k.get("equals")) or read(self, t, *a, **k),
    )
    got = read_lead_scores(store)
    assert (got["as_of"] == AS_OF).all() and len(got) == len(latest)
    assert got["rank_overall"].is_monotonic_increasing
    assert asked == [{"as_of": AS_OF}]  # the store was asked for one date's rows only
    assert (read_lead_scores(store, earlier["as_of"].iloc[0])["run_id"] == "run-before").all()
