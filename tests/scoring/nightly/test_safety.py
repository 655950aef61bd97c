"""The nightly job never leaves the store half-written, and sets bad rows aside with reasons."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pipelines.contracts import LeadScores, ScoringRuns
from pipelines.storage import open_store
from scoring.cli import EXIT_LOCKED, app

AS_OF = "2026-10-15"
runner = CliRunner()


def _score_command(store: str, tracking: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from scoring.cli import main; main()",
        "score",
        "--as-of",
        AS_OF,
        "--store",
        store,
        "--tracking-uri",
        tracking,
    ]


def _scores(store: str) -> pd.DataFrame:
    scores = LeadScores.validate(open_store(store).read("lead_scores"))
    return scores.sort_values("lead_id", ignore_index=True)


def test_sigkill_at_any_point_leaves_the_previous_list(
    store_copy: str, trained: dict[str, str]
) -> None:
    command = _score_command(store_copy, trained["tracking"])
    started = time.monotonic()
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        env=os.environ | {"MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    duration = time.monotonic() - started
    first = _scores(store_copy)
    assert len(first) > 0
    # Early (loading), middle (features and reasons), and late (the write) in the run.
    for fraction in (0.3, 0.75, 0.95):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = _scores(store_copy)
        # Either the kill came before the commit (the old list, same run) or after it
        # (a complete new list): never a mix, never empty.
        assert after["run_id"].nunique() == 1
        assert len(after) == len(first)
        pd.testing.assert_frame_equal(after.drop(columns="run_id"), first.drop(columns="run_id"))
    subprocess.run(command, check=True, capture_output=True)
    rerun = _scores(store_copy)
    assert rerun["run_id"].iloc[0] != first["run_id"].iloc[0]
    pd.testing.assert_frame_equal(rerun.drop(columns="run_id"), first.drop(columns="run_id"))
    runs = ScoringRuns.validate(open_store(store_copy).read("scoring_runs"))
    assert set(rerun["run_id"]) <= set(runs["run_id"])


def test_bad_rows_are_quarantined_and_the_rest_scored(
    store_copy: str, trained: dict[str, str]
) -> None:
    store = open_store(store_copy)
    leads = store.read("leads")
    activities = store.read("activities")
    stages = store.read("stage_history")
    # A CRM export holds text: store created_at as text so a bad value can be written at all.
    leads["created_at"] = leads["created_at"].astype(str)
    bad_leads = leads.head(4).copy()
    bad_leads["lead_id"] = [
        "BAD1",
        "BAD2",
        "BAD3",
        leads["lead_id"].iloc[10],
    ]  # the last duplicates an id
    bad_leads.loc[bad_leads.index[0], "employees"] = -5
    bad_leads.loc[bad_leads.index[1], "purchase_timeframe"] = "soonish"
    bad_leads.loc[bad_leads.index[2], "created_at"] = "not a date"
    store.write("leads", pd.concat([leads, bad_leads], ignore_index=True))
    orphan = activities.head(1).assign(lead_id="NOPE")
    no_type = activities.head(1).assign(type=None)
    store.write("activities", pd.concat([activities, orphan, no_type], ignore_index=True))
    store.write(
        "stage_history",
        pd.concat([stages, stages.head(1).assign(lead_id="NOPE")], ignore_index=True),
    )

    result = runner.invoke(
        app,
        ["score", "--as-of", AS_OF, "--store", store_copy, "--tracking-uri", trained["tracking"]],
    )
    assert result.exit_code == 0, result.output
    quarantine = store.read("quarantine")
    checks = set(
        zip(quarantine["table_name"], quarantine["column"], quarantine["check"], strict=True)
    )
    assert ("leads", "employees", "greater_than_or_equal_to(0)") in checks
    assert (
        "leads",
        "purchase_timeframe",
        "isin(['0-1m', '1-3m', '3-6m', '6-12m', '12m+'])",
    ) in checks
    assert ("leads", "created_at", "parse_timestamp") in checks
    assert ("leads", "lead_id", "field_uniqueness") in checks
    assert ("activities", "lead_id", "references_leads") in checks
    assert ("activities", "type", "not_nullable") in checks
    assert ("stage_history", "lead_id", "references_leads") in checks
    assert not quarantine["row"].str.contains("@").any()  # no email in the quarantined rows
    duplicated = leads["lead_id"].iloc[10]
    followers = (activities["lead_id"] == duplicated).sum() + (
        stages["lead_id"] == duplicated
    ).sum()
    assert followers > 0
    assert ("activities", "lead_id", "lead_quarantined") in checks
    run = ScoringRuns.validate(store.read("scoring_runs")).iloc[-1]
    # 3 bad leads + 2 rows sharing a duplicated id + 2 activities + 1 stage row, and the
    # activities and stage rows of the duplicated lead, set aside with it
    assert run["rows_quarantined"] == 8 + followers
    scores = _scores(store_copy)
    assert not scores["lead_id"].isin(["BAD1", "BAD2", "BAD3", leads["lead_id"].iloc[10]]).any()
    assert run["rows_scored"] == len(scores) > 0


def test_a_second_run_waits_for_no_one(store_copy: str, trained: dict[str, str]) -> None:
    with open_store(store_copy).lock("scoring"):
        result = runner.invoke(
            app,
            [
                "score",
                "--as-of",
                AS_OF,
                "--store",
                store_copy,
                "--tracking-uri",
                trained["tracking"],
            ],
        )
    assert result.exit_code == EXIT_LOCKED
    assert "another 'scoring' run holds the lock" in result.output


def test_rerun_gives_identical_rows(
    store_copy: str, trained: dict[str, str], tmp_path: Path
) -> None:
    args = ["score", "--as-of", AS_OF, "--store", store_copy, "--tracking-uri", trained["tracking"]]
    assert runner.invoke(app, args).exit_code == 0
    first = _scores(store_copy)
    assert runner.invoke(app, args).exit_code == 0
    second = _scores(store_copy)
    pd.testing.assert_frame_equal(first.drop(columns="run_id"), second.drop(columns="run_id"))
    assert first["top_reasons"].str.startswith("[").all() and first["qualification"].notna().all()
    assert first["trend"].eq("new").all()  # no earlier run
