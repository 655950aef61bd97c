"""Tables printed to a pipe (a cron log, ``| cat``) keep whole lines: no wrapping, no cut headers."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from scoring.cli.options import console
from scoring.cli.tables import fit_to_output, print_evaluation, print_table


@pytest.fixture
def piped(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    fit_to_output()  # what the app does before every command; stdout is captured: no terminal
    yield capsys
    console.width = None  # type: ignore[assignment]


def test_the_evaluation_table_is_not_cut_when_piped(piped: pytest.CaptureFixture[str]) -> None:
    metrics = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_top10", "capture_top20")
    evaluation = pd.DataFrame(
        [{"model": name, **dict.fromkeys(metrics, 0.123456)} for name in ("lightgbm", "logistic")]
    )
    print_evaluation(evaluation)
    out = piped.readouterr().out
    assert "…" not in out
    header = next(line for line in out.splitlines() if "AUC" in line)
    for name in ("PR AUC", "log loss", "lift@10%", "capture@20%"):
        assert name in header
    (row,) = [line for line in out.splitlines() if "lightgbm" in line]
    assert row.count("0.1235") == len(metrics)


def test_long_cells_stay_on_one_line(piped: pytest.CaptureFixture[str]) -> None:
    words = "a reason much longer than any terminal is wide " * 5
    print_table(pd.DataFrame({"lead": ["L1"], "reason": [words.strip()]}), "Leads")
    (line,) = [line for line in piped.readouterr().out.splitlines() if "L1" in line]
    assert words.strip() in line
