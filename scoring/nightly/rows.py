"""What both engines put in a run's rows: scores, grades, reasons, deal sizes, the run record.

The embedded scorer (:mod:`scoring.nightly.embedded`) and the Spark scorer
(:mod:`scoring.nightly.spark`) call these same functions on their chunks of leads, so the
two write the same list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import ChampionRef, booster_of, scoring_frames, to_grade, to_score
from pipelines import CrmTables, LeadScores, ScoringRuns, empty_table
from pipelines.features import EMPLOYEE_BANDS
from pipelines.storage import Store
from scoring.config import ScoringConfig
from scoring.explain import contributions, family_scores, top_reasons
from scoring.nightly.staging import Staging
from scoring.qualify import bant_checklist, bant_json, qualify, trend
from scoring.ranking import rank_sql

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

    LightGBM's C++ code and the exact tables' numpy passes release the GIL for most of
    their time: this can run in a second thread beside the pandas work on another chunk.
    """
    if probability is None:
        probability = pipeline[-1].predict_proba(Xt)[:, 1]  # type: ignore[index]
    booster = booster_of(pipeline).booster_
    return probability, contributions(booster, Xt, cfg.reasons.threads, cfg.reasons.method)


def describe_chunk(
    features: pd.DataFrame,
    X: pd.DataFrame,
    probability: np.ndarray,
    contrib: pd.DataFrame,
    cfg: ScoringConfig,
) -> pd.DataFrame:
    """Profile scores, qualification, BANT (as JSON) and reasons of one chunk.

    ``features`` are the model's features before the leakage drop, so a rule or a reason
    that reads a dropped feature still works.
    """
    profiles = family_scores(contrib, PROFILE_FAMILIES)
    checklist = bant_checklist(features, cfg.bant)
    reasons = top_reasons(contrib, features, X, cfg.reasons)
    score = to_score(probability)
    context = features.assign(
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
    features, Xt = scoring_frames(pipeline, X)  # type: ignore[arg-type]
    probability, contrib = predict_and_explain(pipeline, Xt, cfg, probability)
    return probability, describe_chunk(features, X, probability, contrib, cfg)


def previous_run(store: Store, as_of: pd.Timestamp) -> pd.Timestamp | None:
    """The as_of of the latest successful run before ``as_of`` (None when there is none)."""
    if not store.exists("scoring_runs"):
        return None
    runs = ScoringRuns.validate(store.read("scoring_runs"))
    earlier = runs.loc[(runs["status"] == "succeeded") & (runs["as_of"] < as_of), "as_of"]
    return None if earlier.empty else earlier.max()


def previous_scores(rows: pd.DataFrame | None) -> pd.Series:
    """Each lead's score in ``rows`` of the previous run's ``lead_scores`` (None: no run)."""
    if rows is None:
        return pd.Series(dtype="float64")
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
