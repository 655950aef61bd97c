"""Per-segment models (``train --segment-by``): who enters, the routing model, its reasons."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from models import (
    SegmentedModel,
    TrainConfig,
    configure,
    list_versions,
    routes_of,
    scoring_frames,
    train_model,
)
from models.registry import get_champion, load_evaluated, load_pipeline
from models.segments import calibrated, grow
from pipelines import FeaturesConfig
from pipelines.inputs import validate_inputs
from pipelines.synthetic import generate_crm
from scoring.config import ScoringConfig
from scoring.nightly.rows import predict_and_explain, predict_and_explain_routes, route_frames

LEADS, SEED = 6000, 21


def _tables(crm: dict[str, pd.DataFrame]):  # noqa: ANN202
    return validate_inputs({t: crm[t] for t in ("leads", "activities", "stage_history")})


@pytest.fixture(scope="module")
def alike(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A CRM whose sources differ in level but not in drivers, trained with --segment-by."""
    tracking = f"sqlite:///{tmp_path_factory.mktemp('segments') / 'mlflow.db'}"
    result = train_model(
        _tables(generate_crm(LEADS, SEED)), TrainConfig(), FeaturesConfig(), tracking,
        segment_by="source",
    )  # fmt: skip
    return {"result": result, "tracking": tracking}


def test_without_different_drivers_every_segment_falls_back(alike: dict[str, object]) -> None:
    result = alike["result"]
    table = result.segments  # type: ignore[attr-defined]
    tried = table[table["global_auc"].notna()]
    print(table.drop(columns="why").to_string())
    assert len(tried) >= 3  # compared on their holdout, not only short of data
    assert (table["model"] == "global").all()
    assert (tried["why"].str.startswith("no gain")).all()
    configure(str(alike["tracking"]))
    served = load_pipeline(get_champion("lead-conversion"))
    assert isinstance(served, Pipeline)  # no routing model when no segment has its own
    versions = list_versions("lead-conversion")
    assert versions["segments"].iloc[0].startswith("own model: -; fell back: ")


def test_a_segment_that_misses_the_minimum_data_is_never_tried(alike: dict[str, object]) -> None:
    table = alike["result"].segments  # type: ignore[attr-defined]
    cfg = TrainConfig()
    short = (table["train_leads"] < cfg.min_leads) | (
        table["train_conversions"] < cfg.min_conversions
    )
    assert short.any()
    assert table.loc[short, "global_auc"].isna().all()
    assert table.loc[short, "why"].str.startswith("too little data").all()


