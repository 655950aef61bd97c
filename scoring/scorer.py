"""The nightly batch scorer: every lead open at ``as_of`` → a ranked, graded list in the store."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import ChampionRef, get_champion, load_pipeline
from pipelines.config import FeaturesConfig
from pipelines.contracts import LeadScores, ScoringRuns, quarantine_rows
from pipelines.features import build_feature_frame, model_input
from pipelines.inputs import CrmTables, read_inputs
from pipelines.snapshots import open_at
from pipelines.storage import Store
from scoring.config import ScoringConfig
from scoring.ranking import add_ranks, to_grade, to_score

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class ScoringResult:
    run_id: str
    as_of: pd.Timestamp
    model: ChampionRef
    rows_scored: int
    rows_quarantined: int


def expected_deal_value(leads: pd.DataFrame, as_of: pd.Timestamp, default: float) -> float:
    """Median deal value of the deals won before ``as_of`` (``default`` when there are none)."""
    won = leads.loc[leads["converted_at"] < as_of, "deal_value"].dropna()
    return float(won.median()) if len(won) else default


def score_frame(
    pipeline: object,
    tables: CrmTables,
    as_of: pd.Timestamp,
    features_cfg: FeaturesConfig,
    chunk_size: int,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Open leads at ``as_of`` with their probability, scored in chunks to bound memory."""
    leads = tables.leads[open_at(tables.leads, as_of)]
    lead_ids = leads["lead_id"].to_numpy()
    probabilities = np.empty(len(lead_ids), dtype="float64")
    for start in range(0, len(lead_ids), chunk_size):
        chunk = lead_ids[start : start + chunk_size]
        snapshots = pd.DataFrame({"lead_id": chunk, "snapshot_at": as_of})
        snapshots["snapshot_at"] = snapshots["snapshot_at"].astype("datetime64[us, UTC]")
        in_chunk = tables.leads["lead_id"].isin(chunk)
        acts = tables.activities[tables.activities["lead_id"].isin(chunk)]
        stages = tables.stage_history
        if stages is not None:
            stages = stages[stages["lead_id"].isin(chunk)]
        frame = build_feature_frame(tables.leads[in_chunk], acts, stages, snapshots, features_cfg)
        probabilities[start : start + len(chunk)] = pipeline.predict_proba(model_input(frame))[:, 1]  # type: ignore[attr-defined]
        if progress:
            progress(min(start + chunk_size, len(lead_ids)), len(lead_ids))
    return leads, probabilities


def build_lead_scores(
    leads: pd.DataFrame,
    probabilities: np.ndarray,
    as_of: pd.Timestamp,
    run_id: str,
    model: ChampionRef,
    cfg: ScoringConfig,
    deal_value: float,
) -> pd.DataFrame:
    """The ``lead_scores`` rows for one run, ranked and validated against the contract."""
    score = to_score(probabilities)
    frame = pd.DataFrame(
        {
            "as_of": as_of,
            "run_id": run_id,
            "model_name": model.name,
            "model_version": model.version,
            "lead_id": leads["lead_id"].to_numpy(),
            "owner_id": leads["owner_id"].to_numpy(),
            "probability": probabilities,
            "score": score,
            "grade": to_grade(score, cfg.grades),
            "fit_score": np.nan,
            "engagement_score": np.nan,
            "qualification": None,
            "bant": None,
            "top_reasons": None,
            "trend": None,
            "expected_value": np.round(probabilities * deal_value, 2),
        }
    )
    ranked = add_ranks(frame)
    columns = list(LeadScores.to_schema().columns)
    return LeadScores.validate(ranked[columns])


def run_scoring(
    store: Store,
    as_of: pd.Timestamp,
    cfg: ScoringConfig,
    features_cfg: FeaturesConfig,
    progress: Progress | None = None,
) -> ScoringResult:
    """One nightly run: read, validate, quarantine, score, rank, and write atomically.

    The run holds the store's scoring lock; ``lead_scores`` rows for ``as_of`` are replaced
    in one transaction, so readers see yesterday's list or today's, never a mix.
    """
    run_id = uuid.uuid4().hex
    started = pd.Timestamp.now(tz="UTC")
    with store.lock("scoring"):
        model = get_champion(cfg.model_name)
        pipeline = load_pipeline(model)
        tables = read_inputs(store)
        quarantine = pd.concat(
            [
                quarantine_rows(run_id, name, raw, bad)
                for name, (raw, bad) in tables.rejected.items()
            ],
            ignore_index=True,
        )
        leads, probabilities = score_frame(
            pipeline, tables, as_of, features_cfg, cfg.chunk_size, progress
        )
        deal_value = expected_deal_value(tables.leads, as_of, cfg.default_deal_value)
        scores = build_lead_scores(leads, probabilities, as_of, run_id, model, cfg, deal_value)
        store.replace_partition("lead_scores", scores, "as_of", as_of)
        if len(quarantine):
            store.append("quarantine", quarantine)
        run_row = ScoringRuns.validate(
            pd.DataFrame(
                [
                    {
                        "run_id": run_id,
                        "as_of": as_of,
                        "started_at": started,
                        "finished_at": pd.Timestamp.now(tz="UTC"),
                        "model_name": model.name,
                        "model_version": model.version,
                        "leads_read": tables.raw_counts.get("leads", 0),
                        "activities_read": tables.raw_counts.get("activities", 0),
                        "stage_history_read": tables.raw_counts.get("stage_history", 0),
                        "rows_scored": len(scores),
                        "rows_quarantined": tables.rows_rejected,
                        "status": "succeeded",
                    }
                ]
            )
        )
        store.append("scoring_runs", run_row)
    log.info("scored %d leads as of %s (run %s)", len(scores), as_of.date(), run_id)
    return ScoringResult(run_id, as_of, model, len(scores), tables.rows_rejected)
