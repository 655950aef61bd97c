"""The nightly scorer on Apache Spark: the embedded scorer's features, model and functions.

Nothing here is a second implementation. The steps and what runs them:

- inputs validated by the same contract code per Arrow batch (:mod:`pipelines.spark.inputs`);
- engagement and stage aggregates by Spark SQL generated from the same definitions as the
  DuckDB SQL (:mod:`pipelines.features.sql`, :mod:`pipelines.spark.features`);
- lead attributes and model input by the same pandas functions, per partition (``mapInPandas``);
- probabilities by the ``@champion`` model through ``mlflow.pyfunc.spark_udf``;
- reasons, BANT, qualification, trend and expected value by the embedded scorer's functions,
  per partition; ranks by the same SQL (:func:`scoring.ranking.rank_sql`) as a Spark window.

Output: on a Parquet store, ``lead_scores/`` is a dataset partitioned by ``as_of`` and a rerun
of a date replaces only that partition (a dynamic partition overwrite, done as a swap of
directories that a crash cannot leave half-done: :mod:`pipelines.storage.partitions`); quarantined
rows are appended to ``quarantine/``. On other stores the list is streamed into the store's own
transactional write. Either way a ``scoring_runs`` record is appended last.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models import ChampionRef, get_champion, load_pipeline
from pipelines import FeaturesConfig, LeadScores, utc, utc_times, validate_table
from pipelines.features import assemble_feature_frame, model_input, open_at_sql, snapshots_at
from pipelines.spark import spark_type
from pipelines.storage import (
    Append,
    Replace,
    Store,
    StoreError,
    recover_partitions,
    staging_dir,
    swap_in_partitions,
)
from scoring.config import ScoringConfig
from scoring.nightly.rows import (
    DealSizes,
    ScoringResult,
    Tally,
    previous_run,
    run_record,
    score_chunk,
    staged_template,
    unranked_scores,
    won_deals,
)
from scoring.ranking import rank_sql

log = logging.getLogger(__name__)
KEYS = {"lead_id": "_lead_id", "owner_id": "_owner_id", "employees": "_employees"}


def _ddl(columns: dict[str, str]) -> str:
    return ", ".join(f"`{name}` {kind}" for name, kind in columns.items())


def _utc(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark hands timestamps to pandas without a zone (in the session's, UTC): mark them."""
    for column in frame.columns:
        if pd.api.types.is_datetime64_dtype(frame[column].dtype):
            frame[column] = utc_times(frame[column])
    return frame


def model_signature(model: ChampionRef) -> dict[str, str]:
    """The champion's input columns and their Spark types, from its MLflow signature.

    Numbers go in as DOUBLE: integer columns would arrive as int64 and fail the signature.
    """
    from mlflow.models import get_model_info

    signature = get_model_info(model.uri).signature
    if signature is None:
        raise StoreError(f"model {model.uri} has no signature: retrain it with leadscore train")
    return {
        str(c.name): "STRING" if c.type.name == "string" else "DOUBLE"
        for c in signature.inputs.inputs
    }


def _previous_scores(
    spark: Any, store: Store, dataset: Path | None, previous: pd.Timestamp | None
) -> Any:
    """(lead_id, _previous): each lead's score in the run of ``previous``."""
    from pyspark.sql import functions as F

    from pipelines.spark import to_spark

    empty = spark.createDataFrame([], "lead_id STRING, _previous DOUBLE")
    if previous is None or not store.exists("lead_scores"):
        return empty
    if dataset is not None:  # that date's directories, however each spells the date
        zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
        found = [str(p) for p in _date_partitions(dataset, previous, zone)]
        if not found:
            return empty
        return spark.read.parquet(*found).select(
            "lead_id", F.col("score").cast("double").alias("_previous")
        )
    rows = store.read("lead_scores", equals={"as_of": previous})[["lead_id", "score"]]
    return to_spark(spark, rows.rename(columns={"score": "_previous"}))


