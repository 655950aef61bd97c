"""The nightly batch scorer: every lead open at ``as_of`` → a ranked, explained list in the store."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import ChampionRef, booster_of, get_champion, load_pipeline
from pipelines.config import FeaturesConfig
from pipelines.contracts import LeadScores, ScoringRuns, quarantine_rows
from pipelines.families import EMPLOYEE_BANDS
from pipelines.features import build_feature_frame, model_input
from pipelines.inputs import CrmTables, member_of, read_inputs
from pipelines.snapshots import open_at, snapshots_at
from pipelines.storage import Append, Replace, Store, TableNotFound
from scoring.config import ScoringConfig
from scoring.explain import contributions, family_scores, top_reasons
from scoring.qualify import bant_checklist, bant_json, qualify, trend
from scoring.ranking import add_ranks, to_grade, to_score

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
PROFILE_FAMILIES = {
    "fit_score": ("fit", "authority", "budget", "need", "timing"),
    "engagement_score": ("engagement", "stage"),
}


@dataclass
class ScoringResult:
    run_id: str
    as_of: pd.Timestamp
    model: ChampionRef
    rows_scored: int
    rows_quarantined: int


def expected_deal_values(
    leads: pd.DataFrame, lead_ids: pd.Series, as_of: pd.Timestamp, default: float
) -> np.ndarray:
    """Expected deal size for ``lead_ids``: the median deal won before ``as_of`` in their
    company-size band, else the median of all deals won before ``as_of``, else ``default``.
    """
    band = pd.Series(
        np.digitize(leads["employees"].astype("float64").fillna(-1), EMPLOYEE_BANDS),
        index=leads["lead_id"].to_numpy(),
    )
    won = (
        leads["converted_at"].notna()
        & (leads["converted_at"] < as_of)
        & leads["deal_value"].notna()
    ).to_numpy()
    values = leads["deal_value"].to_numpy()[won]
    overall = float(np.median(values)) if len(values) else default
    per_band = pd.Series(values).groupby(band.to_numpy()[won]).median()
    return band.loc[lead_ids.to_numpy()].map(per_band).fillna(overall).to_numpy(dtype="float64")


def score_chunk(
    pipeline: object, X: pd.DataFrame, cfg: ScoringConfig
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, list[str]]:
    """Probability, profile scores, BANT checklist and reasons for one chunk of model input."""
    transform, model = pipeline[:-1], pipeline[-1]  # type: ignore[index]
    Xt = transform.transform(X)
    probability = model.predict_proba(Xt)[:, 1]
    contrib = contributions(booster_of(pipeline).booster_, Xt, cfg.reasons.threads)
    profiles = family_scores(contrib, PROFILE_FAMILIES)
    checklist = bant_checklist(Xt, cfg.bant)
    reasons = top_reasons(contrib, Xt, X, cfg.reasons.count, cfg.reasons.min_abs_contribution)
    score = to_score(probability)
    context = Xt.assign(
        score=score, grade=to_grade(score, cfg.grades), bant_met=checklist.eq(True).sum(axis=1)
    )
    profiles["qualification"] = qualify(context, cfg.qualification, cfg.default_qualification)
    profiles["bant"] = bant_json(checklist)
    profiles["top_reasons"] = reasons
    return probability, profiles, checklist, reasons


def score_open_leads(
    pipeline: object,
    tables: CrmTables,
    as_of: pd.Timestamp,
    features_cfg: FeaturesConfig,
    cfg: ScoringConfig,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Leads open at ``as_of`` with probability, profile scores, BANT, qualification, reasons."""
    leads = tables.leads[open_at(tables.leads, as_of)].reset_index(drop=True)
    parts = []
    for start in range(0, len(leads), cfg.chunk_size):
        chunk = leads.iloc[start : start + cfg.chunk_size]
        ids = chunk["lead_id"]
        snapshots = snapshots_at(ids, as_of)
        activities = tables.activities[member_of(tables.activities["lead_id"], ids)]
        stages = tables.stage_history
        if stages is not None:
            stages = stages[member_of(stages["lead_id"], ids)]
        frame = build_feature_frame(chunk, activities, stages, snapshots, features_cfg)
        probability, profiles, _, _ = score_chunk(pipeline, model_input(frame), cfg)
        profiles.index = chunk.index
        parts.append(profiles.assign(probability=probability))
        if progress:
            progress(min(start + cfg.chunk_size, len(leads)), len(leads))
    scored = pd.concat(parts) if parts else pd.DataFrame()
    return pd.concat([leads[["lead_id", "owner_id"]], scored], axis=1)


