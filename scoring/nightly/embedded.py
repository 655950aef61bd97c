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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import ChampionRef, get_champion, load_pipeline, scoring_frames
from pipelines import (
    CrmTables,
    FeaturesConfig,
    empty_table,
    member_of,
    quarantine_rows,
    read_inputs,
)
from pipelines.features import build_feature_frame, model_input, open_at, snapshots_at
from pipelines.storage import Append, Part, Replace, Store, StoreError
from scoring.config import ScoringConfig
from scoring.nightly.rows import (
    DealSizes,
    ScoringResult,
    Tally,
    describe_chunk,
    predict_and_explain,
    previous_run,
    previous_scores,
    ranked_scores,
    run_record,
    staged_template,
    unranked_scores,
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

    def described(self, cfg: ScoringConfig) -> pd.DataFrame:
        probability, contrib = self.model.result()
        profiles = describe_chunk(self.features, self.X, probability, contrib, cfg)
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
            features, Xt = scoring_frames(pipeline, X)  # type: ignore[arg-type]
            model = model_thread.submit(predict_and_explain, pipeline, Xt, cfg)
            if in_flight is not None:
                parts.append(in_flight.described(cfg))
            in_flight = _InFlight(chunk.index, X, features, model)
        if in_flight is not None:
            parts.append(in_flight.described(cfg))
    scored = pd.concat(parts) if parts else pd.DataFrame()
    return pd.concat([leads[["lead_id", "owner_id", "employees"]], scored], axis=1)


def run_scoring(
    store: Store,
    as_of: pd.Timestamp,
    cfg: ScoringConfig,
    features_cfg: FeaturesConfig,
    progress: Progress | None = None,
    model: ChampionRef | None = None,
) -> ScoringResult:
    """One nightly run: read, validate, quarantine, score, explain, rank, and publish atomically.

    The run holds the store's scoring lock. The day's ``lead_scores``, the ``scoring_runs``
    record and the quarantined rows are written in one batch (one transaction on DuckDB and
    PostgreSQL), so readers see the previous list or the new one, never a mix.

    Args:
        progress: called with (leads read, leads in the store) after each slice.
        model: the version to score with (default: ``cfg.model_name``'s champion).
    """
    run_id = uuid.uuid4().hex
    started = pd.Timestamp.now(tz="UTC")
    reset_skipped_rules()
    with store.lock("scoring"), Staging(cfg.staging_memory_limit) as staging:
        store.check_writable("lead_scores")  # before the work, not after it
        model = model or get_champion(cfg.model_name)
        pipeline = load_pipeline(model)
        total = store.count("leads")
        if total == 0:
            raise StoreError(
                f"store {store.uri} has no leads to score (its leads table is empty): "
                "import or generate a CRM first"
            )
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
            if len(scored):  # a slice may have no lead open at as_of
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
