"""CLI edges a scheduler meets: dates it can trust, one-line errors with documented exit
codes, and a mistyped store that leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import configure
from pipelines.inputs import write_inputs
from pipelines.storage import open_store
from scoring.cli import EXIT_BAD_INPUT, EXIT_NO_CHAMPION, EXIT_STORE_UNAVAILABLE, app

runner = CliRunner()
AS_OF = "2026-10-15"  # inside the small CRM, which ends on 2026-11-01
DATED = {  # every command that takes --as-of, with what else it needs
    "score": [],
    "train": [],
    "top": [],
    "export": ["--out", "x.csv"],
    "report": ["--out", "r.html"],
}


def _error_line(result) -> str:  # noqa: ANN001
    """The output, asserted to be one line that starts with ``error:``."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture(scope="module")
def crm_store(tmp_path_factory: pytest.TempPathFactory, small_crm) -> str:  # noqa: ANN001
    """A store holding the small CRM (no model, no list), not written by the tests."""
    uri = f"duckdb:///{tmp_path_factory.mktemp('edges') / 'crm.duckdb'}"
    write_inputs(open_store(uri), dict(small_crm))
    return uri


@pytest.mark.parametrize("command", sorted(DATED))
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("01/11/2026", "is not a date in ISO form"),  # January or November?
        ("11/01/2026", "is not a date in ISO form"),
        ("2026-13-01", "is not a valid date"),
        ("yesterday", "is not a date in ISO form"),
        ("2099-01-01", "is after today"),
        ("2026-11-20", "is after the store's latest event (2026-10-31"),
    ],
)
def test_a_wrong_as_of_is_one_line_and_exit_2(
    crm_store: str, command: str, value: str, says: str, tmp_path: Path
) -> None:
    extra = [str(tmp_path / a) if a.endswith((".csv", ".html")) else a for a in DATED[command]]
    result = runner.invoke(app, [command, "--as-of", value, "--store", crm_store, *extra])
    assert result.exit_code == EXIT_BAD_INPUT
    assert says in _error_line(result)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_allow_future_lets_the_date_through(crm_store: str, tmp_path: Path) -> None:
    args = ["score", "--store", crm_store, "--tracking-uri", f"sqlite:///{tmp_path / 'r.db'}"]
    refused = runner.invoke(app, [*args, "--as-of", "2026-11-20"])
    assert refused.exit_code == EXIT_BAD_INPUT
    # Past the date check, the run stops at the next thing missing: the model registry.
    allowed = runner.invoke(app, [*args, "--as-of", "2026-11-20", "--allow-future"])
    assert allowed.exit_code == EXIT_NO_CHAMPION, allowed.output
    assert "no model registry" in _error_line(allowed)
    assert not (tmp_path / "r.db").exists()


def test_the_default_date_is_today_and_checked_too(crm_store: str) -> None:
    assert "default: today, UTC" in " ".join(runner.invoke(app, ["score", "--help"]).output.split())
    # Today is past this CRM's data (it ends 2026-11-01): the nightly default refuses too.
    result = runner.invoke(app, ["score", "--store", crm_store])
    assert result.exit_code == EXIT_BAD_INPUT
    assert f"today {pd.Timestamp.now(tz='UTC').date()} is after" in _error_line(result)


def test_iso_dates_and_timestamps_are_read_as_utc() -> None:
    from scoring.cli.options import parse_date

    assert parse_date("2026-10-15") == pd.Timestamp("2026-10-15", tz="UTC")
    assert parse_date("2026-10-15T13:30") == pd.Timestamp("2026-10-15 13:30", tz="UTC")
    assert parse_date("2026-10-15T13:30:00+02:00") == pd.Timestamp("2026-10-15 11:30", tz="UTC")
    assert parse_date("2026-10-15 13:30:05Z") == pd.Timestamp("2026-10-15 13:30:05", tz="UTC")
    assert parse_date(None) is None


@pytest.mark.parametrize(
    "command",
    [
        ["score", "--as-of", AS_OF],
        ["train"],
        ["top"],
        ["export", "--out", "x.csv"],
        ["report", "--out", "r.html"],
        ["models"],
        ["promote", "1", "--reason", "test"],
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_a_missing_store_is_exit_4_and_creates_nothing(
    command: list[str], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a default registry or data/ folder would land here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store = "duckdb:///nope/x.duckdb" if kind == "duckdb" else "parquet:///nope"
    result = runner.invoke(app, [*command, "--store", store])
    assert result.exit_code == EXIT_STORE_UNAVAILABLE
    assert "does not exist" in _error_line(result)
    assert list(tmp_path.iterdir()) == []  # no folder, no registry, no lock file


def test_registry_commands_on_anything_missing_answer_in_one_line(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    absent = f"sqlite:///{tmp_path / 'absent.db'}"
    configure(empty)  # a registry with no model in it
    cases = [
        (["models", "--tracking-uri", absent], "no model registry at"),
        (["promote", "1", "--reason", "x", "--tracking-uri", absent], "no model registry at"),
        (["models", "--tracking-uri", empty], "no model 'lead-conversion' in the registry"),
        (["models", "--name", "nosuch", "--tracking-uri", empty], "no model 'nosuch'"),
        (["promote", "99", "--reason", "x", "--tracking-uri", empty], "no model 'lead-conversion'"),
    ]
    for args, says in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == EXIT_NO_CHAMPION, (args, result.output)
        assert says in _error_line(result), args
    assert not (tmp_path / "absent.db").exists()


def test_models_and_promote_name_what_is_missing(trained: dict[str, str]) -> None:
    tracking = ["--tracking-uri", trained["tracking"]]
    cases = [
        (["promote", "99", "--reason", "x"], "model 'lead-conversion' has no version 99"),
        (["promote", "v1", "--reason", "x"], "has no version 'v1'"),
        (["models", "--name", "nosuch"], "no model 'nosuch' in the registry"),
        (["promote", "1", "--reason", "x", "--name", "nosuch"], "no model 'nosuch'"),
    ]
    for args, says in cases:
        result = runner.invoke(app, [*args, *tracking])
        assert result.exit_code == EXIT_NO_CHAMPION, (args, result.output)
        assert says in _error_line(result), args


def test_export_of_a_store_never_scored_is_one_line(crm_store: str, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["export", "--out", str(out), "--store", crm_store])
    assert result.exit_code == EXIT_STORE_UNAVAILABLE
    assert "no table 'lead_scores'" in _error_line(result)
    assert "no scoring run yet (run `leadscore score` first)" in _error_line(result)
    assert not out.exists()
    result = runner.invoke(app, ["top", "--store", crm_store])
    assert result.exit_code == EXIT_STORE_UNAVAILABLE
    assert "no scoring run yet" in _error_line(result)


def test_the_default_date_has_a_quiet_weekend_of_grace(
    crm_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from pipelines import stored_data_end
    from scoring.cli.options import check_in_data

    store = open_store(crm_store)
    last_day = stored_data_end(store).ceil("D")  # type: ignore[union-attr]
    check_in_data(store, last_day + pd.Timedelta(days=2), False, "today", grace_days=3)
    assert "warning: the store's latest event is" in capsys.readouterr().err
    with pytest.raises(typer.Exit) as stopped:
        check_in_data(store, last_day + pd.Timedelta(days=4), False, "today", grace_days=3)
    assert stopped.value.exit_code == EXIT_BAD_INPUT
    with pytest.raises(typer.Exit):  # a date given explicitly has no grace
        check_in_data(store, last_day + pd.Timedelta(days=1), False)
