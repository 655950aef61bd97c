"""Readers never fail on the writer: ``top``, ``export`` and ``report`` open a DuckDB store
read-only and wait out another process's lock (``$LEADSCORE_LOCK_WAIT_S``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.storage import LOCK_WAIT_ENV
from scoring.cli import EXIT_LOCKED, app

runner = CliRunner()
AS_OF = "2026-10-15"
LATER = "2026-10-22"
HOLD_S = 1.5


def _score(store: str, tracking: str, day: str) -> list[str]:
    return ["score", "--as-of", day, "--store", store, "--tracking-uri", tracking]


def _hold_write_lock(path: str) -> subprocess.Popen[str]:
    """A process holding a read-write connection to the file for ``HOLD_S`` seconds."""
    code = (
        "import sys, time, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('locked', flush=True)\n"
        f"time.sleep({HOLD_S})\n"
        "con.close()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, path], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def scored(store_copy: str, trained: dict[str, str]) -> str:
    """A copy of the trained store with one list (as of ``AS_OF``)."""
    result = runner.invoke(app, _score(store_copy, trained["tracking"], AS_OF))
    assert result.exit_code == 0, result.output
    return store_copy


def test_top_waits_out_a_writer_and_reads_the_list(
    scored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scored.removeprefix("duckdb:///")
    holder = _hold_write_lock(path)
    started = time.monotonic()
    result = runner.invoke(app, ["top", "-n", "3", "--store", scored])
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert f"Top 3 leads as of {AS_OF}" in result.output
    assert waited > 0.3  # it did meet the lock, and waited

    out = tmp_path / "list.csv"
    holder = _hold_write_lock(path)
    exported = runner.invoke(app, ["export", "--out", str(out), "--store", scored])
    holder.wait(timeout=30)
    assert exported.exit_code == 0, exported.output
    assert out.stat().st_size > 0

    monkeypatch.setenv(LOCK_WAIT_ENV, "0.2")  # a writer that outlasts the wait: exit 5
    holder = _hold_write_lock(path)
    locked = runner.invoke(app, ["top", "--store", scored])
    holder.wait(timeout=30)
    assert locked.exit_code == EXIT_LOCKED
    lines = locked.output.strip().splitlines()
    assert len(lines) == 1 and "kept the file locked" in lines[0]


@pytest.mark.slow  # ~50 s on a busy 2-core machine; the lock wait itself is tested above
def test_top_during_a_real_score_run_succeeds_every_time(
    scored: str, trained: dict[str, str]
) -> None:
    """A `leadscore score` process writes a new list while `top` runs again and again: every
    `top` succeeds (at least 20 of them), first with the old list, at the end the new.

    Measured with ``LEADSCORE_LOCK_WAIT_S=0`` (no wait): 1 of 61 failed on the lock.
    """
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from scoring.cli import main; main()",
            *_score(scored, trained["tracking"], LATER),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    results = []
    while writer.poll() is None or len(results) < 20:
        results.append(runner.invoke(app, ["top", "-n", "5", "--store", scored]))
        time.sleep(0.05)
    output, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0, output
    failed = [r.output for r in results if r.exit_code != 0]
    assert not failed, f"{len(failed)} of {len(results)} failed: {failed[0]}"
    days = [AS_OF if f"as of {AS_OF}" in r.output else LATER for r in results]
    assert days[0] == AS_OF and days[-1] == LATER
