"""The nightly batch scorer: every lead open at ``as_of`` → a ranked, explained list in the store.

A run reads the store one slice of leads at a time (:class:`~pipelines.storage.Part`: a
lead's rows in every table fall in the same slice), validates, scores and explains that
slice, and stages its rows in a scratch DuckDB file. Ranks over every lead are then computed
out of core and the list is streamed into the store in one transaction. Memory follows
``partition_size``, not the size of the CRM.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import ChampionRef, booster_of, get_champion, load_pipeline
from pipelines.config import FeaturesConfig
from pipelines.contracts import LeadScores, ScoringRuns, empty_table, quarantine_rows
from pipelines.families import EMPLOYEE_BANDS
from pipelines.features import build_feature_frame, model_input
from pipelines.inputs import CrmTables, member_of, read_inputs
from pipelines.snapshots import open_at, snapshots_at
from pipelines.storage import Append, Part, Replace, Store
from scoring.config import ScoringConfig
from scoring.explain import contributions, family_scores, top_reasons
from scoring.qualify import bant_checklist, bant_json, qualify, trend
from scoring.ranking import rank_sql, to_grade, to_score
from scoring.staging import Staging

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
PROFILE_FAMILIES = {
    "fit_score": ("fit", "authority", "budget", "need", "timing"),
    "engagement_score": ("engagement", "stage"),
}
RANK_COLUMNS = ("rank_overall", "rank_in_owner")


@dataclass
class ScoringResult:
    run_id: str
    as_of: pd.Timestamp
    model: ChampionRef
    rows_scored: int
    rows_quarantined: int


def company_band(employees: pd.Series) -> np.ndarray:
    """The company-size band of each lead (unknown size: band 0)."""
    return np.digitize(employees.astype("float64").fillna(-1).to_numpy(), EMPLOYEE_BANDS)


def won_deals(leads: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """(band, deal_value) of every deal won before ``as_of``."""
    won = (
        leads["converted_at"].notna()
        & (leads["converted_at"] < as_of)
        & leads["deal_value"].notna()
    ).to_numpy()
    return pd.DataFrame(
        {
            "band": company_band(leads["employees"])[won],
            "deal_value": leads["deal_value"].to_numpy(dtype="float64")[won],
        }
    )


@dataclass(frozen=True)
class DealSizes:
    """Expected deal size: the median deal won before ``as_of`` in the lead's company-size
    band, else the median of all deals won before ``as_of``, else the configured default."""

    per_band: dict[int, float]
    overall: float

    @classmethod
    def from_won(cls, won: pd.DataFrame, default: float) -> DealSizes:
        overall = float(np.median(won["deal_value"])) if len(won) else default
        return cls(won.groupby("band")["deal_value"].median().to_dict(), overall)

    def of(self, bands: pd.Series | np.ndarray) -> np.ndarray:
        return pd.Series(bands).map(self.per_band).fillna(self.overall).to_numpy(dtype="float64")


def predict_and_explain(
    pipeline: object, Xt: pd.DataFrame, cfg: ScoringConfig, probability: np.ndarray | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """The model's share of a chunk: probabilities and TreeSHAP contributions.

    Both are LightGBM's C++ code, which releases the GIL: this can run in a second thread
    beside the pandas work on another chunk.
    """
    if probability is None:
        probability = pipeline[-1].predict_proba(Xt)[:, 1]  # type: ignore[index]
    return probability, contributions(booster_of(pipeline).booster_, Xt, cfg.reasons.threads)


def describe_chunk(
    Xt: pd.DataFrame,
    X: pd.DataFrame,
    probability: np.ndarray,
    contrib: pd.DataFrame,
    cfg: ScoringConfig,
) -> pd.DataFrame:
    """Profile scores, qualification, BANT (as JSON) and reasons of one chunk."""
    profiles = family_scores(contrib, PROFILE_FAMILIES)
    checklist = bant_checklist(Xt, cfg.bant)
    reasons = top_reasons(contrib, Xt, X, cfg.reasons)
    score = to_score(probability)
    context = Xt.assign(
        score=score, grade=to_grade(score, cfg.grades), bant_met=checklist.eq(True).sum(axis=1)
    )
    profiles["qualification"] = qualify(context, cfg.qualification, cfg.default_qualification)
    profiles["bant"] = bant_json(checklist)
    profiles["top_reasons"] = reasons
    return profiles


def score_chunk(
    pipeline: object, X: pd.DataFrame, cfg: ScoringConfig, probability: np.ndarray | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Probability, and profile scores, qualification, BANT and reasons, for one chunk of
    model input.

    Args:
        probability: the model's probabilities for ``X`` when already computed elsewhere
            (Spark scores them with ``mlflow.pyfunc.spark_udf``); else predicted here.
    """
    Xt = pipeline[:-1].transform(X)  # type: ignore[index]
    probability, contrib = predict_and_explain(pipeline, Xt, cfg, probability)
    return probability, describe_chunk(Xt, X, probability, contrib, cfg)


