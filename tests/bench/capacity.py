"""Does a bigger LightGBM pay once explanations are cheap? Holdout quality by model size.

Usage: ``python -m tests.bench.capacity [--leads 20000] [--seed 7] [--rows 5000]``

Builds the training frame of a generated CRM once, then for each size fits the pipeline as
``leadscore train`` does (leakage drop, calibration) on the training fold, and scores the
latest period (the test fold): ROC AUC, lift and capture at 10%, ECE, Brier. It also times
exact contributions and ``pred_contrib`` (one thread each) on the test fold's rows.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

SIZES: dict[str, dict[str, int]] = {
    "150 x 15 leaves, depth 4 (default)": {"n_estimators": 150, "num_leaves": 15, "max_depth": 4},
    "300 x 15 leaves, depth 4": {"n_estimators": 300, "num_leaves": 15, "max_depth": 4},
    "300 x 31 leaves, depth 6": {"n_estimators": 300, "num_leaves": 31, "max_depth": 6},
    "150 x 7 leaves, depth 3": {"n_estimators": 150, "num_leaves": 7, "max_depth": 3},
    "300 x 31 leaves, unbounded depth": {"n_estimators": 300, "num_leaves": 31, "max_depth": -1},
    "150 x 4 leaves, depth 2": {"n_estimators": 150, "num_leaves": 4, "max_depth": 2},
    "300 x 7 leaves, depth 3": {"n_estimators": 300, "num_leaves": 7, "max_depth": 3},
}


def _timed(call: object, *args: object) -> tuple[object, float]:
    started = time.perf_counter()
    out = call(*args)  # type: ignore[operator]
    return out, time.perf_counter() - started


def measure(leads: int, seed: int, rows: int, sizes: list[str] | None = None) -> pd.DataFrame:
    from models import TrainConfig, booster_of, compiled_tables, scoring_frames
    from models.evaluation import classification_metrics
    from models.training import Folds, build_training_frame, fit_lightgbm
    from pipelines import FeaturesConfig, validate_inputs
    from pipelines.synthetic import generate_crm

    features_cfg = FeaturesConfig()
    base = TrainConfig()
    tables = validate_inputs(generate_crm(leads, seed=seed))  # type: ignore[arg-type]
    frame, _ = build_training_frame(tables, base, features_cfg)
    folds = Folds.of(frame)
    X, y = folds.X, folds.y
    out = []
    reference: np.ndarray | None = None
    chosen = [name for i, name in enumerate(SIZES) if sizes is None or str(i) in sizes]
    for name in chosen:
        size = SIZES[name]
        cfg = base.model_copy(update={"lightgbm": base.lightgbm.model_copy(update=size)})
        (pipeline, _, _), fit_s = _timed(
            fit_lightgbm,
            cfg,
            features_cfg,
            X["train"],
            y["train"],
            X["calibration"],
            y["calibration"],
            folds.weights("train"),
        )
        probability = pipeline.predict_proba(X["test"])[:, 1]
        metrics = classification_metrics(y["test"], probability)
        reference = probability if reference is None else reference
        low, high = auc_gain_interval(y["test"], reference, probability)
        _, Xt = scoring_frames(pipeline, X["test"].head(rows))
        booster = booster_of(pipeline).booster_
        tables_, compile_s = _timed(compiled_tables, booster)
        exact_s = contrib_s = float("nan")
        if tables_ is not None:
            exact_s = _timed(_exact, booster, Xt)[1]
        contrib_s = _timed(_pred_contrib, booster, Xt)[1]
        dump = booster.dump_model()["tree_info"]
        out.append(
            {
                "model": name,
                "auc": round(metrics["roc_auc"], 4),
                "auc gain vs default (95% CI)": f"[{low:+.4f}, {high:+.4f}]",
                "lift@10%": round(metrics["lift_top10"], 2),
                "capture@10%": round(metrics["capture_top10"], 3),
                "ece": round(metrics["ece"], 4),
                "brier": round(metrics["brier"], 4),
                "max depth": max(_depth(t["tree_structure"]) for t in dump),
                "fit s": round(fit_s, 1),
                "compile s": round(compile_s, 2),
                "exact µs/row": round(exact_s / len(Xt) * 1e6, 1),
                "pred_contrib µs/row": round(contrib_s / len(Xt) * 1e6, 1),
            }
        )
        print(out[-1], flush=True)
    counts = {k: (len(v), int(v.sum())) for k, v in y.items()}
    print(f"folds (rows, conversions): {counts}")
    return pd.DataFrame(out)


def auc_gain_interval(
    y: np.ndarray, base: np.ndarray, other: np.ndarray, draws: int = 500, seed: int = 0
) -> tuple[float, float]:
    """95% paired-bootstrap interval of AUC(other) - AUC(base) on the same rows."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(draws):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].min() == y[rows].max():
            continue
        gains.append(roc_auc_score(y[rows], other[rows]) - roc_auc_score(y[rows], base[rows]))
    low, high = np.percentile(gains, [2.5, 97.5])
    return float(low), float(high)


def _exact(booster: object, Xt: pd.DataFrame) -> np.ndarray:
    from models import tree_contributions

    return tree_contributions(booster, Xt, method="exact")


def _pred_contrib(booster: object, Xt: pd.DataFrame) -> np.ndarray:
    return booster.predict(Xt, pred_contrib=True, num_threads=1)  # type: ignore[attr-defined]


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (no tabulate dependency)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def _depth(node: dict) -> int:
    if "split_index" not in node:
        return 0
    return 1 + max(_depth(node["left_child"]), _depth(node["right_child"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=5_000, help="test rows timed for SHAP")
    parser.add_argument("--sizes", nargs="*", help="indexes into SIZES (default: all)")
    args = parser.parse_args()
    table = measure(args.leads, args.seed, args.rows, args.sizes)
    print(markdown(table))


if __name__ == "__main__":
    main()
