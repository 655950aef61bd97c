"""The engine seam: one object per way of running leadscore, chosen once by name.

An engine reads the validated inputs for training, computes the training snapshots'
features, and runs the nightly scoring. ``embedded`` does it all on this machine (DuckDB
and pandas); ``spark`` validates the inputs, aggregates the events and scores on Apache
Spark (``pip install 'leadscore[spark]'``). Both give the same rows; nothing outside this
module asks which engine it has.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import pandas as pd

from models import ChampionRef
from pipelines import FeaturesConfig, TrainingTables, read_inputs
from pipelines.features import FeatureBuilder, build_feature_frame
from pipelines.storage import Store
from scoring.config import ScoringConfig
from scoring.nightly.embedded import Progress, run_scoring
from scoring.nightly.rows import ScoringResult

ENGINES = ("embedded", "spark")


class Engine(Protocol):
    """What training and the nightly run ask of an engine."""

    name: str

    def describe(self) -> str:
        """The engine in words, for progress messages."""
        ...

    def training_tables(self, store: Store) -> TrainingTables:
        """The store's inputs, validated, for training."""
        ...

    def feature_builder(self) -> FeatureBuilder:
        """The function computing the training snapshots' features."""
        ...

    def score(
        self,
        store: Store,
        as_of: pd.Timestamp,
        cfg: ScoringConfig,
        features_cfg: FeaturesConfig,
        progress: Progress | None = None,
        model: ChampionRef | None = None,
    ) -> ScoringResult:
        """One nightly run: every lead open at ``as_of`` scored, ranked and written, with
        ``model`` (default: the configured model's champion)."""
        ...


class EmbeddedEngine:
    """DuckDB and pandas on this machine, one slice of leads at a time."""

    name = "embedded"

    def describe(self) -> str:
        return "embedded"

    def training_tables(self, store: Store) -> TrainingTables:
        return read_inputs(store)

    def feature_builder(self) -> FeatureBuilder:
        return build_feature_frame

    def score(
        self,
        store: Store,
        as_of: pd.Timestamp,
        cfg: ScoringConfig,
        features_cfg: FeaturesConfig,
        progress: Progress | None = None,
        model: ChampionRef | None = None,
    ) -> ScoringResult:
        return run_scoring(store, as_of, cfg, features_cfg, progress, model=model)


class SparkEngine:
    """Apache Spark: a session is started (or the active one used) on first need."""

    name = "spark"

    def __init__(self, master: str | None = None) -> None:
        self.master = master
        self._session: Any = None

    @property
    def session(self) -> Any:
        """The Spark session; raises SparkUnavailable without pyspark or Java."""
        if self._session is None:
            from pipelines.spark import spark_session

            self._session = spark_session(self.master)
        return self._session

    def describe(self) -> str:
        return f"Spark ({self.session.sparkContext.master})"

    def training_tables(self, store: Store) -> TrainingTables:
        from pipelines.spark import training_tables_spark

        return training_tables_spark(self.session, store)

    def feature_builder(self) -> FeatureBuilder:
        from pipelines.spark import build_feature_frame_spark

        return functools.partial(build_feature_frame_spark, self.session)

    def score(
        self,
        store: Store,
        as_of: pd.Timestamp,
        cfg: ScoringConfig,
        features_cfg: FeaturesConfig,
        progress: Progress | None = None,
        model: ChampionRef | None = None,
    ) -> ScoringResult:
        from scoring.nightly.spark import run_scoring_spark

        return run_scoring_spark(self.session, store, as_of, cfg, features_cfg, model)


def engine_named(name: str, spark_master: str | None = None) -> Engine:
    """The engine called ``name`` (``embedded`` or ``spark``).

    Raises:
        ValueError: an unknown name, or a Spark master for the embedded engine.
    """
    if name == "embedded":
        if spark_master:
            raise ValueError("--spark-master goes with --engine spark")
        return EmbeddedEngine()
    if name == "spark":
        return SparkEngine(spark_master)
    raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
