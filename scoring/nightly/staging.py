"""A run's rows on local disk until they are published: a scratch DuckDB file.

The scorer scores one slice of the leads at a time and stages each slice's rows here, so
ranking every lead and streaming the list into the store never need it all in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from pipelines.storage import check_name


class Staging:
    """Scratch tables for one run, deleted when the run ends (or the process dies: the
    directory lives under the system's temporary directory, ``$TMPDIR``).

    Args:
        memory_limit: DuckDB's memory limit for sorting and ranking (spills to disk beyond).
        threads: DuckDB threads (default: all cores).
    """

    def __init__(self, memory_limit: str = "512MB", threads: int | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="leadscore-run-")
        self.con = duckdb.connect(str(Path(self._dir.name) / "run.duckdb"))
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{Path(self._dir.name) / 'spill'}'")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    @property
    def directory(self) -> Path:
        """The run's scratch directory (removed with the staging)."""
        return Path(self._dir.name)

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        self._dir.cleanup()

    def create(self, table: str, template: pd.DataFrame) -> None:
        """Creates ``table`` with the columns and types of ``template`` (an empty frame):
        a slice whose column is all null must not decide that column's type."""
        self.con.register("template", template)
        self.con.execute(f'CREATE TABLE "{check_name(table)}" AS SELECT * FROM template LIMIT 0')
        self.con.unregister("template")

    def add(self, table: str, frame: pd.DataFrame) -> None:
        """Appends ``frame``'s rows to ``table`` by column name."""
        if frame.empty:
            return
        self.con.register("incoming", frame)
        self.con.execute(f'INSERT INTO "{check_name(table)}" BY NAME SELECT * FROM incoming')
        self.con.unregister("incoming")

    def rows(self, table: str) -> int:
        return int(self.con.execute(f'SELECT count(*) FROM "{check_name(table)}"').fetchall()[0][0])

    def stream(self, query: str, batch_rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """The query's rows as pandas frames of at most ``batch_rows`` rows, in order."""
        reader: Any = self.con.sql(query).to_arrow_reader(batch_rows)
        for batch in reader:
            yield batch.to_pandas()