def previous_scores(store: Store, as_of: pd.Timestamp) -> pd.Series:
    """Each lead's score in the latest run before ``as_of`` (empty when there is none)."""
    try:
        history = store.read("lead_scores")
    except TableNotFound:
        return pd.Series(dtype="float64")
    history = LeadScores.validate(history)
    earlier = history[history["as_of"] < as_of]
    if earlier.empty:
        return pd.Series(dtype="float64")
    last = earlier[earlier["as_of"] == earlier["as_of"].max()]
    return last.set_index("lead_id")["score"]


def build_lead_scores(
    scored: pd.DataFrame,
    deal_values: np.ndarray,
    previous: pd.Series,
    as_of: pd.Timestamp,
    run_id: str,
    model: ChampionRef,
    cfg: ScoringConfig,
) -> pd.DataFrame:
    """The ``lead_scores`` rows for one run, ranked and validated against the contract."""
    probability = scored["probability"].to_numpy(dtype="float64")
    score = to_score(probability)
    frame = scored.assign(
        as_of=as_of,
        run_id=run_id,
        model_name=model.name,
        model_version=model.version,
        score=score,
        grade=to_grade(score, cfg.grades),
        trend=trend(pd.Series(score, index=scored["lead_id"]), previous, cfg.trend),
        expected_value=np.round(probability * deal_values, 2),
    )
    ranked = add_ranks(frame)
    return LeadScores.validate(ranked[list(LeadScores.to_schema().columns)])


def run_record(
    run_id: str,
    as_of: pd.Timestamp,
    started: pd.Timestamp,
    model: ChampionRef,
    tables: CrmTables,
    rows: int,
) -> pd.DataFrame:
    return ScoringRuns.validate(
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
                    "rows_scored": rows,
                    "rows_quarantined": tables.rows_rejected,
                    "status": "succeeded",
                }
            ]
        )
    )


def run_scoring(
    store: Store,
    as_of: pd.Timestamp,
    cfg: ScoringConfig,
    features_cfg: FeaturesConfig,
    progress: Progress | None = None,
) -> ScoringResult:
    """One nightly run: read, validate, quarantine, score, explain, rank, and publish atomically.

    The run holds the store's scoring lock. The day's ``lead_scores``, the ``scoring_runs``
    record and the quarantined rows are written in one batch (one transaction on DuckDB), so
    readers see the previous list or the new one, never a mix.
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
        scored = score_open_leads(pipeline, tables, as_of, features_cfg, cfg, progress)
        deal_values = expected_deal_values(
            tables.leads, scored["lead_id"], as_of, cfg.default_deal_value
        )
        scores = build_lead_scores(
            scored, deal_values, previous_scores(store, as_of), as_of, run_id, model, cfg
        )
        operations: list[Replace | Append] = [Replace("lead_scores", scores, "as_of", as_of)]
        if len(quarantine):
            operations.append(Append("quarantine", quarantine))
        operations.append(
            Append("scoring_runs", run_record(run_id, as_of, started, model, tables, len(scores)))
        )
        store.write_batch(operations)
    log.info("scored %d leads as of %s (run %s)", len(scores), as_of.date(), run_id)
    return ScoringResult(run_id, as_of, model, len(scores), tables.rows_rejected)