def _publish(
    spark: Any,
    store: Store,
    dataset: Path | None,
    ranked: Any,
    quarantine: Any,
    as_of: pd.Timestamp,
    run_id: str,
) -> None:
    """Writes the day's list (replacing that date only) and appends the quarantined rows.

    On a Parquet store the date's partition is written to a hidden staging directory and
    then swapped in by renames (:mod:`pipelines.storage.partitions`), never deleted first: a run
    killed at any moment leaves the previous list in place or recoverable by the next run.
    """
    if dataset is not None:
        from pyspark.sql import functions as F

        staged = staging_dir(dataset, run_id)
        named = ranked.withColumn("as_of", F.lit(partition_value(as_of)))
        named.write.mode("overwrite").partitionBy("as_of").parquet(str(staged))
        zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
        # Without open leads nothing is staged: the date's old list must go all the same.
        retire = [p.name for p in _date_partitions(dataset, as_of, zone)]
        swapped = swap_in_partitions(dataset, staged, retire)
        log.info("wrote the ranked list to %s (%s)", dataset, ", ".join(swapped) or "no rows")
        quarantine.write.mode("append").parquet(str(store.dataset_dir("quarantine")))
        log.info("appended the quarantined rows")
        return
    with tempfile.TemporaryDirectory(prefix="leadscore-spark-") as tmp:
        ranked.write.parquet(f"{tmp}/lead_scores")
        quarantine.write.parquet(f"{tmp}/quarantine")
        store.write_batch(
            [
                Replace("lead_scores", _frames(Path(tmp, "lead_scores")), "as_of", as_of),
                Append("quarantine", _frames(Path(tmp, "quarantine"))),
            ]
        )


def partition_value(as_of: pd.Timestamp) -> str:
    """How a run's ``as_of=`` directory spells its date: the date alone for a run at midnight
    UTC (``as_of=2026-11-01``), else the UTC time (``2026-11-01T12:00:00+00:00``)."""
    at = utc(as_of)
    return str(at.date()) if at == at.normalize() else at.isoformat()


def _date_partitions(dataset: Path, as_of: pd.Timestamp, zone: str) -> list[Path]:
    """The ``as_of=...`` directories of ``dataset`` holding ``as_of``.

    Read in both spellings: the date alone, or a time with its offset, are UTC
    (:func:`partition_value`); a time without one is how Spark spelled a timestamp column
    before (``as_of=2026-11-01 00%3A00%3A00``, escaped), in the session's time ``zone``.
    """
    from urllib.parse import unquote

    found = []
    for path in dataset.glob("as_of=*") if dataset.is_dir() else []:
        text = unquote(path.name.split("=", 1)[1])
        value = pd.Timestamp(text)
        if value.tzinfo is None:
            value = value.tz_localize("UTC" if len(text) == len("2026-11-01") else zone)
        if value == as_of:
            found.append(path)
    return found


