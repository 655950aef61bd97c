"""Spark validates the CRM inputs as the embedded path does: same rows, quarantine and counts.

One small synthetic CRM with bad rows of every kind planted, written to a Parquet store
(read by Spark itself) and a DuckDB store (read through pandas). Arrow batches are cut to
100 rows so that duplicates and orphans meet across batches, as they would at scale.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

# pyspark's toPandas still passes copy=False to astype, which pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")

from pipelines.contracts import ContractError, quarantine_rows  # noqa: E402
from pipelines.inputs import CrmTables, read_inputs, validate_inputs  # noqa: E402
from pipelines.spark import (  # noqa: E402
    contract_schema,
    read_inputs_spark,
    to_spark,  # noqa: E402
    validate_inputs_spark,
)
from pipelines.storage import TableNotFound, open_store  # noqa: E402
from pipelines.synthetic import generate_crm  # noqa: E402

RUN_ID = "run-spark-1"
BATCH_ROWS = "100"
SORT_KEYS = {
    "leads": ["lead_id"],
    "activities": ["lead_id", "occurred_at", "type", "value"],
    "stage_history": ["lead_id", "entered_at", "stage"],
}
QUARANTINE_KEY = ["table_name", "lead_id", "column", "check", "failure_case"]


def _planted_crm() -> dict[str, pd.DataFrame]:
    """A 200-lead CRM plus bad rows of every kind; the duplicates sit batches apart."""
    crm = generate_crm(200, seed=7)
    leads, activities, stages = crm["leads"], crm["activities"], crm["stage_history"]
    # A CRM export holds text: created_at as text, so that a bad value can be stored at all.
    leads = leads.assign(created_at=leads["created_at"].astype(str))
    dup_id, dup_bad_id = leads["lead_id"].iloc[10], leads["lead_id"].iloc[20]
    bad = leads.head(7).copy()
    bad["lead_id"] = ["BAD1", "BAD2", "BAD3", dup_id, dup_bad_id, None, None]
    bad.loc[bad.index[0], "employees"] = -5
    bad.loc[bad.index[1], "purchase_timeframe"] = "soonish"
    bad.loc[bad.index[2], "created_at"] = "not a date"
    bad.loc[bad.index[4], "budget"] = -1.0  # a duplicate that also fails a value check
    leads = pd.concat([leads, bad], ignore_index=True)
    first = activities.head(1)
    activities = pd.concat(
        [
            activities,
            first.assign(lead_id="NOPE"),  # unknown lead
            first.assign(type=None),  # no type
            first.assign(lead_id="BAD1"),  # a rejected lead's activity
            first.assign(lead_id="BAD3", type=None),  # fails its own check first
        ],
        ignore_index=True,
    )
    stages = pd.concat([stages, stages.head(1).assign(lead_id="NOPE")], ignore_index=True)
    return {"leads": leads, "activities": activities, "stage_history": stages}


@pytest.fixture(scope="module")
def planted() -> dict[str, pd.DataFrame]:
    return _planted_crm()


@pytest.fixture(scope="module")
def small_batches(spark: Any) -> Iterator[Any]:
    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", BATCH_ROWS)
    yield spark
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)


def _embedded_quarantine(tables: CrmTables) -> pd.DataFrame:
    parts = [quarantine_rows(RUN_ID, n, raw, bad) for n, (raw, bad) in tables.rejected.items()]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module", params=["parquet", "duckdb"])
def both(
    request: pytest.FixtureRequest,
    planted: dict[str, pd.DataFrame],
    small_batches: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """The planted CRM in a store, validated by the embedded path and by Spark."""
    root = tmp_path_factory.mktemp(request.param)
    uri = (
        f"parquet:///{root / 'crm'}"
        if request.param == "parquet"
        else f"duckdb:///{root / 'crm.duckdb'}"
    )
    store = open_store(uri)
    for name, frame in planted.items():
        store.write(name, frame)
    embedded = read_inputs(store)
    tables = read_inputs_spark(small_batches, uri, RUN_ID)
    collected = {
        name: getattr(tables, name).toPandas()
        for name in ("leads", "activities", "stage_history", "quarantine")
    }
    yield {"embedded": embedded, "spark": tables, "collected": collected, "uri": uri}
    tables.unpersist()


def _ddl_string(ddl: str) -> str:
    from pyspark.sql.types import StructType

    return StructType.fromDDL(ddl).simpleString()


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True, na_position="first")


@pytest.mark.parametrize("table", ["leads", "activities", "stage_history"])
def test_same_valid_rows_values_and_dtypes(both: dict[str, Any], table: str, spark: Any) -> None:
    expected = _sorted(getattr(both["embedded"], table), SORT_KEYS[table])
    frame = getattr(both["spark"], table)
    assert frame.schema.simpleString() == _ddl_string(contract_schema(table))
    through_spark = to_spark(spark, expected)  # a local relation: collected without a job
    assert frame.schema.simpleString() == through_spark.schema.simpleString()
    got = _sorted(both["collected"][table], SORT_KEYS[table])
    # As pyspark's toPandas gives them: the same as the embedded frame taken through Spark.
    pd.testing.assert_frame_equal(got, _sorted(through_spark.toPandas(), SORT_KEYS[table]))
    # And the same as the embedded frame itself, once given the contract's dtypes (toPandas
    # gives session-time-zone wall clocks, floats for nullable ints, objects for booleans).
    for column in got.columns[got.dtypes == "datetime64[us]"]:
        got[column] = got[column].dt.tz_localize(spark.conf.get("spark.sql.session.timeZone"))
    pd.testing.assert_frame_equal(got.astype(expected.dtypes.to_dict()), expected)


def test_same_quarantine_rows(both: dict[str, Any]) -> None:
    expected = _embedded_quarantine(both["embedded"])
    got = both["collected"]["quarantine"]
    assert list(got.columns) == list(expected.columns)
    assert (got["run_id"] == RUN_ID).all()

    def rows(frame: pd.DataFrame) -> Counter:
        """The rows as a multiset; the row JSON too, to the character."""
        values = frame.astype(object).where(frame.notna(), None)
        return Counter(zip(*(values[c] for c in [*QUARANTINE_KEY, "row"]), strict=True))

    assert rows(got) == rows(expected)
    for row in got["row"]:
        parsed = json.loads(row)
        assert "email" not in parsed and "phone" not in parsed
    assert not got["row"].str.contains("@").any()


def test_planted_rows_are_all_caught(
    both: dict[str, Any], planted: dict[str, pd.DataFrame]
) -> None:
    got = both["collected"]["quarantine"]
    checks = Counter(zip(got["table_name"], got["column"], got["check"], strict=True))
    timeframe = "isin(['0-1m', '1-3m', '3-6m', '6-12m', '12m+'])"
    assert checks[("leads", "employees", "greater_than_or_equal_to(0)")] == 1
    assert checks[("leads", "budget", "greater_than_or_equal_to(0)")] == 1
    assert checks[("leads", "purchase_timeframe", timeframe)] == 1
    assert checks[("leads", "created_at", "parse_timestamp")] == 1
    assert checks[("leads", "lead_id", "field_uniqueness")] == 4  # both copies of 2 ids
    assert checks[("leads", "lead_id", "not_nullable")] == 2  # null ids are no duplicates
    assert checks[("activities", "lead_id", "references_leads")] == 1
    assert checks[("activities", "type", "not_nullable")] == 2
    assert checks[("stage_history", "lead_id", "references_leads")] == 1
    leads = planted["leads"]
    followers = planted["activities"]["lead_id"].isin(
        [leads["lead_id"].iloc[10], leads["lead_id"].iloc[20], "BAD1", "BAD2", "BAD3"]
    )
    # BAD3's activity without type fails its own check, not lead_quarantined.
    assert checks[("activities", "lead_id", "lead_quarantined")] == followers.sum() - 1 > 1


def test_same_counts(both: dict[str, Any]) -> None:
    embedded, tables = both["embedded"], both["spark"]
    assert tables.raw_counts == embedded.raw_counts
    assert tables.rows_rejected == embedded.rows_rejected
    assert tables.rejected_counts == {
        name: int(bad["row_index"].nunique()) for name, (_, bad) in embedded.rejected.items()
    }
    assert len(both["collected"]["leads"]) == len(embedded.leads)


def test_missing_column_fails_as_embedded_before_any_job(
    spark: Any, planted: dict[str, pd.DataFrame]
) -> None:
    leads = planted["leads"].drop(columns=["created_at"])
    with pytest.raises(ContractError) as embedded:
        validate_inputs({"leads": leads, "activities": None, "stage_history": None})
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup()
    frame = to_spark(spark, leads)
    with pytest.raises(ContractError) as on_spark:
        validate_inputs_spark(spark, frame, None, None, RUN_ID)
    assert str(on_spark.value) == str(embedded.value)
    assert "\n" not in str(on_spark.value)
    assert spark.sparkContext.statusTracker().getJobIdsForGroup() == jobs


def test_a_table_broken_inside_a_batch_fails_as_embedded(
    spark: Any, planted: dict[str, pd.DataFrame]
) -> None:
    leads = planted["leads"].head(3)
    activities = pd.DataFrame(
        {"lead_id": ["L1"], "occurred_at": ["2025-01-01"], "type": ["call"], "value": [[1.0]]}
    )
    with pytest.raises(ContractError) as embedded:
        validate_inputs({"leads": leads, "activities": activities, "stage_history": None})
    frame = spark.createDataFrame(
        activities, "lead_id string, occurred_at string, type string, value array<double>"
    )
    with pytest.raises(ContractError) as on_spark:
        validate_inputs_spark(spark, to_spark(spark, leads), frame, None, RUN_ID)
    assert str(on_spark.value) == str(embedded.value)


def test_optional_tables_and_missing_leads(
    spark: Any, planted: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    uri = f"parquet:///{tmp_path / 'crm'}"
    with pytest.raises(TableNotFound) as on_spark:
        read_inputs_spark(spark, uri, RUN_ID)
    with pytest.raises(TableNotFound) as embedded:
        read_inputs(open_store(uri))
    assert str(on_spark.value) == str(embedded.value)

    open_store(uri).write("leads", planted["leads"].tail(7))  # the planted leads alone
    tables = read_inputs_spark(spark, uri, RUN_ID)
    expected = read_inputs(open_store(uri))
    assert tables.stage_history is None and expected.stage_history is None
    assert tables.activities.count() == 0
    assert tables.activities.schema.simpleString() == _ddl_string(contract_schema("activities"))
    assert (
        tables.raw_counts
        == expected.raw_counts
        == {
            "leads": 7,
            "activities": 0,
            "stage_history": 0,
        }
    )
    assert tables.rows_rejected == expected.rows_rejected == 6  # BAD1-3, budget, null ids
    tables.unpersist()
