"""`make bench`: exact contributions against `pred_contrib` on the same matrix, one thread.

Sizes: LEADSCORE_BENCH_SHAP_ROWS (default 50,000 rows). Figures printed, not timed asserts:
only the values are checked (equal to `pred_contrib` within 1e-6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.paths import REPO

pytestmark = pytest.mark.bench


def test_exact_contributions_speedup_over_pred_contrib() -> None:
    rows = os.environ.get("LEADSCORE_BENCH_SHAP_ROWS", "50000")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.shap_speed", "--rows", rows],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for line in done.stdout.strip().splitlines():
        figures = json.loads(line)
        print(json.dumps(figures))
        assert figures["max_abs_diff"] <= 1e-6