def _frames(dataset: Path, batch_rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """A Parquet dataset written by Spark, as contract frames, a batch at a time."""
    import pyarrow.parquet as pq

    for path in sorted(dataset.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            yield _utc(batch.to_pandas())


@dataclass(frozen=True)
class _Run:
    """What every Spark task of one run needs (shipped to the workers with the functions)."""

    run_id: str
    as_of: pd.Timestamp
    model: ChampionRef
    signature: dict[str, str]
    cfg: ScoringConfig
    features_cfg: FeaturesConfig
    sizes: DealSizes | None = None


def _deal_sizes(leads: Any, run: _Run) -> DealSizes:
    """Expected deal sizes from the deals won before ``as_of`` (a few columns to the driver)."""
    from pyspark.sql import functions as F

    at = F.lit(run.as_of.to_pydatetime())
    won = leads.filter(
        F.col("converted_at").isNotNull()
        & (F.col("converted_at") < at)
        & F.col("deal_value").isNotNull()
    ).select("employees", "converted_at", "deal_value")
    won_rows = won_deals(_utc(won.toPandas()), run.as_of)
    return DealSizes.from_won(won_rows, run.cfg.default_deal_value)


def _to_model_input(
    batches: Iterator[pd.DataFrame], run: _Run, lead_columns: list[str], event_columns: list[str]
) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: open leads joined with their event aggregates → model input,
    with the lead's keys and previous score alongside."""
    for batch in batches:
        lead_rows = validate_table("leads", _utc(batch[lead_columns].copy()))
        # Custom attributes: not contract columns, so put back after the check.
        attributes = [c for c in lead_columns if c.startswith("attr_")]
        lead_rows = lead_rows.assign(**{c: batch[c].to_numpy() for c in attributes})
        ids = lead_rows["lead_id"]
        keys = snapshots_at(ids, run.as_of)
        found = (
            batch[event_columns]
            .copy()
            .assign(lead_id=ids.to_numpy(), snapshot_at=keys["snapshot_at"].to_numpy())
        )
        X = model_input(assemble_feature_frame(lead_rows, keys, found, run.features_cfg))
        # An attribute the model knows but no lead here has: missing, as on the embedded path.
        absent = [c for c in run.signature if c.startswith("attr_") and c not in X.columns]
        for column in absent:
            text = run.signature[column] == "STRING"
            X[column] = pd.Series(
                None if text else np.nan, index=X.index, dtype=object if text else "float64"
            )
        out = X[list(run.signature)].reset_index(drop=True)
        for source, target in KEYS.items():
            out[target] = lead_rows[source].to_numpy()
        out["_previous"] = batch["_previous"].to_numpy(dtype="float64")
        yield out


def _model_inputs(spark: Any, store: Store, dataset: Path | None, tables: Any, run: _Run) -> Any:
    """The leads open at ``as_of`` as model input rows, on Spark."""
    from pyspark.sql import functions as F

    from pipelines.spark import event_features_spark

    at = F.lit(run.as_of.to_pydatetime())
    leads = tables.leads
    if tables.attributes is not None:
        leads = leads.join(tables.attributes, "lead_id", "left")
    open_leads = (
        leads.withColumn("__ls_at", at).filter(F.expr(open_at_sql("__ls_at"))).drop("__ls_at")
    )
    snapshots = open_leads.select("lead_id", at.alias("snapshot_at"))
    events = event_features_spark(
        spark, snapshots, tables.activities, tables.stage_history, run.features_cfg
    ).drop("snapshot_at")
    previous = _previous_scores(spark, store, dataset, previous_run(store, run.as_of))
    joined = open_leads.join(events, "lead_id", "left").join(previous, "lead_id", "left")
    body = functools.partial(
        _to_model_input,
        run=run,
        lead_columns=list(leads.columns),
        event_columns=[c for c in events.columns if c != "lead_id"],
    )
    key_types = {"_lead_id": "STRING", "_owner_id": "STRING", "_employees": "DOUBLE"}
    return joined.mapInPandas(body, _ddl({**run.signature, **key_types, "_previous": "DOUBLE"}))


def _staged_columns() -> pd.DataFrame:
    staged = staged_template().drop(columns="company_band")
    staged["expected_value"] = pd.Series(dtype="float64")
    return staged


def _explain(batches: Iterator[pd.DataFrame], run: _Run, pipeline: Any) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: scored model input → the list's rows (without ranks)."""
    assert run.sizes is not None
    columns = list(_staged_columns().columns)
    for batch in batches:
        X = model_input(batch[list(run.signature)])
        probability = batch["_probability"].to_numpy(dtype="float64")
        _, profiles = score_chunk(pipeline, X, run.cfg, probability)
        scored = pd.concat(
            [
                pd.DataFrame({s: batch[t].to_numpy() for s, t in KEYS.items()}),
                profiles.reset_index(drop=True).assign(probability=probability),
            ],
            axis=1,
        )
        before = pd.Series(batch["_previous"].to_numpy(), index=batch["_lead_id"])
        rows = unranked_scores(scored, before.dropna(), run.as_of, run.run_id, run.model, run.cfg)
        rows["expected_value"] = np.round(probability * run.sizes.of(rows.pop("company_band")), 2)
        yield rows[columns]


class _LocalEnvWarning(logging.Filter):
    """MLflow warns at every ``env_manager="local"`` UDF that the training environment is not
    recreated: on purpose here (the workers run leadscore's own interpreter), so every
    nightly log would repeat it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "does not recreate the same environment" not in record.getMessage()


@contextlib.contextmanager
def _without_local_env_warning() -> Iterator[None]:
    mlflow_log, known = logging.getLogger("mlflow.pyfunc"), _LocalEnvWarning()
    mlflow_log.addFilter(known)
    try:
        yield
    finally:
        mlflow_log.removeFilter(known)


def _scored(spark: Any, inputs: Any, run: _Run, pipeline: Any) -> Any:
    """Probabilities by the champion's ``spark_udf``, then reasons and grades per batch."""
    import mlflow
    from pyspark.sql import functions as F

    with _without_local_env_warning():
        predict = mlflow.pyfunc.spark_udf(
            spark, run.model.uri, result_type="array<double>", env_manager="local"
        )
    # result_type="double" would return the FIRST column of predict_proba: P(no).
    probability = predict(*[F.col(c) for c in run.signature]).getItem(1)
    staged = _staged_columns()
    schema = _ddl({c: spark_type(staged[c].dtype) for c in staged.columns})
    body = functools.partial(_explain, run=run, pipeline=pipeline)
    # Materialised once, lineage cut: mlflow's spark_udf is non-deterministic to Spark, so
    # a persisted frame would not be found again by the ranking query, which would score
    # and explain every lead a second time.
    return (
        inputs.withColumn("_probability", probability).mapInPandas(body, schema).localCheckpoint()
    )


def run_scoring_spark(
    spark: Any,
    store: Store,
    as_of: pd.Timestamp,
    cfg: ScoringConfig,
    features_cfg: FeaturesConfig,
    model: ChampionRef | None = None,
) -> ScoringResult:
    """One nightly run on ``spark``: the same list as :func:`scoring.nightly.embedded.run_scoring`.

    Raises:
        StoreError: the store cannot be used with this engine (see the module doc).
    """
    from pipelines.spark import read_inputs_spark

    run_id = uuid.uuid4().hex
    started = pd.Timestamp.now(tz="UTC")
    with store.lock("scoring"):
        dataset = store.dataset_dir("lead_scores", replace=True)
        if dataset is not None:  # what a killed run may have left half-swapped
            recover_partitions(dataset)
        model = model or get_champion(cfg.model_name)
        pipeline = load_pipeline(model)
        run = _Run(run_id, as_of, model, model_signature(model), cfg, features_cfg)
        tables = read_inputs_spark(spark, store, run_id)
        log.info("inputs read and validated on Spark: %s", tables.raw_counts)
        run = replace(run, sizes=_deal_sizes(tables.leads, run))
        scored = _scored(spark, _model_inputs(spark, store, dataset, tables, run), run, pipeline)
        rows = scored.count()
        log.info("scored and explained %d leads on Spark", rows)
        ranked = spark.sql(rank_sql("{scored}"), scored=scored)
        ranked = ranked.select(*LeadScores.to_schema().columns)
        tally = Tally(read=Counter(tables.raw_counts), quarantined=tables.rows_rejected)
        _publish(spark, store, dataset, ranked, tables.quarantine, as_of, run_id)
        record = run_record(run_id, as_of, started, model, tally, rows)
        store.write_batch([Append("scoring_runs", record)])
        scored.unpersist()
        tables.unpersist()
    log.info("scored %d leads as of %s on Spark (run %s)", rows, as_of.date(), run_id)
    return ScoringResult(run_id, as_of, model, rows, tally.quarantined)
