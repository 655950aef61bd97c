"""Named tables behind one URI: a DuckDB file, a Parquet or CSV directory, or PostgreSQL.

``open_store(uri)`` returns a :class:`Store`. Every write is atomic: a reader sees the old
table or the new one, never a mix, and a process killed mid-write leaves the old one.

URIs (SQLAlchemy-style: three slashes then a relative path, four for an absolute one):
``duckdb:///data/leadscore.duckdb``, ``parquet:///data/crm``, ``csv:////tmp/crm``,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
"""

from pipelines.storage.base import (
    DEFAULT_STORE,
    Append,
    Frames,
    Operation,
    Overwrite,
    Part,
    Replace,
    Store,
    StoreError,
    StoreLocked,
    StoreNotFound,
    TableNotFound,
    check_name,
    frames_of,
    public_uri,
)
from pipelines.storage.duckdb import LOCK_WAIT_ENV
from pipelines.storage.extent import latest_time
from pipelines.storage.files import write_atomically, write_frame_atomically
from pipelines.storage.location import registry_file, require_store
from pipelines.storage.metadata import (
    METADATA_TABLE,
    metadata_operation,
    read_metadata,
    store_id,
    write_metadata,
)
from pipelines.storage.partitions import (
    recover_partitions,
    staging_dir,
    swap_in_partitions,
)
from pipelines.storage.scans import OpenSlices, RawInputs, read_open_rows, slice_open_rows
from pipelines.storage.uri import open_store, store_uri

__all__ = [
    "DEFAULT_STORE",
    "LOCK_WAIT_ENV",
    "METADATA_TABLE",
    "Append",
    "Frames",
    "Operation",
    "Overwrite",
    "OpenSlices",
    "Part",
    "RawInputs",
    "Replace",
    "Store",
    "StoreError",
    "StoreLocked",
    "StoreNotFound",
    "TableNotFound",
    "check_name",
    "frames_of",
    "latest_time",
    "metadata_operation",
    "open_store",
    "public_uri",
    "read_metadata",
    "read_open_rows",
    "recover_partitions",
    "registry_file",
    "require_store",
    "slice_open_rows",
    "staging_dir",
    "store_id",
    "store_uri",
    "swap_in_partitions",
    "write_atomically",
    "write_frame_atomically",
    "write_metadata",
]
