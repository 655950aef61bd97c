"""A Spark run killed at any moment leaves the previous lists intact (``make slow``: ~3 min).

The swap itself, killed between any two of its steps, is tested in
``tests/pipelines/storage/test_partitions.py``.

Each run is a real ``leadscore score --engine spark`` process with its own JVM, so the
test takes minutes and runs with the slow tests, not in ``make test``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines.contracts import LeadScores
from pipelines.inputs import write_inputs
from pipelines.spark import java_executable
from pipelines.storage import open_store

pytestmark = pytest.mark.slow
FIRST, NEXT = "2026-10-08", "2026-10-15"


def _command(store: str, tracking: str, day: str) -> list[str]:
    code = "from scoring.cli import main; main()"
    args = ["score", "--engine", "spark", "--as-of", day, "--store", store]
    return [sys.executable, "-c", code, *args, "--tracking-uri", tracking]


def _lists(store: str) -> dict[str, pd.DataFrame]:
    if not open_store(store).exists("lead_scores"):
        return {}
    scores = LeadScores.validate(open_store(store).read("lead_scores"))
    return {
        str(day.date()): rows.drop(columns="run_id").sort_values("lead_id", ignore_index=True)
        for day, rows in scores.groupby("as_of")
    }


def test_sigkill_on_spark_leaves_the_previous_list(trained: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed: pip install 'leadscore[spark]'"
    )
    if java_executable() is None:
        pytest.skip("no Java runtime for Spark")
    store = f"parquet:///{tmp_path / 'crm'}"
    source = open_store(trained["store"])
    write_inputs(
        open_store(store), {t: source.read(t) for t in ("leads", "activities", "stage_history")}
    )
    env = os.environ | {"MLFLOW_DISABLE_TELEMETRY": "true"}
    subprocess.run(
        _command(store, trained["tracking"], FIRST), check=True, capture_output=True, env=env
    )
    before = _lists(store)
    started = time.monotonic()
    subprocess.run(
        _command(store, trained["tracking"], NEXT), check=True, capture_output=True, env=env
    )
    duration = time.monotonic() - started
    complete = _lists(store)[NEXT]
    # Kill reruns of either date part way: the other date never changes, and the killed
    # date holds its old rows or a whole new list, never a part of one.
    for day, fraction in ((NEXT, 0.5), (FIRST, 0.6), (NEXT, 0.9)):
        process = subprocess.Popen(
            _command(store, trained["tracking"], day),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(2)  # the JVM exits once its Python parent has gone
        after = _lists(store)
        other = FIRST if day == NEXT else NEXT
        pd.testing.assert_frame_equal(after[other], (before | {NEXT: complete})[other])
        # The killed date: its old list or the whole new one (the rerun of FIRST scores the
        # same rows it had, NEXT's rerun the same as its complete run), never absent.
        expected = complete if day == NEXT else before[FIRST]
        pd.testing.assert_frame_equal(after[day], expected)
    subprocess.run(
        _command(store, trained["tracking"], NEXT), check=True, capture_output=True, env=env
    )
    pd.testing.assert_frame_equal(_lists(store)[NEXT], complete)
