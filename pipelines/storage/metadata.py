"""A store's own facts, kept inside the store: which CRM it holds and where it came from.

One small key/value table, ``store_metadata`` (``key``, ``value``, both strings), written
with the store's own atomic write. Keys in use:

- ``store_id``: a random id given at first use; the model registry and provenance tags name
  the store by it, so two stores never share a champion by accident.
- ``data_origin``: ``generated`` or ``imported`` (the last writer of the CRM tables), so that
  ``generate`` can refuse to overwrite an imported CRM.
"""

from __future__ import annotations

import uuid

import pandas as pd

from pipelines.storage.base import Replace, Store

__all__ = ["METADATA_TABLE", "metadata_operation", "read_metadata", "store_id", "write_metadata"]

METADATA_TABLE = "store_metadata"


def read_metadata(store: Store) -> dict[str, str]:
    """Every key/value the store holds; empty when it holds none yet."""
    if not store.exists(METADATA_TABLE):
        return {}
    df = store.read(METADATA_TABLE)
    return {str(k): str(v) for k, v in zip(df["key"], df["value"], strict=True)}


def write_metadata(store: Store, **items: str) -> dict[str, str]:
    """Set ``items`` (others are kept) in one atomic write; returns the whole table."""
    merged = {**read_metadata(store), **{k: str(v) for k, v in items.items()}}
    frame = pd.DataFrame({"key": list(merged), "value": list(merged.values())}, dtype="string")
    store.write(METADATA_TABLE, frame)
    return merged


def store_id(store: Store, create: bool = True) -> str | None:
    """The store's id, given (and written) at first use when ``create``."""
    known = read_metadata(store).get("store_id")
    if known is not None or not create:
        return known
    new = uuid.uuid4().hex[:12]
    write_metadata(store, store_id=new)
    return new


def metadata_operation(key: str, value: str) -> Replace:
    """Sets one key as part of a larger :meth:`Store.write_batch` (others are kept), so the
    fact lands with the data it describes: e.g. ``data_origin`` with the CRM tables."""
    frame = pd.DataFrame({"key": [key], "value": [str(value)]}, dtype="string")
    return Replace(METADATA_TABLE, frame, "key", key)
