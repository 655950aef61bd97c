"""Drift right after training compares like with like, so it does not cry wolf.

The reference is the champion's own test fold (the latest labelled snapshot dates, leads
open at those dates, scored by the served model); a run scored right after training is
the same kind of population, so its score PSI against the reference is small.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from scoring.cli import app

AS_OF = "2026-11-01"
STABLE = 0.1  # PSI below this is "stable"
runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def drift(trained: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    import shutil

    root = tmp_path_factory.mktemp("drift")
    shutil.copy(trained["path"], root / "crm.duckdb")
    common = ["--store", f"duckdb:///{root / 'crm.duckdb'}", "--tracking-uri", trained["tracking"]]
    _invoke("score", "--as-of", AS_OF, *common)
    out = root / "report.html"
    _invoke("report", "--as-of", AS_OF, "--out", str(out), *common)
    return out.read_text(encoding="utf-8")


def test_score_drift_right_after_training_is_stable(drift: str) -> None:
    found = re.search(
        r"<td>score vs training reference</td><td class=\"num\" data-v=\"([\d.e-]+)\">", drift
    )
    assert found, "no score drift against the training reference in the report"
    psi = float(found[1])
    print(f"score PSI vs the champion's test fold: {psi:.3f}")
    assert psi < STABLE


def test_few_features_drift_right_after_training(drift: str) -> None:
    found = re.search(r"(\d+) of (\d+) features above 0\.2", drift)
    assert found, "no feature drift in the report"
    drifted, features = int(found[1]), int(found[2])
    print(f"features above 0.2: {drifted} of {features}")
    assert features > 50 and drifted <= features // 20
