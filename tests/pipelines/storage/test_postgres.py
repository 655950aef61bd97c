"""PostgresStore against a real server: round trips, partitions, locks and killed writers.

Needs PostgreSQL at ``$LEADSCORE_TEST_POSTGRES`` (default: postgres@127.0.0.1:5432/test).
Each test works in a schema of its own, dropped afterwards. Without a server the tests
skip, except under CI (``$CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
import psycopg
import pytest

from pipelines.contracts import validate_table
from pipelines.inputs import stored_data_end
from pipelines.storage import (
    Append,
    Replace,
    StoreError,
    StoreLocked,
    TableNotFound,
    latest_time,
    open_store,
)
from pipelines.storage.postgres import PostgresStore
from tests.paths import REPO
from tests.pipelines.storage.test_extent import (
    test_latest_time_of_typed_text_and_empty_columns as check_latest_time,
)
from tests.pipelines.storage.test_extent import (
    test_stored_data_end_agrees_with_the_validated_tables as check_stored_data_end,
)
from tests.pipelines.storage.test_stores import (
    assert_parts_split_by_lead,
    assert_streamed_frames_land_together,
)

pytestmark = pytest.mark.postgres

BASE_URI = os.environ.get(
    "LEADSCORE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROOT = REPO
DAY1 = pd.Timestamp("2026-01-01", tz="UTC")
DAY2 = pd.Timestamp("2026-01-02", tz="UTC")

# Runs one write in a child process; with "pause" it stops after the last statement of the
# transaction, before COMMIT, and waits to be killed.
WRITER = """
import contextlib, sys, time
import pandas as pd
from pipelines.storage import Append, Replace
from pipelines.storage.postgres import PostgresStore

uri, operation, pause, rows = sys.argv[1], sys.argv[2], sys.argv[3] == "pause", int(sys.argv[4])
original = PostgresStore._transaction

@contextlib.contextmanager
def paused(self):
    with original(self) as cursor:
        yield cursor
        print("in-transaction", flush=True)
        time.sleep(600)

if pause:
    PostgresStore._transaction = paused
day = pd.Timestamp("2026-01-01", tz="UTC")
new = pd.DataFrame({"as_of": day, "lead_id": [f"new{i}" for i in range(rows)], "probability": 0.9})
store = PostgresStore(uri)
print("started", flush=True)
if operation == "write":
    store.write("lead_scores", new)
elif operation == "replace_partition":
    store.replace_partition("lead_scores", new, "as_of", day)
elif operation == "append":
    store.append("lead_scores", new)
else:
    store.write_batch([Replace("lead_scores", new, "as_of", day), Append("runs", new.head(1))])
print("committed", flush=True)
"""

LOCKER = """
import sys, time
from pipelines.storage.postgres import PostgresStore

with PostgresStore(sys.argv[1]).lock("scoring"):
    print("locked", flush=True)
    time.sleep(600)
