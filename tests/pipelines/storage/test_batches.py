"""A batch of writes lands whole or not at all, on every store, even when its writer dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipelines.storage import Append, Overwrite, Replace, Store, open_store
from pipelines.storage import journal as journal_module
from tests.paths import REPO
from tests.pipelines.storage.test_postgres import pg_uri, server  # noqa: F401 (fixtures)

OLD_A = pd.DataFrame({"id": ["a1", "a2", "a3"], "x": [1.0, 2.0, 3.0]})
OLD_B = pd.DataFrame({"id": ["b1", "b2"], "y": ["p", "q"]})


@pytest.fixture(
    params=["duckdb", "parquet", "csv", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    kind = request.param
    target = tmp_path / ("crm.duckdb" if kind == "duckdb" else "crm")
    uri = request.getfixturevalue("pg_uri") if kind == "postgres" else f"{kind}:///{target}"
    store = open_store(uri)
    store.write("a", OLD_A)
    store.write("b", OLD_B)
    return store


def _ids(store: Store, table: str) -> list[str]:
    return sorted(store.read(table)["id"].astype(str))


def test_overwrite_replaces_rows_and_columns_with_the_other_operations(store: Store) -> None:
    new_a = pd.DataFrame({"id": ["n1"], "z": ["new column"]})
    store.write_batch(
        [
            Overwrite("a", new_a),
            Replace("b", pd.DataFrame({"id": ["b9"], "y": ["r"]}), "id", "b1"),
            Append("c", pd.DataFrame({"id": ["c1"]})),
        ]
    )
    a = store.read("a")
    assert list(a.columns) == ["id", "z"] and a["id"].tolist() == ["n1"]
    assert _ids(store, "b") == ["b2", "b9"]
    assert _ids(store, "c") == ["c1"]


def test_an_empty_overwrite_leaves_an_empty_table_with_its_columns(store: Store) -> None:
    store.write_batch([Overwrite("a", OLD_A.iloc[:0])])
    assert store.count("a") == 0
    assert "x" in store.read("a").columns


def test_a_failure_between_tables_leaves_every_old_table(store: Store) -> None:
    def frames() -> Iterator[pd.DataFrame]:
        yield pd.DataFrame({"id": ["b7"], "y": ["s"]})
        raise RuntimeError("the export broke half way")

    with pytest.raises(RuntimeError, match="half way"):
        store.write_batch([Overwrite("a", OLD_A.iloc[:1]), Overwrite("b", frames())])
    assert _ids(store, "a") == ["a1", "a2", "a3"]
    assert _ids(store, "b") == ["b1", "b2"]
    if store.location is not None and store.uri.startswith(("parquet", "csv")):
        assert not [p for p in store.location.iterdir() if p.name.endswith(".staged")]


def test_a_batch_committed_but_cut_off_before_its_renames_is_finished_by_the_next_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"parquet:///{tmp_path / 'crm'}")
    store.write("a", OLD_A)
    store.write("b", OLD_B)

    def killed(root: Path, moves: list[tuple[str, str]]) -> None:
        os.replace(root / moves[0][0], root / moves[0][1])  # one table moved, then death
        raise SystemExit("killed")

    monkeypatch.setattr(journal_module, "_apply", killed)
    with pytest.raises(SystemExit):
        store.write_batch([Overwrite("a", OLD_A.iloc[:1]), Overwrite("b", OLD_B.iloc[:1])])
    monkeypatch.undo()
    assert (tmp_path / "crm" / journal_module.JOURNAL_NAME).exists()
    fresh = open_store(store.uri)
    assert _ids(fresh, "a") == ["a1"]
    assert _ids(fresh, "b") == ["b1"]
    assert not (tmp_path / "crm" / journal_module.JOURNAL_NAME).exists()


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pandas as pd
    from pipelines.storage import Overwrite, open_store

    uri, marker = sys.argv[1], Path(sys.argv[2])

    def frames():
        yield pd.DataFrame({"id": ["b7"], "y": ["s"]})
        marker.write_text("half way")
        time.sleep(60)
        yield pd.DataFrame({"id": ["b8"], "y": ["t"]})

    open_store(uri).write_batch(
        [Overwrite("a", pd.DataFrame({"id": ["n1"], "x": [9.0]})), Overwrite("b", frames())]
    )
    """
)


def test_a_writer_killed_mid_batch_leaves_the_old_tables(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, store.uri, str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    reopened = open_store(store.uri)
    assert _ids(reopened, "a") == ["a1", "a2", "a3"]
    assert _ids(reopened, "b") == ["b1", "b2"]
    reopened.write_batch([Append("b", pd.DataFrame({"id": ["b3"], "y": ["r"]}))])
    assert _ids(reopened, "b") == ["b1", "b2", "b3"]
    if reopened.uri.startswith(("parquet", "csv")):
        assert not [p for p in reopened.location.iterdir() if p.name.endswith(".staged")]
