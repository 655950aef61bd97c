"""`make bench`: the figures the issues ask for, measured in separate processes.

Sizes come from the environment so the same benchmarks run small on a laptop and large on
a big machine: LEADSCORE_BENCH_LEADS (feature build, default 1,000,000 ≈ 22M activities),
LEADSCORE_BENCH_SCORE_LEADS (open leads scored, default 100,000), LEADSCORE_BENCH_TRAIN_LEADS
(retrain history, default 200,000), LEADSCORE_BENCH_MEMORY_LEADS (the memory benchmark
scores 1x and 10x that many leads; default 100,000) in slices of LEADSCORE_BENCH_MEMORY_SLICE
(default the same number),
LEADSCORE_BENCH_CLOSED_LEADS (the mostly-closed CRM: that many leads, ~11% of them open;
default 1,000,000), LEADSCORE_BENCH_SPARK_LEADS (default 1,000,000) and LEADSCORE_BENCH_SPARK_MASTERS (comma-
separated, default local[2]) for the engines' comparison. Generated stores are cached under
data/bench/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

pytestmark = pytest.mark.bench
ROOT = REPO
CACHE = ROOT / "data" / "bench"


def run_step(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_steps", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(figures))
    return figures


GENERATED_MAX = 1_000_000


def store_of(n_leads: int) -> str:
    """A generated store of ``n_leads``; above a million, copies of the million-lead CRM
    under new lead ids (the generator holds a whole CRM in memory)."""
    path = CACHE / f"crm_{n_leads}"
    uri = f"parquet:///{path}"
    if (path / "activities.parquet").exists():
        return uri
    if n_leads > GENERATED_MAX:
        assert n_leads % GENERATED_MAX == 0, f"{n_leads:,} is not a multiple of a million"
        run_step("replicate", store_of(GENERATED_MAX), str(n_leads // GENERATED_MAX), uri)
    else:
        run_step("generate", str(n_leads), uri)
    return uri


def test_feature_build_at_one_t() -> None:
    n = int(os.environ.get("LEADSCORE_BENCH_LEADS", 1_000_000))
    figures = run_step("features", store_of(n))
    assert figures["leads"] == n
    print(
        f"GOAL features <= 60 s and peak RSS <= 6 GB: {figures['features_s']} s, {figures['peak_rss_gb']} GB"
    )


def open_store_of(n_leads: int, tmp_path: Path) -> str:
    """A private copy of the generated store where every lead is open at the scoring date."""
    path = tmp_path / f"open_{n_leads}"
    shutil.copytree(Path(store_of(n_leads).removeprefix("parquet:///")), path)
    uri = f"parquet:///{path}"
    run_step("reopen", uri)
    return uri


def champion(tmp_path: Path) -> str:
    """Tracking URI of a registry whose champion was trained on a normal two-year history."""
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_step("train", store_of(20_000), tracking)
    return tracking


def test_nightly_scoring_end_to_end(tmp_path: Path) -> None:
    n = int(os.environ.get("LEADSCORE_BENCH_SCORE_LEADS", 100_000))
    tracking = champion(tmp_path)
    uri = open_store_of(n, tmp_path)
    scored = run_step("score", uri, tracking)
    raw = run_step("raw_model", uri, tracking)
    ratio = scored["scorer_s"] / raw["raw_s"]
    print(
        f"scorer / (predict + pred_contrib) = {ratio:.2f} (goal <= 1.5); peak RSS {scored['peak_rss_gb']} GB; "
        f"{scored['open_leads_per_s']:,} open leads/s; phases {scored['phases_s']}"
    )
    assert scored["rows_scored"] == n == raw["rows"]


def test_nightly_scoring_of_a_mostly_closed_crm(tmp_path: Path) -> None:
    """Issue 20: a mature CRM, ~11% of its leads open: reading scales with the open leads.

    Prints rows/s, peak RSS and the seconds of each phase (read, validate, features,
    predict, reasons, rank, write; predict runs in its own thread, beside the others).
    """
    n = int(os.environ.get("LEADSCORE_BENCH_CLOSED_LEADS", 1_000_000))
    tracking = champion(tmp_path)
    path = tmp_path / f"closed_{n}"
    shutil.copytree(Path(store_of(n).removeprefix("parquet:///")), path)
    uri = f"parquet:///{path}"
    closed = run_step("close_most", uri, "0.11")
    scored = run_step("score", uri, tracking)
    assert scored["rows_scored"] == closed["open_leads"]
    print(
        f"{n:,} leads, {scored['rows_scored']:,} open: {scored['scorer_s']} s "
        f"({scored['open_leads_per_s']:,} open leads/s; goal for 1M leads <= 10 s), "
        f"peak RSS {scored['peak_rss_gb']} GB, phases {scored['phases_s']}"
    )


def test_scoring_memory_follows_the_slice_not_the_crm(tmp_path: Path) -> None:
    """Issue 6: N and 10N open leads scored in slices of the same size (default N): peak
    memory should barely move."""
    n = int(os.environ.get("LEADSCORE_BENCH_MEMORY_LEADS", 100_000))
    slice_size = int(os.environ.get("LEADSCORE_BENCH_MEMORY_SLICE", n))
    tracking = champion(tmp_path)
    figures = {}
    for size in (n, 10 * n):
        uri = open_store_of(size, tmp_path)
        figures[size] = run_step("score", uri, tracking, str(slice_size))
        assert figures[size]["rows_scored"] == size
        shutil.rmtree(uri.removeprefix("parquet:///"))
    small, big = figures[n]["peak_rss_gb"], figures[10 * n]["peak_rss_gb"]
    print(
        f"peak RSS scoring {n:,} leads: {small} GB; {10 * n:,} leads: {big} GB "
        f"(ratio {big / small:.2f}, slices of {slice_size:,}); times {figures[n]['scorer_s']} s, "
        f"{figures[10 * n]['scorer_s']} s"
    )


def test_spark_and_embedded_engines(tmp_path: Path) -> None:
    """Issue 9: one store scored by the embedded engine and by Spark on each master."""
    n = int(os.environ.get("LEADSCORE_BENCH_SPARK_LEADS", 1_000_000))
    masters = os.environ.get("LEADSCORE_BENCH_SPARK_MASTERS", "local[2]").split(",")
    tracking = champion(tmp_path)
    uri = open_store_of(n, tmp_path)
    embedded = run_step("score", uri, tracking)
    lines = [f"embedded: {embedded['scorer_s']} s, peak RSS {embedded['peak_rss_gb']} GB"]
    for master in masters:
        spark_uri = open_store_of(n, tmp_path / master.replace("[", "_").strip("]"))
        on_spark = run_step("score_spark", spark_uri, tracking, master)
        assert on_spark["rows_scored"] == embedded["rows_scored"] == n
        lines.append(
            f"spark {master}: {on_spark['scorer_s']} s (session start {on_spark['session_s']} s), "
            f"peak RSS Python driver {on_spark['peak_rss_python_driver_gb']} GB, "
            f"all processes {on_spark['peak_rss_all_processes_gb']} GB"
        )
        shutil.rmtree(spark_uri.removeprefix("parquet:///"))
    print(f"{n:,} open leads: " + "; ".join(lines))


def test_full_retrain(tmp_path: Path) -> None:
    n = int(os.environ.get("LEADSCORE_BENCH_TRAIN_LEADS", 200_000))
    figures = run_step("train", store_of(n), f"sqlite:///{tmp_path / 'mlflow.db'}")
    print(f"retrain on {n:,} leads over two years: {figures['train_s']} s (goal for 1M: <= 600 s)")
