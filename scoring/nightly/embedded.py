"""The nightly batch scorer: every lead open at ``as_of`` → a ranked, explained list in the store.

A run reads every lead, but only the events of the leads open at ``as_of`` (and the rows
the contract checks need), cut by lead into slices in one pass
(:func:`~pipelines.storage.slice_open_rows`: a lead's rows in every table fall in the same
slice). It validates, scores and explains one slice at a time, and stages its rows in a
scratch DuckDB file. Ranks over every lead are then computed out of core and the list is streamed into the store in one transaction. Memory follows
``partition_size``, not the size of the CRM.
"""

from __future__ import annotations

import contextlib
import logging
import math
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import ChampionRef, get_champion, load_pipeline
from pipelines import (
    CrmTables,
    FeaturesConfig,
    empty_table,
    positions_in,
    quarantine_rows,
    validate_inputs,
)
from pipelines.features import build_feature_frame, model_input, open_at, snapshots_at
from pipelines.storage import Append, Replace, Store, StoreError, slice_open_rows
from scoring.config import ScoringConfig
from scoring.nightly.phases import Phases
from scoring.nightly.rows import (
    DealSizes,
    Route,
    ScoringResult,
    Tally,
    describe_chunk,
    predict_and_explain_routes,
    previous_run,
    previous_scores,
    ranked_scores,
    route_frames,
    run_record,
    staged_template,
    unranked_scores,
    won_deals,
)
from scoring.nightly.staging import Staging
from scoring.qualify import reset_skipped_rules

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class _InFlight:
    """A chunk whose probabilities and contributions are being computed in the model thread."""

    index: pd.Index
    X: pd.DataFrame
    features: pd.DataFrame  # before the leakage drop: what rules and reasons read
    model: Future[tuple[np.ndarray, pd.DataFrame]]

    def described(self, cfg: ScoringConfig, phases: Phases) -> pd.DataFrame:
        probability, contrib = self.model.result()
        with phases.timed("reasons"):
            profiles = describe_chunk(self.features, self.X, probability, contrib, cfg)
        profiles.index = self.index
        return profiles.assign(probability=probability)


def _chunk_numbers(rows: pd.DataFrame | None, leads: pd.DataFrame, chunk_size: int) -> np.ndarray:
    """The chunk of ``leads`` each row's lead falls in (-1: none), found once per slice: a
    membership test per chunk converted every event's id again for each chunk."""
    if rows is None:
        return np.empty(0, dtype=np.int64)
    position = positions_in(rows["lead_id"], leads["lead_id"])
    return np.where(position >= 0, position // chunk_size, -1)


def _chunk_features(
    pipeline: object,
    tables: CrmTables,
    chunk: pd.DataFrame,
    rows_in: tuple[np.ndarray, np.ndarray],
    as_of: pd.Timestamp,
    features_cfg: FeaturesConfig,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Route]]:
    """A chunk's model input, its features before the leakage drop, and each route's input.

    ``rows_in``: which activities and stage-history rows are the chunk's leads'.
    """
    activities = tables.activities[rows_in[0]]
    stages = tables.stage_history
    if stages is not None:
        stages = stages[rows_in[1]]
    snapshots = snapshots_at(chunk["lead_id"], as_of)
    X = model_input(build_feature_frame(chunk, activities, stages, snapshots, features_cfg))
    features, routes = route_frames(pipeline, X)
    return X, features, routes


def score_open_leads(
    pipeline: object,
    tables: CrmTables,
    as_of: pd.Timestamp,
    features_cfg: FeaturesConfig,
    cfg: ScoringConfig,
    phases: Phases | None = None,
) -> pd.DataFrame:
    """Leads open at ``as_of`` with probability, profile scores, BANT, qualification, reasons
    (and ``employees``, for the expected deal size), scored ``chunk_size`` leads at a time.

    A chunk's probabilities and TreeSHAP contributions are computed in a second thread
    while this one builds the next chunk's features and then phrases the chunk before it:
    on two cores the pandas work hides behind TreeSHAP. The rows are the same as scoring
    one chunk after the other.
    """
    phases = phases or Phases()
    leads = tables.leads[open_at(tables.leads, as_of)].reset_index(drop=True)
    with phases.timed("features"):
        activity_chunk = _chunk_numbers(tables.activities, leads, cfg.chunk_size)
        stage_chunk = _chunk_numbers(tables.stage_history, leads, cfg.chunk_size)
    parts = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadscore-model") as model_thread:
        in_flight: _InFlight | None = None
        for start in range(0, len(leads), cfg.chunk_size):
            chunk = leads.iloc[start : start + cfg.chunk_size]
            number = start // cfg.chunk_size
            rows_in = (activity_chunk == number, stage_chunk == number)
            with phases.timed("features"):
                X, features, routes = _chunk_features(
                    pipeline, tables, chunk, rows_in, as_of, features_cfg
                )
            # each lead by the model that scores it (a routing model has several)
            model = model_thread.submit(
                phases.call, "predict", predict_and_explain_routes, routes, cfg
            )
            if in_flight is not None:
                parts.append(in_flight.described(cfg, phases))
            in_flight = _InFlight(chunk.index, X, features, model)
        if in_flight is not None:
            parts.append(in_flight.described(cfg, phases))
    scored = pd.concat(parts) if parts else pd.DataFrame()
    return pd.concat([leads[["lead_id", "owner_id", "employees"]], scored], axis=1)


