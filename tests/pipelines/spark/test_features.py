"""Spark and DuckDB build the same feature frame from the same generated SQL.

One small synthetic CRM, training snapshots at several dates and a scoring snapshot at a
sub-second T, plus hand-made leads at the edges: events exactly at T, a T below the
microsecond, a stage missing from the configured order and a tie in ``entered_at``. The
Spark session is started once (``spark`` fixture) and each engine runs once per case.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.features.frame import build_feature_frame
from pipelines.features.snapshots import build_snapshots, open_at, snapshots_at
from pipelines.spark import (
    SparkUnavailable,
    build_feature_frame_spark,
    java_executable,
    spark_session,
    to_spark,
)
from pipelines.synthetic import generate_crm
from tests.paths import REPO

US = pd.Timedelta(microseconds=1)
DAY = pd.Timedelta(days=1)
T_SCORE = pd.Timestamp("2026-09-14T09:30:15.123456Z")  # scoring time, not on a second
T_NANO = pd.Timestamp("2026-08-03T17:05:09.987654321Z")  # below the microsecond: floored
TRAIN_DATES = list(pd.date_range("2025-03-03", "2026-09-07", freq="8W-MON", tz="UTC"))


def _edge_tables(crm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The CRM plus three hand-made leads whose events sit at the edges of T."""
    leads = crm["leads"].iloc[:3].copy()
    leads["lead_id"] = ["EDGE", "NANO", "TIE"]
    leads["created_at"] = (T_SCORE - 60 * DAY).floor("s")
    leads[["converted_at", "lost_at"]] = pd.NaT
    floored = T_NANO.floor("us")
    acts = [
        ("EDGE", T_SCORE, "demo_request", 3.0),  # exactly at T: never seen
        ("EDGE", T_SCORE - US, "web_visit", 2.0),
        ("EDGE", T_SCORE - 2 * DAY, "pricing_page_view", np.nan),
        ("EDGE", T_SCORE - 7 * DAY, "email_open", np.nan),  # in the 7-day window ...
        ("EDGE", T_SCORE - 7 * DAY - US, "email_open", np.nan),  # ... and just out of it
        ("EDGE", T_SCORE + DAY, "meeting", 1.0),
        ("NANO", floored, "meeting", 1.0),  # before T in ns, not once T is floored to µs
        ("NANO", floored - US, "email_open", np.nan),
        ("TIE", T_SCORE - 3 * DAY, "custom_type", 5.0),  # counted as "other"
    ]
    stages = [
        ("EDGE", "new", T_SCORE - 20 * DAY),
        ("EDGE", "qualified", T_SCORE - 10 * DAY),
        ("EDGE", "contacted", T_SCORE - 5 * DAY),  # a move back
        ("EDGE", "proposal", T_SCORE),  # exactly at T: never seen
        ("NANO", "contacted", floored),
        ("NANO", "new", floored - US),
        ("TIE", "new", T_SCORE - 20 * DAY),
        ("TIE", "pilot", T_SCORE - 3 * DAY),  # not in the configured order, tied with ...
        ("TIE", "contacted", T_SCORE - 3 * DAY),  # ... a known stage: the known one first
    ]
    return {
        "leads": pd.concat([crm["leads"], leads], ignore_index=True),
        "activities": _append(crm["activities"], acts),
        "stage_history": _append(crm["stage_history"], stages),
    }


def _append(table: pd.DataFrame, rows: list[tuple]) -> pd.DataFrame:
    extra = pd.DataFrame(rows, columns=table.columns).astype(table.dtypes.to_dict())
    return pd.concat([table, extra], ignore_index=True)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return _edge_tables(generate_crm(300, seed=29))