"""


def _conninfo() -> str:
    return BASE_URI.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def server() -> None:
    """Fails under CI, and skips elsewhere, when the PostgreSQL server is unreachable."""
    try:
        psycopg.connect(_conninfo(), connect_timeout=3).close()
    except psycopg.Error as err:
        reason = str(err).strip().splitlines()[0]
        message = f"PostgreSQL unreachable at {PostgresStore(BASE_URI).uri}: {reason}"
        if os.environ.get("CI"):
            pytest.fail(
                f"{message} (under CI the server is required: start it or point LEADSCORE_TEST_POSTGRES at one)"
            )
        pytest.skip(f"{message} (set LEADSCORE_TEST_POSTGRES to run these tests)")


@pytest.fixture
def pg_uri(server: None) -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield f"{BASE_URI}{'&' if '?' in BASE_URI else '?'}schema={schema}"
    with psycopg.connect(_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(pg_uri: str) -> Iterator[PostgresStore]:
    opened = open_store(pg_uri)
    assert isinstance(opened, PostgresStore)
    yield opened
    opened.close()


def _scores(day: pd.Timestamp, ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"as_of": day, "lead_id": ids, "probability": [0.5] * len(ids)}).astype(
        {"as_of": "datetime64[us, UTC]"}
    )


def _by_day(frame: pd.DataFrame) -> dict[str, list[str]]:
    days = frame["as_of"].dt.strftime("%Y-%m-%d")
    return frame.groupby(days)["lead_id"].apply(sorted).to_dict()


def _tables(store: PostgresStore) -> set[str]:
    with psycopg.connect(_conninfo()) as conn:
        found = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [store.schema]
        ).fetchall()
    return {name for (name,) in found}


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def _wait_for(child: subprocess.Popen[str], line: str, timeout: float = 120) -> None:
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([child.stdout], [], [], 0.1)[0]:
            got = child.stdout.readline().strip()
            if got == line:
                return
            assert got, f"child exited (rc={child.poll()}) before printing {line!r}"
    raise AssertionError(f"child did not print {line!r} within {timeout} s")


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


def _enter(context: contextlib.AbstractContextManager[None]) -> None:
    with context:
        pass


def test_round_trip_through_the_contract(store, small_crm: dict[str, pd.DataFrame]) -> None:
    leads = small_crm["leads"].reset_index(drop=True)
    store.write("leads", leads)
    raw = store.read("leads")
    assert raw["created_at"].dtype == "datetime64[us, UTC]"
    assert raw["employees"].dtype == "Int64"
    assert raw["is_decision_maker"].dtype == "boolean"
    back = validate_table("leads", raw)
    pd.testing.assert_frame_equal(back, leads, check_exact=True)


def test_pandas_types_map_to_postgres_types(store) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None], dtype="str"),
            "real": [0.1, np.nan],
            "count": np.array([1, 2], dtype="int64"),
            "maybe_count": pd.array([3, None], dtype="Int64"),
            "flag": [True, False],
            "maybe_flag": pd.array([True, None], dtype="boolean"),
            "at": pd.to_datetime(["2026-01-01 12:00:00.123456", None], utc=True),
            "naive_at": pd.to_datetime(["2026-01-01 12:00:00", None]),
        }
    )
    store.write("typed", frame)
    with psycopg.connect(_conninfo()) as conn:
        types: dict[str, str] = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = 'typed'",
                [store.schema],
            ).fetchall()
        )
    assert types == {
        "text": "text",
        "real": "double precision",
        "count": "bigint",
        "maybe_count": "bigint",
        "flag": "boolean",
        "maybe_flag": "boolean",
        "at": "timestamp with time zone",
        "naive_at": "timestamp with time zone",
    }
    back = store.read("typed")
    assert back.isna().sum().tolist() == [1, 1, 0, 1, 0, 1, 1, 1]
    assert back["at"][0] == pd.Timestamp("2026-01-01 12:00:00.123456", tz="UTC")
    assert back["naive_at"][0] == pd.Timestamp("2026-01-01 12:00:00", tz="UTC")  # naive = UTC
    assert back["maybe_count"][0] == 3 and bool(back["maybe_flag"][0]) is True


@pytest.mark.parametrize("line_breaks", [False, True], ids=["one-line", "multi-line"])
def test_text_survives_exactly_across_parser_blocks(store, line_breaks: bool) -> None:
    # ~3 MB of text spans several of Arrow's 1 MB parser blocks.
    tricky = ["", "NA", "n/a", "null", "NULL", 'say "hi", twice', "back\\slash", "é€😀", " "]
    breaks = ["\n", "\r\n", "\r"] if line_breaks else [""]
    values: list[str | None] = [
        tricky[i % 9] + breaks[i % len(breaks)] + "x" * (i % 200) for i in range(30_000)
    ]
    values[::7] = [None] * len(values[::7])
    frame = pd.DataFrame({"id": range(len(values)), "value": pd.Series(values, dtype="str")})
    store.write("texts", frame)
    back = store.read("texts")
    pd.testing.assert_series_equal(back["value"], frame["value"])
    assert back["value"].isna().sum() == frame["value"].isna().sum()


def test_replace_partition_replaces_only_that_date(store) -> None:
    store.replace_partition("lead_scores", _scores(DAY1, ["a", "b"]), "as_of", DAY1)
    store.replace_partition("lead_scores", _scores(DAY2, ["a", "b", "c"]), "as_of", DAY2)
    store.replace_partition("lead_scores", _scores(DAY1, ["z"]), "as_of", DAY1)
    assert _by_day(store.read("lead_scores")) == {
        "2026-01-01": ["z"],
        "2026-01-02": ["a", "b", "c"],
    }


def test_append_adds_rows_and_creates_the_table(store) -> None:
    store.append("scoring_runs", _scores(DAY1, ["a"]))
    store.append("scoring_runs", _scores(DAY2, ["b", "c"]))
    assert _by_day(store.read("scoring_runs")) == {"2026-01-01": ["a"], "2026-01-02": ["b", "c"]}


def test_write_batch_lands_all_or_nothing(store) -> None:
    store.write("lead_scores", _scores(DAY1, ["a"]))
    store.write("runs", pd.DataFrame({"run_id": ["r1"], "rows": [1]}))
    broken = pd.DataFrame({"run_id": ["r2"], "rows": ["not a number"]})
    with pytest.raises(StoreError, match="bigint"):
        store.write_batch(
            [
                Replace("lead_scores", _scores(DAY1, ["x", "y"]), "as_of", DAY1),
                Append("runs", broken),
            ]
        )
    assert _by_day(store.read("lead_scores")) == {"2026-01-01": ["a"]}
    assert store.read("runs")["run_id"].tolist() == ["r1"]


def test_missing_table_is_a_clear_error(store) -> None:
    assert not store.exists("leads")  # neither the table nor the schema exists yet
    with pytest.raises(TableNotFound, match="no table 'leads'"):
        store.read("leads")
    store.write("other", _scores(DAY1, ["a"]))
    assert store.exists("other") and not store.exists("leads")
    with pytest.raises(TableNotFound, match="no table 'leads'"):
        store.read("leads")


def test_bad_table_name_is_rejected(store) -> None:
    with pytest.raises(StoreError, match="invalid table name"):
        store.write("leads; drop table x", pd.DataFrame({"a": [1]}))
    with pytest.raises(StoreError, match="invalid table name"):
        store.read("x" * 64)


def test_lock_stops_a_second_run(store, pg_uri: str) -> None:
    other = PostgresStore(pg_uri)  # another engine, as another process would have
    with store.lock("scoring"):
        with (
            pytest.raises(StoreLocked, match="another 'scoring' run holds the lock on postgres"),
            other.lock("scoring"),
        ):
            pass
        with other.lock("training"):  # another name is another lock
            pass
    with other.lock("scoring"):  # released after the first run
        pass
    other.close()


def test_lock_dies_with_its_process(store, pg_uri: str) -> None:
    child = _spawn(LOCKER, pg_uri)
    try:
        _wait_for(child, "locked")
        with pytest.raises(StoreLocked), store.lock("scoring"):
            pass
    finally:
        _kill(child)
    deadline = time.monotonic() + 10  # the server ends the dead session asynchronously
    while True:
        try:
            with store.lock("scoring"):
                return
        except StoreLocked:
            if time.monotonic() > deadline:
                raise


def test_unreachable_server_is_one_line_error_without_the_password() -> None:
    down = PostgresStore("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test?schema=x")
    assert "s3cret" not in down.uri and "s3cret" not in repr(down)
    for call in (lambda: down.read("leads"), lambda: _enter(down.lock())):
        with pytest.raises(StoreError) as caught:
            call()
        message = str(caught.value)
        assert "s3cret" not in message and "\n" not in message
        assert message.startswith("store postgresql+psycopg://postgres:***@127.0.0.1:1/test")
        assert "Connection refused" in message or "failed" in message


def test_unknown_database_is_a_store_error(server: None) -> None:
    uri = BASE_URI.rsplit("/", 1)[0] + "/no_such_database_for_leadscore"
    with pytest.raises(StoreError, match='database "no_such_database_for_leadscore" does not'):
        open_store(uri).exists("leads")


def test_plain_postgresql_uri_and_other_drivers(pg_uri: str) -> None:
    plain = open_store(pg_uri.replace("postgresql+psycopg://", "postgresql://"))
    plain.write("t", _scores(DAY1, ["a"]))
    assert plain.read("t")["lead_id"].tolist() == ["a"]
    plain.close()  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="use postgresql\\+psycopg"):
        open_store("postgresql+psycopg2://postgres@127.0.0.1/test")
    with pytest.raises(StoreError, match="invalid schema name"):
        open_store("postgresql://postgres@127.0.0.1/test?schema=Bad-Name")


@pytest.mark.parametrize("operation", ["write", "replace_partition", "append", "write_batch"])
def test_writer_killed_before_commit_leaves_the_old_rows(store, pg_uri, operation) -> None:
    store.replace_partition("lead_scores", _scores(DAY1, ["a", "b"]), "as_of", DAY1)
    store.replace_partition("lead_scores", _scores(DAY2, ["c"]), "as_of", DAY2)
    old = {"2026-01-01": ["a", "b"], "2026-01-02": ["c"]}
    child = _spawn(WRITER, pg_uri, operation, "pause", "20000")
    try:
        _wait_for(child, "in-transaction")  # every statement ran, COMMIT did not
        if operation != "write":  # write holds an exclusive lock: readers wait, then see new
            assert _by_day(store.read("lead_scores")) == old  # no reader sees a half write
    finally:
        _kill(child)
    assert _by_day(store.read("lead_scores")) == old
    assert _tables(store) == {"lead_scores"}  # no staging table, no half-created table


def test_writer_killed_mid_copy_leaves_the_old_rows(store, pg_uri) -> None:
    store.replace_partition("lead_scores", _scores(DAY1, ["a", "b"]), "as_of", DAY1)
    store.replace_partition("lead_scores", _scores(DAY2, ["c"]), "as_of", DAY2)
    child = _spawn(WRITER, pg_uri, "replace_partition", "stream", "1000000")
    try:
        _wait_for(child, "started")
        progress = (
            "SELECT 1 FROM pg_stat_progress_copy "
            "WHERE relid = %s::regclass AND tuples_processed > 0"
        )
        with psycopg.connect(_conninfo(), autocommit=True) as conn:
            deadline = time.monotonic() + 120
            while not conn.execute(progress, [f"{store.schema}.lead_scores"]).fetchone():
                assert child.poll() is None, "the writer finished before it could be killed"
                assert time.monotonic() < deadline, "the COPY never started"
                time.sleep(0.005)
    finally:
        _kill(child)
    assert _by_day(store.read("lead_scores")) == {"2026-01-01": ["a", "b"], "2026-01-02": ["c"]}


@pytest.mark.bench
def test_bench_million_rows(store, small_crm: dict[str, pd.DataFrame]) -> None:
    leads = small_crm["leads"]
    rows = 1_000_000
    big = pd.concat([leads] * (rows // len(leads) + 1), ignore_index=True).head(rows)
    big["lead_id"] = pd.Series([f"L{i:08d}" for i in range(rows)], dtype="str")
    started = time.perf_counter()
    store.write("leads", big)
    wrote = time.perf_counter() - started
    started = time.perf_counter()
    back = store.read("leads")
    read = time.perf_counter() - started
    started = time.perf_counter()
    store.replace_partition("leads", big.head(100_000), "source", "web_form")
    replaced = time.perf_counter() - started
    print(
        f"\npostgres {rows:,} rows x {big.shape[1]} columns: write {wrote:.1f} s, "
        f"read {read:.1f} s; replace_partition of 100k rows into it {replaced:.1f} s"
    )
    pd.testing.assert_frame_equal(validate_table("leads", back), big, check_exact=True)
    assert wrote < 120 and read < 120  # generous: CI machines are slow and shared


def test_parts_split_every_table_by_lead(store, small_crm: dict[str, pd.DataFrame]) -> None:
    assert_parts_split_by_lead(store, small_crm)


def test_streamed_frames_land_together_or_not_at_all(store) -> None:
    assert_streamed_frames_land_together(store)


def test_metadata_lives_in_the_schema(store: PostgresStore) -> None:
    from pipelines.storage import read_metadata, store_id, write_metadata

    assert read_metadata(store) == {}
    given = store_id(store)
    write_metadata(store, data_origin="imported")
    assert read_metadata(store) == {"store_id": given, "data_origin": "imported"}


def test_latest_time_is_asked_of_the_server(
    pg_uri: str,
    small_crm: dict[str, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = open_store(pg_uri)
    check_latest_time(store)
    check_stored_data_end(store, small_crm)
    # Typed columns need no read of the rows.
    monkeypatch.setattr(PostgresStore, "read", lambda *a, **k: pytest.fail("read the rows"))
    assert latest_time(store, "t", "typed") == pd.Timestamp("2026-03-01 10:00", tz="UTC")
    assert stored_data_end(store) is not None