@dataclass
class _InFlight:
    """A chunk whose probabilities and contributions are being computed in the model thread."""

    index: pd.Index
    X: pd.DataFrame
    Xt: pd.DataFrame
    model: Future[tuple[np.ndarray, pd.DataFrame]]

    def described(self, cfg: ScoringConfig) -> pd.DataFrame:
        probability, contrib = self.model.result()
        profiles = describe_chunk(self.Xt, self.X, probability, contrib, cfg)
        profiles.index = self.index
        return profiles.assign(probability=probability)


def score_open_leads(
    pipeline: object,
    tables: CrmTables,
    as_of: pd.Timestamp,
    features_cfg: FeaturesConfig,
    cfg: ScoringConfig,
) -> pd.DataFrame:
    """Leads open at ``as_of`` with probability, profile scores, BANT, qualification, reasons
    (and ``employees``, for the expected deal size), scored ``chunk_size`` leads at a time.

    A chunk's probabilities and TreeSHAP contributions are computed in a second thread
    while this one builds the next chunk's features and then phrases the chunk before it:
    on two cores the pandas work hides behind TreeSHAP. The rows are the same as scoring
    one chunk after the other.
    """
    leads = tables.leads[open_at(tables.leads, as_of)].reset_index(drop=True)
    transform = pipeline[:-1]  # type: ignore[index]
    parts = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadscore-model") as model_thread:
        in_flight: _InFlight | None = None
        for start in range(0, len(leads), cfg.chunk_size):
            chunk = leads.iloc[start : start + cfg.chunk_size]
            ids = chunk["lead_id"]
            activities = tables.activities[member_of(tables.activities["lead_id"], ids)]
            stages = tables.stage_history
            if stages is not None:
                stages = stages[member_of(stages["lead_id"], ids)]
            snapshots = snapshots_at(ids, as_of)
            X = model_input(build_feature_frame(chunk, activities, stages, snapshots, features_cfg))
            Xt = transform.transform(X)
            model = model_thread.submit(predict_and_explain, pipeline, Xt, cfg)
            if in_flight is not None:
                parts.append(in_flight.described(cfg))
            in_flight = _InFlight(chunk.index, X, Xt, model)
        if in_flight is not None:
            parts.append(in_flight.described(cfg))
    scored = pd.concat(parts) if parts else pd.DataFrame()
    return pd.concat([leads[["lead_id", "owner_id", "employees"]], scored], axis=1)


def previous_run(store: Store, as_of: pd.Timestamp) -> pd.Timestamp | None:
    """The as_of of the latest successful run before ``as_of`` (None when there is none)."""
    if not store.exists("scoring_runs"):
        return None
    runs = ScoringRuns.validate(store.read("scoring_runs"))
    earlier = runs.loc[(runs["status"] == "succeeded") & (runs["as_of"] < as_of), "as_of"]
    return None if earlier.empty else earlier.max()


def previous_scores(store: Store, previous: pd.Timestamp | None, part: Part) -> pd.Series:
    """Each lead's score in the run of ``previous``, for the leads of ``part``."""
    if previous is None or not store.exists("lead_scores"):
        return pd.Series(dtype="float64")
    rows = store.read("lead_scores", part=part, equals={"as_of": previous})
    return rows.set_index(rows["lead_id"].astype(str))["score"].astype("float64")


