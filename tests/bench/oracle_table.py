"""The model against the oracle on a time-held-out date: one row of the close-the-gap table.

    python -m tests.bench.oracle_table LEADS SEED VARIANT [--segment-drivers]

generates a CRM with its latent truth, trains the champion as ``leadscore train --as-of T``
does (nothing at or after T is seen: labels end at T), scores the leads open at T, and
compares the model's AUC, top-decile lift and ECE with the oracle's
(:func:`pipelines.synthetic.oracle_report`) on the outcomes in (T, T + 90 days]. T is the
export's end minus the horizon, the latest date whose outcomes are all known.

Variants change one thing in ``train.yaml`` (see ``VARIANTS``); prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd

from models import TrainConfig, get_champion, load_pipeline, train_model
from models.evaluation import classification_metrics
from pipelines import FeaturesConfig
from pipelines.features import build_feature_frame, model_input, open_at, snapshots_at
from pipelines.inputs import validate_inputs
from pipelines.synthetic import DEFAULT_END, generate_crm, oracle_report

HORIZON = 90
HELD_OUT = DEFAULT_END - pd.Timedelta(days=HORIZON)
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    # every weekly snapshot of a lead instead of at most 8
    "all_snapshots": {"snapshots": {"max_per_lead": None}},
    # ... each lead's snapshots sharing one unit of weight
    "per_lead_weight": {"snapshots": {"max_per_lead": None, "per_lead_weight": True}},
    # capacity no longer bounded by the cost of explanations
    "capacity": {"lightgbm": {"n_estimators": 400, "num_leaves": 31, "max_depth": -1}},
    "interactions": {"families": (*TrainConfig().families, "interactions")},
    "tuning": {"tuning": {"trials": 8}},
    "slow_learning": {"lightgbm": {"n_estimators": 400, "learning_rate": 0.03}},
}


def config(variant: str) -> TrainConfig:
    """The default training config with the variant's changes."""
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    values = TrainConfig().model_dump()
    for section, changes in VARIANTS[variant].items():
        values[section] = values[section] | changes if isinstance(changes, dict) else changes
    return TrainConfig.model_validate(values)


def measure(leads: int, seed: int, variant: str, segment_drivers: bool = False) -> dict[str, Any]:
    """The oracle's and the model's figures at ``HELD_OUT`` (see the module doc)."""
    crm = generate_crm(leads, seed, with_latent=True, segment_drivers=segment_drivers)
    tables = validate_inputs({t: crm[t] for t in ("leads", "activities", "stage_history")})
    features_cfg = FeaturesConfig()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tracking = f"sqlite:///{tmp}/mlflow.db"
        result = train_model(tables, config(variant), features_cfg, tracking, HELD_OUT)
        pipeline = load_pipeline(get_champion(result.model_name))
    trained = time.perf_counter() - started
    open_leads = crm["leads"][open_at(crm["leads"], HELD_OUT)]
    frame = build_feature_frame(
        open_leads,
        crm["activities"],
        crm["stage_history"],
        snapshots_at(open_leads["lead_id"], HELD_OUT),
        features_cfg,
    )
    p = pd.Series(pipeline.predict_proba(model_input(frame))[:, 1], index=frame["lead_id"])
    report = oracle_report(crm, crm["latent"], HELD_OUT, p, HORIZON)
    converted = crm["leads"].set_index("lead_id")["converted_at"].reindex(p.index)
    y = ((converted > HELD_OUT) & (converted <= HELD_OUT + pd.Timedelta(days=HORIZON))).to_numpy()
    ece = classification_metrics(y.astype(int), p.to_numpy())["ece"]
    return {
        "leads": leads,
        "seed": seed,
        "variant": variant,
        "held_out": str(HELD_OUT.date()),
        "open_leads": int(report["open_leads"]),
        "oracle_auc": round(report["oracle_auc"], 4),
        "oracle_lift": round(report["oracle_top_decile_lift"], 3),
        "model_auc": round(report["model_auc"], 4),
        "auc_ratio": round(report["auc_ratio"], 3),
        "model_lift": round(report["model_top_decile_lift"], 3),
        "lift_ratio": round(report["lift_ratio"], 3),
        "model_ece": round(float(ece), 4),
        "spearman": round(report["spearman"], 3),
        "holdout_auc": round(result.metrics["roc_auc"], 4),
        "train_seconds": round(trained, 1),
    }


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    row = measure(int(argv[0]), int(argv[1]), argv[2], "--segment-drivers" in argv[3:])
    print(
        json.dumps(
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
