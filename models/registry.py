"""MLflow tracking and the model registry: where runs go, who is champion, and since when.

Tracking defaults to a local sqlite file (``data/mlflow.db``) with artifacts beside it;
``MLFLOW_TRACKING_URI`` overrides it. The production model is ``models:/<name>@champion``.
MLflow keeps no history of aliases, so every change of champion is also recorded as a tag
on the registered model (``champion_history``, a JSON list) with its time and reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

CHAMPION = "champion"
EVALUATED_ARTIFACT = "evaluated_model"
EXPERIMENT = "leadscore"


class NoChampionError(LookupError):
    """The registry has no champion version for the model name."""


def tracking_uri(explicit: str | None = None, data_dir: str | Path = "data") -> str:
    """The tracking URI: explicit, ``$MLFLOW_TRACKING_URI``, or ``sqlite:///data/mlflow.db``."""
    if explicit:
        return explicit
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'mlflow.db'}"


def configure(uri: str) -> None:
    """Points MLflow at ``uri`` and makes sure the experiment exists, artifacts beside the db."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import logging
    import warnings

    import mlflow

    # cloudpickle is chosen on purpose (custom transformers; see README); MLflow's INFO
    # chatter about creating tables drowns the CLI's own output.
    warnings.filterwarnings("ignore", message="Saving scikit-learn models in the pickle")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        location = None
        if uri.startswith("sqlite:///"):
            location = (
                (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
            )
        mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)


def _client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


@dataclass(frozen=True)
class ChampionRef:
    name: str
    version: str
    run_id: str | None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def get_champion(name: str) -> ChampionRef:
    """The version holding ``@champion``.

    Raises:
        NoChampionError: when no version holds the alias.
    """
    from mlflow.exceptions import MlflowException

    try:
        mv = _client().get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        raise NoChampionError(
            f"no '{CHAMPION}' version of model '{name}' in the registry; run `leadscore train` first"
        ) from None
    return ChampionRef(name, str(mv.version), mv.run_id)


def champion_history(name: str) -> list[dict[str, str]]:
    """Every change of champion, oldest first: version, at (UTC ISO), reason."""
    model = _client().get_registered_model(name)
    return json.loads(model.tags.get("champion_history", "[]"))


def set_champion(name: str, version: str, reason: str) -> None:
    """Moves ``@champion`` to ``version`` and appends the change to the history tag."""
    client = _client()
    client.set_registered_model_alias(name, CHAMPION, version)
    history = champion_history(name)
    history.append(
        {"version": str(version), "at": pd.Timestamp.now(tz="UTC").isoformat(), "reason": reason}
    )
    client.set_registered_model_tag(name, "champion_history", json.dumps(history))
    client.set_model_version_tag(name, version, "promotion_reason", reason)


def list_versions(name: str) -> pd.DataFrame:
    """Registered versions with their holdout metrics and aliases, newest first."""
    client = _client()
    # search_model_versions leaves aliases empty; the registered model holds them.
    aliases: dict[str, list[str]] = {}
    for alias, held_by in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(held_by), []).append(alias)
    rows = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        run = client.get_run(mv.run_id).data if mv.run_id else None
        metrics = run.metrics if run else {}
        rows.append(
            {
                "version": int(mv.version),
                "created": pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC").strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "aliases": ",".join(sorted(aliases.get(str(mv.version), []))),
                "test_roc_auc": metrics.get("test_roc_auc"),
                "test_brier": metrics.get("test_brier"),
                "segments": run.tags.get("segments", "") if run else "",
                "run_id": mv.run_id,
            }
        )
    if not rows:
        return pd.DataFrame()
    versions = pd.DataFrame(rows).sort_values("version", ascending=False, ignore_index=True)
    # Per-segment training says which segments have a model of their own and which fell back.
    return versions if versions["segments"].ne("").any() else versions.drop(columns="segments")


def load_pipeline(ref: ChampionRef) -> Any:
    """Loads the fitted sklearn pipeline of a registered version."""
    import mlflow

    return mlflow.sklearn.load_model(ref.uri)


def load_evaluated(ref: ChampionRef) -> Any | None:
    """The evaluated fit logged beside a refitted version (None for a version without one)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if ref.run_id is None:
        return None
    try:
        return mlflow.sklearn.load_model(f"runs:/{ref.run_id}/{EVALUATED_ARTIFACT}")
    except (MlflowException, OSError):
        return None


def load_reference(name: str) -> pd.DataFrame | None:
    """The champion's training reference sample (``reference.parquet``), or None."""
    import mlflow

    try:
        champion = get_champion(name)
    except NoChampionError:
        return None
    if champion.run_id is None:
        return None
    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=champion.run_id, artifact_path="reference.parquet"
        )
    except Exception:  # an older run without the artifact
        return None
    return pd.read_parquet(path)