def unranked_scores(
    scored: pd.DataFrame,
    previous: pd.Series,
    as_of: pd.Timestamp,
    run_id: str,
    model: ChampionRef,
    cfg: ScoringConfig,
) -> pd.DataFrame:
    """One slice's ``lead_scores`` rows before ranking, with each lead's company band."""
    probability = scored["probability"].to_numpy(dtype="float64")
    score = to_score(probability)
    return scored.drop(columns="employees").assign(
        as_of=as_of,
        run_id=run_id,
        model_name=model.name,
        model_version=model.version,
        score=score,
        grade=to_grade(score, cfg.grades),
        trend=trend(pd.Series(score, index=scored["lead_id"]), previous, cfg.trend),
        company_band=company_band(scored["employees"]),
    )


def staged_template() -> pd.DataFrame:
    """The columns and types of the staged rows: the contract's, without the ranks and the
    expected value (both need every slice), with the company band."""
    columns = [*RANK_COLUMNS, "expected_value"]
    template = empty_table("lead_scores").drop(columns=columns)
    return template.assign(company_band=pd.Series(dtype="int64"))


def ranked_scores(staging: Staging, sizes: DealSizes, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The run's ``lead_scores`` rows in rank order, validated, ``batch_rows`` at a time."""
    columns = list(LeadScores.to_schema().columns)
    published = False
    for batch in staging.stream(rank_sql("scored"), batch_rows):
        probability = batch["probability"].to_numpy(dtype="float64")
        batch["expected_value"] = np.round(probability * sizes.of(batch.pop("company_band")), 2)
        published = True
        yield LeadScores.validate(batch[columns])
    if not published:
        yield empty_table("lead_scores")


@dataclass
class Tally:
    """What a run read, set aside and learnt from history, summed over its slices."""

    read: Counter[str] = field(default_factory=Counter)
    quarantined: int = 0
    won: list[pd.DataFrame] = field(default_factory=list)

    def add(self, tables: CrmTables, as_of: pd.Timestamp) -> None:
        self.read.update(tables.raw_counts)
        self.quarantined += tables.rows_rejected
        self.won.append(won_deals(tables.leads, as_of))


def run_record(
    run_id: str,
    as_of: pd.Timestamp,
    started: pd.Timestamp,
    model: ChampionRef,
    tally: Tally,
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
                    "leads_read": tally.read["leads"],
                    "activities_read": tally.read["activities"],
                    "stage_history_read": tally.read["stage_history"],
                    "rows_scored": rows,
                    "rows_quarantined": tally.quarantined,
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
    record and the quarantined rows are written in one batch (one transaction on DuckDB and
    PostgreSQL), so readers see the previous list or the new one, never a mix.

    Args:
        progress: called with (leads read, leads in the store) after each slice.
    """
    run_id = uuid.uuid4().hex
    started = pd.Timestamp.now(tz="UTC")
    with store.lock("scoring"), Staging(cfg.staging_memory_limit) as staging:
        store.check_writable("lead_scores")  # before the work, not after it
        model = get_champion(cfg.model_name)
        pipeline = load_pipeline(model)
        total = store.count("leads")
        parts = max(1, math.ceil(total / cfg.partition_size))
        previous = previous_run(store, as_of)
        staging.create("scored", staged_template())
        staging.create("quarantine", empty_table("quarantine"))
        tally = Tally()
        for index in range(parts):
            part = Part(index, parts)
            tables = read_inputs(store, part)
            tally.add(tables, as_of)
            for name, (raw, bad) in tables.rejected.items():
                staging.add("quarantine", quarantine_rows(run_id, name, raw, bad))
            scored = score_open_leads(pipeline, tables, as_of, features_cfg, cfg)
            rows = unranked_scores(
                scored, previous_scores(store, previous, part), as_of, run_id, model, cfg
            )
            staging.add("scored", rows)
            if progress:
                progress(tally.read["leads"], total)
        scored_rows = staging.rows("scored")
        sizes = DealSizes.from_won(pd.concat(tally.won), cfg.default_deal_value)
        operations: list[Replace | Append] = [
            Replace("lead_scores", ranked_scores(staging, sizes, cfg.chunk_size), "as_of", as_of)
        ]
        if staging.rows("quarantine"):
            quarantine = staging.stream('SELECT * FROM "quarantine"', cfg.chunk_size)
            operations.append(Append("quarantine", quarantine))
        record = run_record(run_id, as_of, started, model, tally, scored_rows)
        operations.append(Append("scoring_runs", record))
        store.write_batch(operations)
    log.info("scored %d leads as of %s (run %s)", scored_rows, as_of.date(), run_id)
    return ScoringResult(run_id, as_of, model, scored_rows, tally.quarantined)