@pytest.fixture(scope="module")
def snapshots(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Training rows at several dates, the open leads at T_SCORE, the edge leads at T_NANO."""
    leads = tables["leads"]
    training = build_snapshots(leads, TRAIN_DATES)
    scoring = snapshots_at(leads.loc[open_at(leads, T_SCORE), "lead_id"], T_SCORE)
    nano = pd.DataFrame(
        {
            "lead_id": ["EDGE", "NANO", "TIE"],
            "snapshot_at": pd.Series([T_NANO] * 3, dtype="datetime64[ns, UTC]"),
        }
    )
    frame = pd.concat([training, scoring, nano], ignore_index=True)
    assert frame["snapshot_at"].dt.unit == "ns" and frame["label"].isna().sum() == len(scoring) + 3
    return frame


@pytest.fixture(scope="module")
def with_stages(spark, tables, snapshots) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Spark, DuckDB) feature frames of every snapshot, with stage history."""
    args = (tables["leads"], tables["activities"], tables["stage_history"], snapshots)
    return build_feature_frame_spark(spark, *args), build_feature_frame(*args)


def assert_same_features(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, dtypes and row order; numbers to 1e-9, text exactly."""
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-9)
    text = expected.columns[expected.dtypes.map(lambda d: d.kind not in "fiumM")]
    pd.testing.assert_frame_equal(got[text], expected[text], check_exact=True)


def test_spark_matches_duckdb(with_stages: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    got, expected = with_stages
    assert_same_features(got, expected)
    # The comparison has teeth: many rows, most with events, every kind of value present.
    assert len(expected) > 500 and expected["snapshot_at"].nunique() > len(TRAIN_DATES)
    assert (expected["eng_total_count"] > 0).mean() > 0.5
    assert expected["eng_days_since_high_intent"].isna().any()
    assert expected["stage_backward_moves"].gt(0).any()
    assert expected["stage_current"].nunique() >= 4 and expected["stage_current"].isna().any()


def test_events_at_t_are_excluded_on_spark(
    with_stages: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    got, _ = with_stages
    at_score = got[got["snapshot_at"] == T_SCORE].set_index("lead_id")
    edge = at_score.loc["EDGE"]
    assert edge["eng_total_count"] == 4 and edge["eng_demo_request_count"] == 0
    assert edge["eng_total_7d"] == 3 and edge["eng_email_open_7d"] == 1
    assert edge["eng_value_sum"] == 2.0
    # Epoch seconds as DOUBLE resolve about 2.4e-7 s around 2026.
    assert edge["eng_days_since_last"] == pytest.approx(1e-6 / 86400, abs=1e-11)
    assert edge["stage_current"] == "contacted" and edge["stage_backward_moves"] == 1
    assert edge["stage_distinct_stages"] == 3
    assert edge["stage_days_in_stage"] == pytest.approx(5.0, abs=1e-9)
    tie = at_score.loc["TIE"]  # the unknown stage sorts last and is no move back
    assert tie["stage_current"] == "pilot" and tie["stage_backward_moves"] == 0
    assert tie["eng_other_count"] == 1 and tie["eng_total_count"] == 1
    at_nano = got[got["snapshot_at"] == T_NANO].set_index("lead_id")
    nano = at_nano.loc["NANO"]
    assert nano["eng_total_count"] == 1 and nano["eng_email_open_count"] == 1
    assert nano["stage_current"] == "new" and nano["stage_distinct_stages"] == 1
    assert at_nano.loc["EDGE", "eng_total_count"] == 0  # silent before T: zero, not missing
    assert np.isnan(at_nano.loc["EDGE", "eng_days_since_last"])


def test_spark_matches_duckdb_without_stage_history_from_spark_frames(
    spark, tables: dict[str, pd.DataFrame], snapshots: pd.DataFrame
) -> None:
    """No stage history; the large table arrives as a Spark DataFrame."""
    scoring = snapshots[snapshots["label"].isna()].drop(columns="label")
    activities = to_spark(spark, tables["activities"])
    got = build_feature_frame_spark(spark, tables["leads"], activities, None, scoring)
    expected = build_feature_frame(tables["leads"], tables["activities"], None, scoring)
    assert_same_features(got, expected)
    assert expected["stage_current"].isna().all() and (expected["eng_total_count"] > 0).any()


def test_to_spark_keeps_contract_types_and_microseconds(spark) -> None:
    frame = pd.DataFrame(
        {
            "lead_id": pd.array(["a", None], dtype="str"),
            "at": pd.Series(
                pd.to_datetime(["2026-01-01T00:00:00.000001Z", None], utc=True),
                dtype="datetime64[us, UTC]",
            ),
            "value": [1.5, np.nan],
            "employees": pd.array([3, None], dtype="Int64"),
            "flag": pd.array([True, None], dtype="boolean"),
        }
    )
    out = to_spark(spark, frame)
    assert [f.dataType.simpleString() for f in out.schema.fields] == [
        "string",
        "timestamp",
        "double",
        "bigint",
        "boolean",
    ]
    rows = out.selectExpr(
        "lead_id", "unix_micros(at) AS us", "value", "employees", "flag"
    ).collect()
    assert [tuple(r) for r in rows] == [("a", 1767225600000001, 1.5, 3, True), (None,) * 5]
    nanos = pd.DataFrame({"at": pd.Series([T_NANO], dtype="datetime64[ns, UTC]")})
    with pytest.raises(pa.ArrowInvalid):  # rather than silently dropping digits
        to_spark(spark, nanos)


def test_session_settings(spark) -> None:
    """UTC, Arrow and no web UI by default; the fixture's own shuffle partitions win."""
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert spark.conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert spark.sparkContext.master == "local[2]"
    # Python workers run this interpreter (it has pandas and leadscore), not python3 on PATH.
    assert spark.sparkContext.pythonExec == sys.executable


def test_no_java_is_a_clear_error(spark, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert java_executable() is None
    monkeypatch.setattr(SparkSession, "getActiveSession", lambda: None)
    with pytest.raises(SparkUnavailable, match="no Java runtime found"):
        spark_session()


def test_the_package_works_without_pyspark() -> None:
    """pyspark is imported only when Spark is used; without it the error says what to install."""
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import pipelines.features, pipelines.spark as se\n"
        "try:\n    se.spark_session()\nexcept se.SparkUnavailable as err:\n    print(err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "pyspark is not installed: pip install 'leadscore[spark]'"
