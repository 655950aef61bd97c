"""Exact contributions against LightGBM's ``pred_contrib``: speed on the same matrix, one thread.

Usage: ``python -m tests.bench.shap_speed [--rows 50000] [--leads 5000]``

Two shapes, each timed on one core (``num_threads=1``; numpy is single-threaded here):
- the issue's: 150 trees of depth 4 (15 leaves), 60 numeric features with NaNs;
- production: the shipped pipeline (``configs/train.yaml``) trained on a generated CRM,
  its transformed features (with categorical columns) tiled to ``--rows`` rows.
Prints one JSON line per shape: seconds, µs per row, speed-up, compile time, the largest
difference from ``pred_contrib`` and the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd


def _issue_shape(rows: int) -> tuple[object, pd.DataFrame]:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 60))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, :12]).sum(axis=1) + rng.normal(scale=2, size=rows) > 0).astype(int)
    params = {"objective": "binary", "max_depth": 4, "num_leaves": 15, "verbose": -1}
    booster = lgb.train({**params, "num_threads": 1}, lgb.Dataset(X[:20_000], y[:20_000]), 150)
    return booster, pd.DataFrame(X, columns=[f"f{i}" for i in range(60)])


def _production_shape(rows: int, leads: int) -> tuple[object, pd.DataFrame]:
    from models import TrainConfig, booster_of, scoring_frames
    from models.training import Folds, build_training_frame, fit_lightgbm
    from pipelines import FeaturesConfig, load_config, validate_inputs
    from pipelines.synthetic import generate_crm
    from tests.paths import CONFIGS

    train_cfg = load_config(TrainConfig, "train", CONFIGS)
    features_cfg = load_config(FeaturesConfig, "features", CONFIGS)
    tables = validate_inputs(generate_crm(leads, seed=7))  # type: ignore[arg-type]
    frame, _ = build_training_frame(tables, train_cfg, features_cfg)
    folds = Folds.of(frame)
    pipeline, _, _ = fit_lightgbm(
        train_cfg,
        features_cfg,
        folds.X["train"],
        folds.y["train"],
        folds.X["calibration"],
        folds.y["calibration"],
        folds.weights("train"),
    )
    _, Xt = scoring_frames(pipeline, pd.concat(list(folds.X.values()), ignore_index=True))
    copies = -(-rows // len(Xt))
    Xt = pd.concat([Xt] * copies, ignore_index=True).head(rows)
    return booster_of(pipeline).booster_, Xt


def compare(name: str, booster: object, Xt: pd.DataFrame) -> dict:
    """Time both methods on ``Xt`` (pred_contrib first, then exact) and compare values."""
    from models import tree_contributions
    from models.contributions import compile_contributions, explain, feature_matrix

    started = time.perf_counter()
    reference = booster.predict(Xt, pred_contrib=True, num_threads=1)  # type: ignore[attr-defined]
    reference_s = time.perf_counter() - started
    tables = compile_contributions(booster)
    started = time.perf_counter()
    exact = explain(tables, feature_matrix(booster, Xt))
    exact_s = time.perf_counter() - started
    assert np.array_equal(exact[:100], tree_contributions(booster, Xt.head(100)))
    dump = booster.dump_model()  # type: ignore[attr-defined]
    return {
        "shape": name,
        "rows": len(Xt),
        "features": Xt.shape[1],
        "trees": len(dump["tree_info"]),
        "pred_contrib_s": round(reference_s, 2),
        "exact_s": round(exact_s, 2),
        "pred_contrib_us_per_row": round(reference_s / len(Xt) * 1e6, 1),
        "exact_us_per_row": round(exact_s / len(Xt) * 1e6, 1),
        "speedup": round(reference_s / exact_s, 1),
        "compile_s": round(tables.compile_seconds, 2),
        "tables_mb": round(tables.table_mb, 1),
        "max_abs_diff": float(np.abs(exact - reference).max()),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=5_000, help="generated CRM (production)")
    parser.add_argument("--shape", choices=("issue", "production", "both"), default="both")
    args = parser.parse_args()
    if args.shape in ("issue", "both"):
        print(json.dumps(compare("issue", *_issue_shape(args.rows))), flush=True)
    if args.shape in ("production", "both"):
        print(json.dumps(compare("production", *_production_shape(args.rows, args.leads))))


if __name__ == "__main__":
    main()
