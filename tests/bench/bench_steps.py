"""Benchmark steps, run in a fresh process each so peak RSS is the step's own.

Usage: python -m tests.bench.bench_steps STEP ARGS...; prints one JSON line of figures.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
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


def replicate(source: str, copies: str, uri: str) -> dict:
    """A store ``copies`` times the size of ``source``: its rows again under new lead ids.

    The generator holds a whole CRM in memory; DuckDB copies a Parquet store out of core.
    """
    import duckdb

    src = source.removeprefix("parquet:///")
    dst = uri.removeprefix("parquet:///")
    os.makedirs(dst, exist_ok=True)
    started = time.perf_counter()
    written = {}
    with duckdb.connect() as con:
        for table in ("leads", "activities", "stage_history"):
            query = (
                "SELECT * REPLACE ('c' || copy || '-' || lead_id AS lead_id) "
                f"FROM read_parquet('{src}/{table}.parquet'), range({int(copies)}) AS c(copy)"
            )
            con.sql(f"COPY ({query}) TO '{dst}/{table}.parquet' (FORMAT parquet)")
            written[table] = con.sql(f"SELECT count(*) FROM '{dst}/{table}.parquet'").fetchall()[0][
                0
            ]
    return {"seconds": round(time.perf_counter() - started, 1), **written}


def features(uri: str) -> dict:
    """Issue 4: features for every lead at one T."""
    from pipelines.features.frame import build_feature_frame
    from pipelines.features.snapshots import snapshots_at
    from pipelines.inputs import read_inputs
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


def close_most(uri: str, open_share: str = "0.11") -> dict:
    """Closes open leads until about ``open_share`` of all leads are open at AS_OF (the
    mature CRM of issue 20: most leads closed, their activities still in the store).

    A lead chosen by a hash of its id is marked lost halfway between its creation and AS_OF.
    """
    from pipelines.features.snapshots import open_at
    from pipelines.storage import open_store

    store = open_store(uri)
    leads = store.read("leads")
    is_open = open_at(leads, AS_OF).to_numpy()
    keep = float(open_share) * len(leads) / max(int(is_open.sum()), 1)
    draw = pd.util.hash_pandas_object(leads["lead_id"], index=False).to_numpy() / 2.0**64
    close = is_open & (draw >= keep)
    halfway = leads["created_at"] + (AS_OF - leads["created_at"]) / 2
    leads.loc[close, "lost_at"] = halfway[close].dt.floor("us")
    store.write("leads", leads)
    return {"leads": len(leads), "open_leads": int(open_at(leads, AS_OF).sum())}


def _rss_gb(pid: int | str = "self") -> float:
    """A process's current resident memory (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * resource.getpagesize() / 1e9
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(c) for c in handle.read().split()]
    except FileNotFoundError:
        return []


class TreeMemory:
    """Samples the RSS of this process and of all its descendants (Spark's JVM, Python
    workers) every ``interval`` seconds; keeps the peaks."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval, self.peak_self, self.peak_tree = interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            pids, seen = [os.getpid()], []
            while pids:
                pid = pids.pop()
                seen.append(pid)
                pids.extend(_children(pid))
            own = _rss_gb()
            self.peak_self = max(self.peak_self, own)
            self.peak_tree = max(self.peak_tree, own + sum(_rss_gb(p) for p in seen[1:]))

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def score(uri: str, tracking: str, partition_size: str = "") -> dict:
    """Issue 6: the nightly run end to end (read, features, score, reasons, write).

    Also the RSS after each slice: flat from slice to slice when memory follows the slice.
    """
    from models import configure
    from pipelines.config import FeaturesConfig
    from pipelines.storage import open_store
    from scoring.config import ScoringConfig
    from scoring.nightly.embedded import run_scoring
    from scoring.nightly.phases import Phases

    configure(tracking)
    started = time.perf_counter()
    cfg = ScoringConfig(**({"partition_size": int(partition_size)} if partition_size else {}))
    after_slice: list[float] = []
    phases = Phases()
    store = open_store(uri)
    result = run_scoring(
        store,
        AS_OF,
        cfg,
        FeaturesConfig(),
        lambda done, total: after_slice.append(round(_rss_gb(), 2)),
        phases=phases,
    )
    seconds = time.perf_counter() - started
    return {
        "leads_in_store": store.count("leads"),
        "activities_in_store": store.count("activities"),
        "rows_scored": result.rows_scored,
        "scorer_s": round(seconds, 1),
        "open_leads_per_s": round(result.rows_scored / seconds),
        "phases_s": {name: round(value, 2) for name, value in phases.seconds.items()},
        "peak_rss_gb": _peak_gb(),
        "rss_after_each_slice_gb": after_slice,
    }


def score_spark(uri: str, tracking: str, master: str) -> dict:
    """Issue 9: the nightly run on Spark; peak RSS of the driver and of the whole tree."""
    from models import configure
    from pipelines.config import FeaturesConfig
    from pipelines.spark import spark_session
    from scoring.config import ScoringConfig
    from scoring.nightly.spark import run_scoring_spark

    configure(tracking)
    with TreeMemory() as memory:
        started = time.perf_counter()
        spark = spark_session(master, {"spark.driver.memory": "6g"})
        session_s = time.perf_counter() - started
        result = run_scoring_spark(spark, uri, AS_OF, ScoringConfig(), FeaturesConfig())
        done = time.perf_counter()
        spark.stop()
    return {
        "master": master,
        "rows_scored": result.rows_scored,
        "session_s": round(session_s, 1),
        "scorer_s": round(done - started, 1),
        "peak_rss_python_driver_gb": round(memory.peak_self, 2),
        "peak_rss_all_processes_gb": round(memory.peak_tree, 2),
    }


def raw_model(uri: str, tracking: str) -> dict:
    """The floor for the scorer: booster.predict + pred_contrib on the same matrix."""
    from models import booster_of, configure, get_champion, load_pipeline
    from pipelines.features.frame import build_feature_frame, model_input
    from pipelines.features.snapshots import open_at, snapshots_at
    from pipelines.inputs import read_inputs
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
        "replicate": replicate,
        "features": features,
        "reopen": reopen,
        "close_most": close_most,
        "score": score,
        "score_spark": score_spark,
        "raw_model": raw_model,
        "train": train,
    }[step](*args)
    np.set_printoptions(legacy=False)
    print(json.dumps({"step": step, **figures}))
