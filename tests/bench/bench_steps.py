"""Benchmark steps, run in a fresh process each so peak RSS is the step's own.

Usage: python -m tests.bench.bench_steps STEP ARGS...; prints one JSON line of figures.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-11-01", tz="UTC")


def _peak_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)


def generate(n_leads: str, uri: str) -> dict:
    from pipelines.inputs import write_inputs
    from pipelines.storage import open_store
    from pipelines.synthetic import generate_crm

    started = time.perf_counter()
    crm = generate_crm(int(n_leads), seed=1)
    written = write_inputs(open_store(uri), crm)
    return {"seconds": round(time.perf_counter() - started, 1), **written}


def features(uri: str) -> dict:
    """Issue 4: features for every lead at one T."""
    from pipelines.features import build_feature_frame
    from pipelines.inputs import read_inputs
    from pipelines.snapshots import snapshots_at
    from pipelines.storage import open_store

    started = time.perf_counter()
    tables = read_inputs(open_store(uri))
    read = time.perf_counter()
    snapshots = snapshots_at(tables.leads["lead_id"], AS_OF)
    frame = build_feature_frame(tables.leads, tables.activities, tables.stage_history, snapshots)
    done = time.perf_counter()
    return {
        "leads": len(frame),
        "activities": len(tables.activities),
        "read_validate_s": round(read - started, 1),
        "features_s": round(done - read, 1),
        "total_s": round(done - started, 1),
        "rows_per_s": round(len(frame) / (done - read)),
        "peak_rss_gb": _peak_gb(),
    }


def reopen(uri: str) -> dict:
    """Clears every outcome so that every lead is open at AS_OF (a scoring population)."""
    from pipelines.storage import open_store

    store = open_store(uri)
    leads = store.read("leads")
    leads[["converted_at", "lost_at", "deal_value"]] = None
    leads["created_at"] = leads["created_at"].clip(upper=AS_OF - pd.Timedelta(days=1))
    store.write("leads", leads)
    return {"open_leads": len(leads)}


def score(uri: str, tracking: str, partition_size: str = "") -> dict:
    """Issue 6: the nightly run end to end (read, features, score, reasons, write)."""
    from models import configure
    from pipelines.config import FeaturesConfig
    from pipelines.storage import open_store
    from scoring.config import ScoringConfig
    from scoring.scorer import run_scoring

    configure(tracking)
    started = time.perf_counter()
    cfg = ScoringConfig(**({"partition_size": int(partition_size)} if partition_size else {}))
    result = run_scoring(open_store(uri), AS_OF, cfg, FeaturesConfig())
    return {
        "rows_scored": result.rows_scored,
        "scorer_s": round(time.perf_counter() - started, 1),
        "peak_rss_gb": _peak_gb(),
    }


def raw_model(uri: str, tracking: str) -> dict:
    """The floor for the scorer: booster.predict + pred_contrib on the same matrix."""
    from models import booster_of, configure, get_champion, load_pipeline
    from pipelines.features import build_feature_frame, model_input
    from pipelines.inputs import read_inputs
    from pipelines.snapshots import open_at, snapshots_at
    from pipelines.storage import open_store

    configure(tracking)
    pipeline = load_pipeline(get_champion("lead-conversion"))
    tables = read_inputs(open_store(uri))
    ids = tables.leads.loc[open_at(tables.leads, AS_OF), "lead_id"]
    snapshots = snapshots_at(ids, AS_OF)
    Xt = pipeline[:-1].transform(
        model_input(
            build_feature_frame(tables.leads, tables.activities, tables.stage_history, snapshots)
        )
    )
    booster = booster_of(pipeline).booster_
    started = time.perf_counter()
    booster.predict(Xt, num_threads=1)
    predicted = time.perf_counter()
    booster.predict(Xt, pred_contrib=True, num_threads=1)
    done = time.perf_counter()
    return {
        "rows": len(Xt),
        "predict_s": round(predicted - started, 1),
        "pred_contrib_s": round(done - predicted, 1),
        "raw_s": round(done - started, 1),
        "pred_contrib_ms_per_row": round((done - predicted) / max(len(Xt), 1) * 1000, 3),
    }


def train(uri: str, tracking: str) -> dict:
    """Issue 5: a full retrain (snapshots, features, LightGBM, baselines, MLflow)."""
    from models import TrainConfig, train_model
    from pipelines.config import FeaturesConfig
    from pipelines.inputs import read_inputs
    from pipelines.storage import open_store

    started = time.perf_counter()
    result = train_model(read_inputs(open_store(uri)), TrainConfig(), FeaturesConfig(), tracking)
    return {
        "train_s": round(time.perf_counter() - started, 1),
        "rows": result.fold_sizes,
        "test_roc_auc": round(result.metrics["roc_auc"], 4),
        "ece": round(result.metrics["ece"], 4),
        "peak_rss_gb": _peak_gb(),
    }


if __name__ == "__main__":
    step, args = sys.argv[1], sys.argv[2:]
    figures = {
        "generate": generate,
        "features": features,
        "reopen": reopen,
        "score": score,
        "raw_model": raw_model,
        "train": train,
    }[step](*args)
    np.set_printoptions(legacy=False)
    print(json.dumps({"step": step, **figures}))
