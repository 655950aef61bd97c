"""Vectorised pre-checks of the input tables: SQL true for a row that may break the contract.

They are a superset of the pandera checks (:mod:`pipelines.contracts`), which decide: a
row they pass meets the contract, a row they flag is read and validated. Written for
DuckDB, whatever the store holds a column as (text in a CSV store, typed elsewhere).
"""

from __future__ import annotations

from pipelines.contracts import BOOLEAN_WORDS, TIMEFRAMES


def time_of(column: str) -> str:
    """``column`` as a UTC time, NULL where it does not parse."""
    return f'TRY_CAST("{column}" AS TIMESTAMPTZ)'


def _bad_time(column: str, nullable: bool = True) -> str:
    bad = f'("{column}" IS NOT NULL AND {time_of(column)} IS NULL)'
    return bad if nullable else f'({bad} OR "{column}" IS NULL)'


def _bad_number(column: str, minimum: bool = True, whole: bool = False) -> str:
    number = f'TRY_CAST("{column}" AS DOUBLE)'
    checks = [f"{number} IS NULL"]
    if minimum:
        checks.append(f"{number} < 0")
    if whole:
        checks.append(f"{number} <> floor({number})")
    return f'("{column}" IS NOT NULL AND ({" OR ".join(checks)}))'


def _in_list(column: str, values: tuple[str, ...]) -> str:
    items = ", ".join("'" + v + "'" for v in values)
    return f'("{column}" IS NOT NULL AND lower(trim(CAST("{column}" AS VARCHAR))) NOT IN ({items}))'


def doubtful_lead_sql() -> str:
    """SQL true for a ``leads`` row that may break the contract (a superset of pandera's)."""
    timeframe = f"(purchase_timeframe IS NOT NULL AND CAST(purchase_timeframe AS VARCHAR) NOT IN ({', '.join(repr(t) for t in TIMEFRAMES)}))"
    checks = [
        "lead_id IS NULL",
        _bad_time("created_at", nullable=False),
        _bad_time("converted_at"),
        _bad_time("lost_at"),
        _bad_number("employees", whole=True),
        _bad_number("annual_revenue"),
        _bad_number("budget"),
        _bad_number("deal_value"),
        timeframe,
        _in_list("is_decision_maker", BOOLEAN_WORDS),
    ]
    return "(" + " OR ".join(checks) + ")"


def doubtful_event_sql(table: str) -> str:
    """SQL true for an event row that may break the contract (a superset of pandera's)."""
    if table == "activities":
        checks = ["lead_id IS NULL", "type IS NULL", _bad_time("occurred_at", nullable=False)]
        checks.append(_bad_number("value", minimum=False))
    else:
        checks = ["lead_id IS NULL", "stage IS NULL", _bad_time("entered_at", nullable=False)]
    return "(" + " OR ".join(checks) + ")"
