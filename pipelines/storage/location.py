"""Where a store lives: whether it exists, and the files named after it.

Checking never creates anything: a mistyped ``--store`` must leave no folder, database or
lock file behind. Each store has its own model registry, a sqlite file beside it (see
:func:`registry_file`), so two CRMs never share a champion.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pipelines.storage.base import Store, StoreNotFound
from pipelines.storage.duckdb import DuckDBStore
from pipelines.storage.files import FileStore

REGISTRY_SUFFIX = ".mlflow.db"
CREATE_HINT = "create it with `leadscore generate` or `leadscore import`"


def require_store(store: Store) -> None:
    """Returns when the store holds a CRM (its ``leads`` table); creates nothing.

    Raises:
        StoreNotFound: one line naming the store and what is missing.
    """
    if isinstance(store, DuckDBStore) and not store.path.is_file():
        raise StoreNotFound(
            f"store {store.uri} does not exist (no file {store.path}); {CREATE_HINT}"
        )
    if isinstance(store, FileStore) and not store.root.is_dir():
        raise StoreNotFound(
            f"store {store.uri} does not exist (no directory {store.root}); {CREATE_HINT}"
        )
    if not store.exists("leads"):
        raise StoreNotFound(f"store {store.uri} holds no CRM (no table 'leads'); {CREATE_HINT}")


def registry_file(store: Store, data_dir: Path = Path("data")) -> Path:
    """The sqlite file of the store's own MLflow registry (artifacts: see ``models.configure``).

    ``X.duckdb`` → ``X.mlflow.db``; a Parquet or CSV directory → ``DIR/mlflow.db``; a
    database server → ``data/postgres-<schema>-<hash of host, port, database>.mlflow.db``.
    """
    if isinstance(store, DuckDBStore):
        return store.path.with_name(store.path.stem + REGISTRY_SUFFIX)
    if isinstance(store, FileStore):
        return store.root / "mlflow.db"
    # The URI is already masked (no password); the driver name must not change the file.
    address = re.sub(r"^[a-z0-9+]+://", "", store.uri)
    digest = hashlib.blake2b(address.encode(), digest_size=4).hexdigest()
    scheme = store.uri.split(":", 1)[0].split("+", 1)[0]
    schema = getattr(store, "schema", "public")
    return data_dir / f"{scheme}-{schema}-{digest}{REGISTRY_SUFFIX}"
