"""Opening a store by URI."""

from __future__ import annotations

import os

from pipelines.storage.base import DEFAULT_STORE, Store, StoreError
from pipelines.storage.duckdb import DuckDBStore
from pipelines.storage.files import FileStore


def store_uri(uri: str | None = None) -> str:
    """``uri``, else ``$LEADSCORE_STORE``, else the default DuckDB file; a plain path to a
    ``.duckdb`` file is read as ``duckdb:///path``."""
    uri = uri or os.environ.get("LEADSCORE_STORE") or DEFAULT_STORE
    if "://" not in uri and uri.endswith(".duckdb"):
        return f"duckdb:///{uri}"
    return uri


def open_store(uri: str | None = None) -> Store:
    """Opens the store named by ``uri`` (default: ``$LEADSCORE_STORE`` or the DuckDB file)."""
    uri = store_uri(uri)
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme == "duckdb":
        return DuckDBStore(uri)
    if scheme in ("parquet", "csv"):
        return FileStore(uri, scheme)
    if scheme.startswith("postgresql"):
        from pipelines.storage.postgres import PostgresStore

        return PostgresStore(uri)
    raise StoreError(
        f"unknown store URI {uri!r}: use duckdb:///file.duckdb (or a path ending in .duckdb), "
        "parquet:///dir, csv:///dir or postgresql+psycopg://user@host:port/db"
    )