def test_an_unknown_segment_column_is_one_line(alike: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--segment-by: owner_team is not a model input"):
        train_model(
            _tables(generate_crm(1500, 2)), TrainConfig(), FeaturesConfig(),
            f"sqlite:///{tmp_path / 'mlflow.db'}", segment_by="owner_team",
        )  # fmt: skip


@pytest.fixture(scope="module")
def routed(alike: dict[str, object]) -> dict[str, object]:
    """A routing model with a web_form model of its own (grown from the global one), and
    leads of every source to score."""
    configure(str(alike["tracking"]))
    glob = load_evaluated(get_champion("lead-conversion"))
    crm = generate_crm(2500, SEED + 1)
    from models.training import build_training_frame
    from pipelines.features import model_input

    frame, _ = build_training_frame(_tables(crm), TrainConfig(), FeaturesConfig())
    X, y = model_input(frame), frame["label"].to_numpy()
    web = (X["source"] == "web_form").to_numpy()
    grown = calibrated(grow(glob, X[web], y[web], None, 60), X[web], y[web], "sigmoid")
    model = SegmentedModel("source", glob, {"web_form": grown})
    return {
        "model": model, "global": glob, "web_form": grown, "X": X.head(600), "web": web[:600],
        "y": y[:600],
    }  # fmt: skip


def test_the_routing_model_scores_each_row_by_its_segment(routed: dict[str, object]) -> None:
    model, X, web = routed["model"], routed["X"], routed["web"]
    p = model.predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    own = routed["web_form"].predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    glob = routed["global"].predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    assert web.any() and (~web).any()  # type: ignore[attr-defined]
    np.testing.assert_allclose(p, np.where(web, own, glob))
    assert not np.allclose(own[web], glob[web])  # the two models do differ
    names = [name for name, _, _ in routes_of(model, X)]
    assert sorted(names) == ["(global)", "web_form"]


def test_reasons_come_from_the_model_that_scored_the_lead(routed: dict[str, object]) -> None:
    model, X, web = routed["model"], routed["X"], routed["web"]
    cfg = ScoringConfig()
    features, routes = route_frames(model, X)
    probability, contrib = predict_and_explain_routes(routes, cfg)
    assert features.index.equals(X.index) and contrib.index.equals(X.index)  # type: ignore[attr-defined]
    assert contrib.columns[-1] == "bias"
    pd.testing.assert_frame_equal(features, scoring_frames(routed["global"], X)[0])  # row order
    for name, rows in (("web_form", web), ("global", ~web)):  # type: ignore[operator]
        pipeline = routed[name]
        route = route_frames(pipeline, X[rows])[1][0]
        p, own = predict_and_explain(route.pipeline, route.Xt, cfg)
        np.testing.assert_allclose(probability[rows], p)
        np.testing.assert_allclose(contrib[rows].to_numpy(), own.to_numpy())


def test_a_routing_model_registers_and_loads_back_as_one_champion(
    routed: dict[str, object], tmp_path: Path
) -> None:
    from models.config import PromotionSettings
    from models.publishing import Candidate, publish

    model, X, y = routed["model"], routed["X"], routed["y"]
    p = model.predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    candidate = Candidate(
        model, X, X, y, {"lightgbm": p}, pd.DataFrame(), {"train": len(X)},  # type: ignore[arg-type]
        tables={"segments.csv": pd.DataFrame({"segment": ["web_form"]})},
        more_metrics={"segment.web_form.auc_gain": 0.01},
    )  # fmt: skip
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    published = publish(candidate, "routed", tracking, PromotionSettings(), {})
    assert published.promoted
    served = load_pipeline(get_champion("routed"))
    assert isinstance(served, SegmentedModel)
    np.testing.assert_allclose(served.predict_proba(X)[:, 1], p)
    import mlflow

    run = mlflow.get_run(published.run_id)
    assert run.data.metrics["segment.web_form.auc_gain"] == 0.01
    assert "segments.csv" in [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_routing_model_serves_through_mlflow_models_serve(
    routed: dict[str, object], tmp_path: Path
) -> None:
    import mlflow
    import requests

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    configure(uri)
    X = routed["X"].head(20)  # type: ignore[attr-defined]
    model = routed["model"]
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="routed",
            serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba",
            signature=mlflow.models.infer_signature(X, model.predict_proba(X)),  # type: ignore[attr-defined]
        )  # fmt: skip
    port = _free_port()
    env = os.environ | {
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    mlflow_bin = shutil.which("mlflow", path=env["PATH"])
    server = subprocess.Popen(
        [str(mlflow_bin), "models", "serve", "-m", "models:/routed/1", "--env-manager", "local",
         "--port", str(port), "--host", "127.0.0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        body = f'{{"dataframe_split": {X.to_json(orient="split", index=False)}}}'  # NaN: null
        answer = requests.post(
            f"http://127.0.0.1:{port}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        assert answer.ok, answer.text
        served = np.asarray(answer.json()["predictions"], dtype=float)[:, 1]
        np.testing.assert_allclose(served, model.predict_proba(X)[:, 1], rtol=1e-6)  # type: ignore[attr-defined]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="measured 2026-12-06 (seed 7, --segment-drivers): the global model already learns "
    "each source's drivers (it splits on source); every segment model lost on its own holdout, "
    "so all fell back. 20,000 leads: AUC gain -0.008 to -0.036 (partner 0.820 vs 0.855); "
    "100,000 leads: -0.003 to -0.013 (web_form 0.876 vs 0.879, on 47,515 training rows). "
    "Grown 20/60/150 trees or fitted on the segment alone (4 or 15 leaves): all below global",
)
def test_with_different_drivers_some_segment_gets_its_own_model(tmp_path: Path) -> None:
    crm = generate_crm(20_000, 7, segment_drivers=True)
    result = train_model(
        _tables(crm), TrainConfig(), FeaturesConfig(), f"sqlite:///{tmp_path / 'mlflow.db'}",
        segment_by="source",
    )  # fmt: skip
    table = result.segments
    assert (table["model"] == "segment").any(), table.drop(columns="why").to_string()
    evaluation = result.evaluation.set_index("model")
    assert evaluation.loc["lightgbm", "roc_auc"] > evaluation.loc["global", "roc_auc"]
