"""MLflow tracking and the model registry: where runs go, who is champion, and since when.

Tracking defaults to a local sqlite file named by the caller (the CLI gives each store its
own, ``data/leadscore.mlflow.db`` beside ``data/leadscore.duckdb``), artifacts beside it;
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


class ModelNotFound(LookupError):
    """The registry has no such model name, version or alias."""


class NoChampionError(ModelNotFound):
    """The registry has no champion version for the model name."""


def tracking_uri(explicit: str | None = None, registry: str | Path = "data/mlflow.db") -> str:
    """The tracking URI: explicit, ``$MLFLOW_TRACKING_URI``, or the sqlite file ``registry``
    (not created here)."""
    if explicit:
        return explicit
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path(registry).resolve()}"


def local_registry(uri: str) -> Path | None:
    """The sqlite file behind a tracking URI; None for a server or another backend."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def artifacts_beside(db: Path) -> Path:
    """Where a sqlite registry keeps artifacts: ``X.mlflow.db`` → ``X.mlartifacts``,
    ``mlflow.db`` → ``mlartifacts`` (both beside the file)."""
    stem = db.name.removesuffix(".db").removesuffix("mlflow")
    return db.with_name(f"{stem}mlartifacts")


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
        db = local_registry(uri)
        location = artifacts_beside(db).resolve().as_uri() if db is not None else None
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


def _registered(client: Any, name: str) -> Any:
    """The registered model ``name``; ModelNotFound (one line) when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException:
        raise ModelNotFound(
            f"no model '{name}' in the registry; run `leadscore train` first"
        ) from None


def get_version(name: str, version: str) -> ChampionRef:
    """A registered version of ``name``.

    Raises:
        ModelNotFound: no model ``name``, or no such version of it.
    """
    from mlflow.exceptions import MlflowException

    client = _client()
    _registered(client, name)
    if not str(version).isdigit():
        raise ModelNotFound(f"model '{name}' has no version {version!r} (versions are numbers)")
    try:
        mv = client.get_model_version(name, str(version))
    except MlflowException:
        raise ModelNotFound(
            f"model '{name}' has no version {version}; `leadscore models --name {name}` lists them"
        ) from None
    return ChampionRef(name, str(mv.version), mv.run_id)


def resolve_model(spec: str) -> ChampionRef:
    """The version named by ``NAME@ALIAS`` or ``NAME/VERSION``.

    Raises:
        ValueError: ``spec`` is neither form.
        ModelNotFound: the registry has no such name, alias or version.
    """
    from mlflow.exceptions import MlflowException

    if "@" in spec:
        name, alias = spec.rsplit("@", 1)
        if not name or not alias:
            raise ValueError(f"{spec!r} is not NAME@ALIAS")
        client = _client()
        _registered(client, name)
        try:
            mv = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            raise ModelNotFound(f"model '{name}' has no version with alias '@{alias}'") from None
        return ChampionRef(name, str(mv.version), mv.run_id)
    name, _, version = spec.rpartition("/")
    if not name or not version:
        raise ValueError(f"{spec!r} is not NAME@ALIAS or NAME/VERSION")
    return get_version(name, version)


def version_tags(ref: ChampionRef) -> dict[str, str]:
    """The tags of a registered version (provenance, promotion reason)."""
    return dict(_client().get_model_version(ref.name, ref.version).tags)


def champion_history(name: str) -> list[dict[str, str]]:
    """Every change of champion, oldest first: version, at (UTC ISO), reason.

    Raises:
        ModelNotFound: no model ``name`` in the registry.
    """
    model = _registered(_client(), name)
    return json.loads(model.tags.get("champion_history", "[]"))


def set_champion(name: str, version: str, reason: str) -> None:
    """Moves ``@champion`` to ``version`` and appends the change to the history tag.

    Raises:
        ModelNotFound: no model ``name``, or no such version of it.
    """
    client = _client()
    get_version(name, version)
    client.set_registered_model_alias(name, CHAMPION, version)
    history = champion_history(name)
    history.append(
        {"version": str(version), "at": pd.Timestamp.now(tz="UTC").isoformat(), "reason": reason}
    )
    client.set_registered_model_tag(name, "champion_history", json.dumps(history))
    client.set_model_version_tag(name, version, "promotion_reason", reason)


def list_versions(name: str, tags: tuple[str, ...] = ()) -> pd.DataFrame:
    """Registered versions with their holdout metrics, aliases and the version ``tags``
    asked for (``-`` where a version lacks one), newest first.

    Raises:
        ModelNotFound: no model ``name`` in the registry.
    """
    client = _client()
    # search_model_versions leaves aliases empty; the registered model holds them.
    aliases: dict[str, list[str]] = {}
    for alias, held_by in _registered(client, name).aliases.items():
        aliases.setdefault(str(held_by), []).append(alias)
    rows = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        metrics = client.get_run(mv.run_id).data.metrics if mv.run_id else {}
        rows.append(
            {
                "version": int(mv.version),
                "created": pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC").strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "aliases": ",".join(sorted(aliases.get(str(mv.version), []))),
                "test_roc_auc": metrics.get("test_roc_auc"),
                "test_brier": metrics.get("test_brier"),
                **{tag: (mv.tags or {}).get(tag, "-") for tag in tags},
                "run_id": mv.run_id,
            }
        )
    return (
        pd.DataFrame(rows).sort_values("version", ascending=False, ignore_index=True)
        if rows
        else pd.DataFrame()
    )


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
