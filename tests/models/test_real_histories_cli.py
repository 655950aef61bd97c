"""Issue 16 through the command line, on generated CRMs shaped like the real exports we
failed on: a 9-month history, fields filled only once a lead closes, a dropped BANT family."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipelines import write_inputs
from pipelines.storage import open_store
from pipelines.synthetic import generate_crm
from scoring.cli import app

runner = CliRunner()
LEAKY = ("industry", "employees", "annual_revenue")


@pytest.fixture(scope="module")
def short_leaky(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 9-month, 6,000-lead CRM whose account fields are filled when leads close, trained
    with the shipped default configs."""
    root = tmp_path_factory.mktemp("short")
    store = f"duckdb:///{root / 'crm.duckdb'}"
    crm = generate_crm(6000, seed=3, history_days=270, fill_on_close=LEAKY)
    write_inputs(open_store(store), crm)
    common = ["--store", store, "--tracking-uri", f"sqlite:///{root / 'mlflow.db'}"]
    trained = runner.invoke(app, ["train", *common], catch_exceptions=False)
    return {"root": root, "common": common, "trained": trained, "crm": crm}


def test_default_configs_train_on_a_nine_month_history(short_leaky: dict) -> None:
    result = short_leaky["trained"]
    assert result.exit_code == 0, result.output
    out = " ".join(re.sub(r"[│┃━─┏┓┗┛┡┩└┘┳┻╇┼]", " ", result.output).split())
    assert "configured folds do not fit" in out
    for fold in ("train", "calibration", "test"):  # dates and counts of each fold
        assert re.search(rf"{fold} 2026-\d\d-\d\d \.\. 2026-\d\d-\d\d [\d,]+ [\d,]+ [\d,]+", out), (
            out
        )
    assert "refitted on every labelled snapshot through 2026-" in out


def test_fields_filled_when_leads_close_are_flagged_and_kept_out(short_leaky: dict) -> None:
    out = " ".join(short_leaky["trained"].output.split())  # noqa: RUF100
    for column in LEAKY:
        assert re.search(rf"excluded {column}: filled for 100% of closed leads", out), out
    from models import configure, get_champion, load_pipeline

    configure(short_leaky["common"][3])
    pipeline = load_pipeline(get_champion("lead-conversion"))
    assert set(LEAKY) <= set(pipeline.named_steps["blank"].columns)


def test_scoring_survives_a_bant_family_left_out(
    short_leaky: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    families = ["authority", "budget", "timing", "fit", "engagement", "stage"]  # no "need"
    (configs / "train.yaml").write_text(yaml.safe_dump({"families": families}))
    common = short_leaky["common"]
    trained = runner.invoke(app, ["train", "--config-dir", str(configs), *common])
    assert trained.exit_code == 0, trained.output
    version = re.search(r"trained lead-conversion v(\d+)", trained.output)[1]  # type: ignore[index]
    promoted = runner.invoke(app, ["promote", version, "--reason", "no need family", *common])
    assert promoted.exit_code == 0, promoted.output
    end = short_leaky["crm"]["leads"]["created_at"].max().normalize() + pd.Timedelta(days=1)
    scored = runner.invoke(
        app, ["score", "--as-of", str(end.date()), "--config-dir", str(configs), *common]
    )
    assert scored.exit_code == 0, scored.output
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == ["scoring rule bant.need skipped: the model has no feature bant_need_present"]
