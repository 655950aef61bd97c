"""Flat mode: generic features, the leakage report, and train → register → score via the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.flat import FlatInputError, prepare_flat
from models.flat.features import OTHER, FlatConfig, FlatFeatures
from pipelines.synthetic import generate_crm, to_flat
from scoring.cli import EXIT_BAD_INPUT, EXIT_NO_CHAMPION, app

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def small_table(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    frame = pd.DataFrame(
        {
            "Visits": np.where(rng.random(n) < 0.1, "", (rng.poisson(3, n) + 4 * y).astype(str)),
            "Source": rng.choice(
                ["Google", "Select", "Referral", "Fax"], n, p=[0.5, 0.2, 0.28, 0.02]
            ),
            "Title": [f"head of {w} {i}" for i, w in enumerate(rng.choice(["sales", "it"], n))],
            "Contact": [f"p{i}@{'gmail.com' if i % 2 else 'acme.io'}" for i in range(n)],
            "Mobile": [f"+49 555 {i:04d}" for i in range(n)],
            "Row": [str(1000 + i) for i in range(n)],
            "Magazine": "No",
        }
    )
    return frame.astype(object), y.astype(int)


def test_column_kinds_are_found_from_the_values() -> None:
    frame, y = small_table()
    features = FlatFeatures(FlatConfig()).fit(frame, y)
    assert features.kinds_ == {
        "Visits": "numeric",
        "Source": "category",
        "Title": "text",
        "Contact": "email",
        "Mobile": "pii",
        "Row": "identifier",
        "Magazine": "constant",
    }
    out = features.transform(frame)
    assert list(out.columns) == [
        "visits",
        "source",
        "title_words",
        "title_strength",
        "contact_present",
        "contact_free_mail",
        "mobile_present",
    ]
    assert out["visits"].isna().sum() == (frame["Visits"] == "").sum()  # blank → missing
    assert out["source"].isna().sum() == (frame["Source"] == "Select").sum()  # placeholder
    assert out["contact_free_mail"].tolist()[:2] == [0.0, 1.0]
    assert features.sources()["title_strength"] == "Title"


def test_category_levels_are_fixed_at_fit() -> None:
    frame, y = small_table()
    features = FlatFeatures(FlatConfig(min_category_count=20)).fit(frame, y)
    assert features.levels_["Source"] == ["Google", "Referral"]  # Fax is rare
    new = frame.head(3).assign(Source=["Bing", "Fax", None])
    codes = features.transform(new)["source"]
    assert list(codes.cat.categories) == ["Google", "Referral", OTHER]
    assert codes.tolist()[:2] == [OTHER, OTHER] and pd.isna(codes.iloc[2])
    with pytest.raises(ValueError, match="missing column"):
        features.transform(frame.drop(columns="Visits"))


def test_text_strength_is_cross_fitted_on_the_training_rows() -> None:
    frame, y = small_table()
    frame["Need"] = np.where(y == 1, "urgent budget approved", "just browsing") + pd.Series(
        [f" {i}" for i in range(len(y))]
    )
    features = FlatFeatures(FlatConfig())
    fitted = features.fit_transform(frame, y)["need_strength"]
    refit = features.transform(frame)["need_strength"]
    assert (fitted[y == 1] > 0).all() and (fitted[y == 0] < 0).all()
    assert not np.allclose(fitted, refit)  # out-of-fold weights at fit, full weights after


def test_prepare_flat_refuses_unknown_columns_pii_ids_and_odd_labels() -> None:
    frame, y = small_table(50)
    frame["Won"] = np.where(y == 1, "yes", "no")
    with pytest.raises(FlatInputError, match="--label: no column 'Converted'"):
        prepare_flat(frame, "Converted")
    with pytest.raises(FlatInputError, match="--exclude: no column 'Tags'"):
        prepare_flat(frame, "Won", exclude=("Tags",))
    with pytest.raises(FlatInputError, match="personal data"):
        prepare_flat(frame, "Won", id_column="Mobile")
    frame.loc[0, "Won"] = "maybe"
    with pytest.raises(FlatInputError, match="'maybe'"):
        prepare_flat(frame, "Won")
    frame.loc[0, "Won"] = ""
    data = prepare_flat(frame, "Won", id_column="Row", exclude=("Magazine",))
    assert data.rows_without_label == 1 and len(data.X) == 49
    assert list(data.X.columns) == ["Visits", "Source", "Title", "Contact", "Mobile"]


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A generated flat export with a planted leak, trained and scored through the CLI."""
    root = tmp_path_factory.mktemp("flat")
    flat = to_flat(generate_crm(1200, seed=4))["flat"]
    rng = np.random.default_rng(0)
    # Planted: a field sales fill in once they know (right 88% of the time).
    flat["Rep Verdict"] = np.where(
        (flat["Converted"] == 1) ^ (rng.random(len(flat)) < 0.12), "hot", "cold"
    )
    path = root / "leads_flat.csv"
    flat.to_csv(path, index=False)
    store = f"duckdb:///{root / 'store.duckdb'}"
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    common = ["--store", store, "--tracking-uri", tracking]
    train = invoke("train", "--flat", str(path), "--label", "Converted", "--id", "Lead ID", *common)
    out = root / "scores.csv"
    score = invoke("score", "--flat", str(path), "--out", str(out), *common)
    args = ["--label", "Converted", "--id", "Lead ID", "--exclude", "Rep Verdict", *common]
    retrain = invoke("train", "--flat", str(path), *args)
    return {
        "train": train,
        "score": score,
        "retrain": retrain,
        "out": out,
        "flat": flat,
        "tracking": tracking,
        "path": path,
    }