def _count_leads(store: Store) -> int:
    """The store's lead count; an empty leads table stops the run with one line."""
    total = store.count("leads")
    if total == 0:
        raise StoreError(
            f"store {store.uri} has no leads to score (its leads table is empty): "
            "import or generate a CRM first"
        )
    return total


def run_scoring(
    store: Store,
    as_of: pd.Timestamp,
    cfg: ScoringConfig,
    features_cfg: FeaturesConfig,
    progress: Progress | None = None,
    *,
    model: ChampionRef | None = None,
    phases: Phases | None = None,
) -> ScoringResult:
    """One nightly run: read, validate, quarantine, score, explain, rank, and publish atomically.

    The run holds the store's scoring lock. The day's ``lead_scores``, the ``scoring_runs``
    record and the quarantined rows are written in one batch (one transaction on DuckDB and
    PostgreSQL), so readers see the previous list or the new one, never a mix.

    Args:
        progress: called with (leads read, leads in the store) after each slice.
        model: the version to score with (default: ``cfg.model_name``'s champion).
        phases: where the seconds of each phase are added (also logged at the end).
    """
    phases = phases or Phases()
    run_id = uuid.uuid4().hex
    started = pd.Timestamp.now(tz="UTC")
    reset_skipped_rules()
    with store.lock("scoring"), Staging(cfg.staging_memory_limit) as staging:
        store.check_writable("lead_scores")  # before the work, not after it
        model = model or get_champion(cfg.model_name)
        pipeline = load_pipeline(model)
        total = _count_leads(store)
        parts = max(1, math.ceil(total / cfg.partition_size))
        previous = previous_run(store, as_of)
        staging.create("scored", staged_template())
        staging.create("quarantine", empty_table("quarantine"))
        tally = Tally()
        extra = {} if previous is None else {"lead_scores": {"as_of": previous}}
        slicing = slice_open_rows(
            store, as_of, parts, staging.directory, extra, cfg.staging_memory_limit
        )
        with contextlib.ExitStack() as stack:
            with phases.timed("read"):  # finding the open leads, cutting their rows in slices
                slices = stack.enter_context(slicing)
            tally.won.append(won_deals(slices.closed_won, as_of))
            for index in range(parts):
                read = phases.call("read", slices.read, index)
                tables = phases.call("validate", validate_inputs, read)
                tally.add(tables, as_of)
                for name, (raw, bad) in tables.rejected.items():
                    staging.add("quarantine", quarantine_rows(run_id, name, raw, bad))
                scored = score_open_leads(pipeline, tables, as_of, features_cfg, cfg, phases)
                before = phases.call("read", slices.read_extra, "lead_scores", index)
                if len(scored):  # a slice may have no lead open at as_of
                    rows = unranked_scores(
                        scored, previous_scores(before), as_of, run_id, model, cfg
                    )
                    staging.add("scored", rows)
                if progress:
                    progress(tally.read["leads"], total)
        tally.read["leads"] = total  # every lead's open status is read; closed ones no further
        scored_rows = staging.rows("scored")
        sizes = DealSizes.from_won(pd.concat(tally.won), cfg.default_deal_value)
        ranked = ranked_scores(staging, sizes, cfg.chunk_size)
        operations: list[Replace | Append] = [
            Replace("lead_scores", phases.each("rank", ranked), "as_of", as_of)
        ]
        if staging.rows("quarantine"):
            quarantine = staging.stream('SELECT * FROM "quarantine"', cfg.chunk_size)
            operations.append(Append("quarantine", quarantine))
        record = run_record(run_id, as_of, started, model, tally, scored_rows)
        operations.append(Append("scoring_runs", record))
        ranking = phases.seconds["rank"]
        with phases.timed("write"):
            store.write_batch(operations)
        phases.add("write", ranking - phases.seconds["rank"])  # the ranks came while writing
    log.info("scored %d leads as of %s (run %s)", scored_rows, as_of.date(), run_id)
    log.info("phases: %s", phases.summary())
    return ScoringResult(run_id, as_of, model, scored_rows, tally.quarantined)
