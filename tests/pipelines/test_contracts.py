"""The contract rejects broken tables with one line naming table, column and check."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.contracts import ContractError, quarantine_rows, split_valid, validate_table


def _leads(**overrides: list) -> pd.DataFrame:
    base = {
        "lead_id": ["L1", "L2", "L3"],
        "created_at": ["2025-01-01", "2025-01-02T08:00:00Z", "2025-01-03"],
        "source": ["web_form", None, "event"],
        "owner_id": ["rep_1", "rep_2", None],
        "company": ["Acme", None, "Initech"],
        "industry": ["software", None, "retail"],
        "employees": [10, None, 500],
        "annual_revenue": [1e6, None, 5e7],
        "country": ["US", "DE", None],
        "job_title": ["VP Sales", None, "intern"],
        "email": ["ann@acme.com", "bob@gmail.com", None],
        "phone": ["+1 555 0100", None, None],
        "budget": [5000.0, None, 100.0],
        "purchase_timeframe": ["0-1m", None, "12m+"],
        "need": ["replace our CRM", None, None],
        "is_decision_maker": [True, None, False],
        "converted_at": [None, None, None],
        "lost_at": [None, None, None],
        "deal_value": [None, None, None],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_valid_table_gets_canonical_dtypes() -> None:
    leads = validate_table("leads", _leads())
    assert str(leads["created_at"].dtype) == "datetime64[us, UTC]"
    assert str(leads["employees"].dtype) == "Int64"
    assert str(leads["is_decision_maker"].dtype) == "boolean"
    assert leads.loc[1, "created_at"] == pd.Timestamp("2025-01-02 08:00", tz="UTC")


def test_missing_column_names_table_column_and_check() -> None:
    with pytest.raises(ContractError) as err:
        validate_table("leads", _leads().drop(columns=["created_at"]))
    message = str(err.value)
    assert "\n" not in message
    assert "'leads'" in message and "'created_at'" in message and "column_in_dataframe" in message


def test_bad_value_names_column_and_check() -> None:
    with pytest.raises(ContractError) as err:
        validate_table("leads", _leads(purchase_timeframe=["0-1m", "soon", None]))
    message = str(err.value)
    assert "'purchase_timeframe'" in message and "isin" in message and "soon" in message


def test_negative_employees_rejected() -> None:
    with pytest.raises(ContractError, match="'employees'.*greater_than_or_equal_to"):
        validate_table("leads", _leads(employees=[10, -5, 1]))


def test_duplicate_id_names_the_id() -> None:
    with pytest.raises(ContractError) as err:
        validate_table("leads", _leads(lead_id=["L1", "L2", "L2"]))
    assert (
        "'lead_id'" in str(err.value) and "uniqueness" in str(err.value) and "L2" in str(err.value)
    )


def test_unparseable_timestamp_is_a_row_failure_not_nan() -> None:
    valid, rejected = split_valid(
        "leads", _leads(created_at=["2025-01-01", "yesterday", "2025-01-03"])
    )
    assert valid["lead_id"].tolist() == ["L1", "L3"]
    assert rejected[["column", "check", "failure_case", "row_index"]].values.tolist() == [
        ["created_at", "parse_timestamp", "yesterday", 1]
    ]


def test_quarantine_keeps_the_row_without_pii() -> None:
    raw = _leads(budget=[1.0, -3.0, 2.0])
    _, rejected = split_valid("leads", raw)
    quarantine = quarantine_rows("run-1", "leads", raw, rejected)
    assert quarantine["lead_id"].tolist() == ["L2"]
    assert quarantine["check"].tolist() == ["greater_than_or_equal_to(0)"]
    row = json.loads(quarantine["row"].iloc[0])
    assert row["budget"] == -3.0
    assert "email" not in row and "phone" not in row
    assert "gmail" not in quarantine.to_csv()


def test_naive_timestamps_read_as_utc() -> None:
    activities = validate_table(
        "activities",
        pd.DataFrame(
            {
                "lead_id": ["L1"],
                "occurred_at": ["2025-03-01 12:30"],
                "type": ["call"],
                "value": [None],
            }
        ),
    )
    assert activities["occurred_at"].iloc[0] == pd.Timestamp("2025-03-01 12:30", tz="UTC")
