"""Which data a model was trained on, and the guard that a store is scored with its own model.

Every version ``leadscore train`` registers carries three tags: the store's id (given at
first use and kept in the store's ``store_metadata`` table), its URI (no password) and a
fingerprint of the training data (lead count, latest event, a hash of the lead ids).
``leadscore score`` refuses a champion tagged with another store's id, unless the model is
named on purpose (``--model NAME@ALIAS`` or ``NAME/VERSION``); a version registered before
these tags existed is used with a warning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models import CHAMPION, ChampionRef, get_champion, resolve_model, version_tags
from pipelines import TrainingTables
from pipelines.storage import Store, public_uri, store_id

STORE_ID_TAG = "store_id"
STORE_URI_TAG = "store_uri"
FINGERPRINT_TAG = "data_fingerprint"
PROVENANCE_TAGS = (STORE_ID_TAG, STORE_URI_TAG, FINGERPRINT_TAG)


class ForeignModelError(LookupError):
    """The champion was trained on another store."""


@dataclass(frozen=True)
class ModelChoice:
    """The version a run scores with, and a warning to print (or None)."""

    ref: ChampionRef
    warning: str | None = None


def data_fingerprint(tables: TrainingTables) -> str:
    """``3,000 leads to 2026-10-31 #1a2b3c4d``: the count, the latest event, and a hash of
    the count, the latest creation, the latest event and the sorted lead ids."""
    leads = tables.leads
    if leads.empty:  # training stops on it with its own message
        return "0 leads"
    end = tables.data_end()
    head = f"{len(leads)}|{leads['created_at'].max()}|{end}|"
    return f"{len(leads):,} leads to {end:%Y-%m-%d} #{_digest(head, leads['lead_id'])}"


def _digest(head: str, ids: pd.Series) -> str:
    """8 hex digits hashing ``head`` and the sorted ``ids`` (their order does not count)."""
    hashed = np.sort(pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy())
    digest = hashlib.blake2b(head.encode(), digest_size=4)
    digest.update(hashed.tobytes())
    return digest.hexdigest()


def file_provenance(path: Path, ids: pd.Series) -> dict[str, str]:
    """The tags of a version trained on a flat file (``train --flat``): the file's name and
    ``9,240 rows #1a2b3c4d`` (the count and a hash of the sorted row ids). No store id: a
    flat model is scored with ``score --flat``, never chosen for a store."""
    return {
        STORE_URI_TAG: f"file {path.name}",
        FINGERPRINT_TAG: f"{len(ids):,} rows #{_digest('', ids)}",
    }


def store_provenance(store: Store, tables: TrainingTables) -> dict[str, str]:
    """The tags naming the store and the data a version is trained on (gives the store its
    id at first use)."""
    return {
        STORE_ID_TAG: store_id(store) or "",
        STORE_URI_TAG: public_uri(store.uri),
        FINGERPRINT_TAG: data_fingerprint(tables),
    }


def choose_model(store: Store, name: str, spec: str | None = None) -> ModelChoice:
    """The version to score ``store`` with: ``spec`` (``NAME@ALIAS`` or ``NAME/VERSION``)
    as given, else ``name``'s champion when it was trained on this store.

    Raises:
        ForeignModelError: the champion's store id is not this store's.
        ModelNotFound: no such model, version or alias (NoChampionError: no champion).
        ValueError: ``spec`` is neither form.
    """
    if spec is not None:
        return ModelChoice(resolve_model(spec))
    ref = get_champion(name)
    tags = version_tags(ref)
    trained_on = tags.get(STORE_ID_TAG)
    if not trained_on:
        return ModelChoice(
            ref,
            f"{name} v{ref.version} does not say which store it was trained on (registered "
            "before stores were recorded); scoring with it",
        )
    here = store_id(store, create=False)
    if here != trained_on:
        where = tags.get(STORE_URI_TAG, "unknown uri")
        raise ForeignModelError(
            f"the champion {name} v{ref.version} was trained on store {trained_on} ({where}), "
            f"not on {public_uri(store.uri)} (store {here or 'without an id'}); train on this "
            f"store, or pass --model {name}@{CHAMPION} to score with it anyway"
        )
    return ModelChoice(ref)