def test_flat_training_reports_split_leaks_and_baselines(flat_run: dict[str, object]) -> None:
    out = " ".join(str(flat_run["train"]).split())
    assert "NOT point-in-time: a random split" in out
    assert "dropped Lead Status (AUC alone 1.000)" in out
    assert re.search(
        r"check this is known before the outcome: Rep Verdict \(AUC alone 0\.[89]", out
    )
    assert "personal data, used only as given/missing: Email, Phone" in out
    assert "logistic" in out and "naive_bayes" in out and "rule_points: not applicable" in out
    assert "lead-conversion-flat v1" in out and "@champion" in out


def test_flat_model_is_registered_with_holdout_metrics(flat_run: dict[str, object]) -> None:
    from models import configure, list_versions

    configure(str(flat_run["tracking"]))
    versions = list_versions("lead-conversion-flat")
    assert versions["aliases"].tolist() == ["", "champion"]  # v2 (newest first) was not promoted
    assert (versions["test_roc_auc"] > 0.75).all()  # chance is 0.5; observed 0.88 and 0.96
    from mlflow import MlflowClient

    names = [m.name for m in MlflowClient().search_registered_models()]
    assert names == ["lead-conversion-flat"]  # its own name; the main model is untouched
    assert len(list_versions("lead-conversion-flat")) == 2
    # Each version names the file and rows it was trained on (both runs: the same rows).
    tagged = list_versions("lead-conversion-flat", ("store_uri", "data_fingerprint"))
    assert tagged["store_uri"].tolist() == ["file leads_flat.csv"] * 2
    rows = len(flat_run["flat"])  # type: ignore[arg-type]
    assert tagged["data_fingerprint"].str.startswith(f"{rows:,} rows #").all()
    assert tagged["data_fingerprint"].nunique() == 1


def test_a_champion_trained_on_other_columns_is_kept(flat_run: dict[str, object]) -> None:
    out = " ".join(str(flat_run["retrain"]).split())
    assert "lead-conversion-flat v2" in out and "not promoted" in out
    assert "the current champion cannot score this table" in out
    assert "Rep Verdict" in out  # the missing column is named


def test_flat_scores_are_ranked_with_reasons_and_no_personal_data(
    flat_run: dict[str, object],
) -> None:
    scores = pd.read_csv(flat_run["out"])  # type: ignore[arg-type]
    flat: pd.DataFrame = flat_run["flat"]  # type: ignore[assignment]
    assert len(scores) == len(flat) and set(scores["lead_id"]) == set(flat["Lead ID"])
    assert scores["rank"].tolist() == list(range(1, len(flat) + 1))
    assert scores["probability"].is_monotonic_decreasing
    assert set(scores["grade"]) <= {"A", "B", "C", "D"}
    # In the CSV, reasons are words as in `leadscore export`: "▲ raises | ▼ lowers".
    reasons = [str(r).split(" | ") for r in scores["top_reasons"]]
    assert all(0 < len(r) <= 5 for r in reasons)
    assert all(item[:2] in ("▲ ", "▼ ") for r in reasons for item in r)
    text = scores.to_csv()
    assert "@" not in text and "+1 555" not in text and "Lead Status" not in text  # dropped
    top = scores.head(len(scores) // 10)
    assert (
        top["lead_id"].map(flat.set_index("Lead ID")["Converted"]).mean() > flat["Converted"].mean()
    )


def test_flat_options_need_flat_mode_and_a_label(
    tmp_path: Path, flat_run: dict[str, object]
) -> None:
    result = runner.invoke(app, ["train", "--label", "Converted"])
    assert result.exit_code == EXIT_BAD_INPUT and "go with --flat" in result.output
    result = runner.invoke(
        app, ["train", "--flat", str(flat_run["path"]), "--tracking-uri", str(flat_run["tracking"])]
    )
    assert result.exit_code == EXIT_BAD_INPUT and "--flat needs --label" in result.output
    tracking = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(
        app, ["score", "--flat", str(flat_run["path"]), "--tracking-uri", tracking]
    )
    assert result.exit_code == EXIT_NO_CHAMPION
