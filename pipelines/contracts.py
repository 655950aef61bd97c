"""The CRM data contract as pandera models, and the checks every read and write goes through.

The contract lives in ``shared/data-contract.md`` (copied into the README). Inputs are
coerced to their canonical dtypes first; a value that cannot be parsed is a row-level
failure, not a silent NaN. Row-level failures are quarantined with the check they failed;
table-level failures (a missing column) raise :class:`ContractError` with one line naming
table, column and check.
"""

from __future__ import annotations

import json
from typing import Annotated

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

TIMEFRAMES = ("0-1m", "1-3m", "3-6m", "6-12m", "12m+")
GRADES = ("A", "B", "C", "D")
QUALIFICATIONS = ("sales_qualified", "marketing_qualified", "nurture", "recycle", "disqualified")
TRENDS = ("improving", "steady", "declining", "new")
PII_COLUMNS = ("email", "phone")

UtcTimestamp = Annotated[pd.DatetimeTZDtype, "us", "UTC"]


class ContractError(ValueError):
    """A table breaks the data contract as a whole (missing column, unusable type)."""


class Leads(pa.DataFrameModel):
    lead_id: Series[str] = pa.Field(unique=True)
    created_at: Series[UtcTimestamp]
    source: Series[str] = pa.Field(nullable=True)
    owner_id: Series[str] = pa.Field(nullable=True)
    company: Series[str] = pa.Field(nullable=True)
    industry: Series[str] = pa.Field(nullable=True)
    employees: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True)
    annual_revenue: Series[float] = pa.Field(ge=0, nullable=True)
    country: Series[str] = pa.Field(nullable=True)
    job_title: Series[str] = pa.Field(nullable=True)
    email: Series[str] = pa.Field(nullable=True)
    phone: Series[str] = pa.Field(nullable=True)
    budget: Series[float] = pa.Field(ge=0, nullable=True)
    purchase_timeframe: Series[str] = pa.Field(isin=list(TIMEFRAMES), nullable=True)
    need: Series[str] = pa.Field(nullable=True)
    is_decision_maker: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    converted_at: Series[UtcTimestamp] = pa.Field(nullable=True)
    lost_at: Series[UtcTimestamp] = pa.Field(nullable=True)
    deal_value: Series[float] = pa.Field(ge=0, nullable=True)

    class Config:
        strict = "filter"
        coerce = True


class Activities(pa.DataFrameModel):
    lead_id: Series[str]
    occurred_at: Series[UtcTimestamp]
    type: Series[str]
    value: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = "filter"
        coerce = True


class StageHistory(pa.DataFrameModel):
    lead_id: Series[str]
    stage: Series[str]
    entered_at: Series[UtcTimestamp]

    class Config:
        strict = "filter"
        coerce = True


ATTRIBUTE_KINDS = ("category", "number", "text")
ATTRIBUTE_NAME = r"^[a-z][a-z0-9_]{0,39}$"


class LeadAttributes(pa.DataFrameModel):
    """Custom per-lead attributes (optional; extends the contract, see the README)."""

    lead_id: Series[str]
    name: Series[str] = pa.Field(str_matches=ATTRIBUTE_NAME)
    value: Series[str] = pa.Field(nullable=True)
    kind: Series[str] = pa.Field(isin=list(ATTRIBUTE_KINDS))

    class Config:
        strict = "filter"
        coerce = True


class LeadScores(pa.DataFrameModel):
    as_of: Series[UtcTimestamp]
    run_id: Series[str]
    model_name: Series[str]
    model_version: Series[str]
    lead_id: Series[str]
    owner_id: Series[str] = pa.Field(nullable=True)
    probability: Series[float] = pa.Field(ge=0, le=1)
    score: Series[float] = pa.Field(ge=0, le=100)
    grade: Series[str] = pa.Field(isin=list(GRADES))
    fit_score: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    engagement_score: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    qualification: Series[str] = pa.Field(isin=list(QUALIFICATIONS), nullable=True)
    bant: Series[str] = pa.Field(nullable=True)
    top_reasons: Series[str] = pa.Field(nullable=True)
    trend: Series[str] = pa.Field(isin=list(TRENDS), nullable=True)
    rank_overall: Series[int] = pa.Field(ge=1)
    rank_in_owner: Series[int] = pa.Field(ge=1)
    expected_value: Series[float] = pa.Field(ge=0, nullable=True)

    class Config:
        strict = True
        coerce = True


class ScoringRuns(pa.DataFrameModel):
    run_id: Series[str] = pa.Field(unique=True)
    as_of: Series[UtcTimestamp]
    started_at: Series[UtcTimestamp]
    finished_at: Series[UtcTimestamp]
    model_name: Series[str]
    model_version: Series[str]
    leads_read: Series[int] = pa.Field(ge=0)
    activities_read: Series[int] = pa.Field(ge=0)
    stage_history_read: Series[int] = pa.Field(ge=0)
    rows_scored: Series[int] = pa.Field(ge=0)
    rows_quarantined: Series[int] = pa.Field(ge=0)
    status: Series[str] = pa.Field(isin=["succeeded", "failed"])

    class Config:
        strict = True
        coerce = True


class Quarantine(pa.DataFrameModel):
    run_id: Series[str]
    table_name: Series[str]
    lead_id: Series[str] = pa.Field(nullable=True)
    column: Series[str]
    check: Series[str]
    failure_case: Series[str] = pa.Field(nullable=True)
    row: Series[str]

    class Config:
        strict = True
        coerce = True


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "leads": Leads,
    "activities": Activities,
    "stage_history": StageHistory,
    "lead_attributes": LeadAttributes,
    "lead_scores": LeadScores,
    "scoring_runs": ScoringRuns,
    "quarantine": Quarantine,
}
INPUT_TABLES = ("leads", "activities", "stage_history")
TIME_COLUMNS = {
    "leads": ("created_at", "converted_at", "lost_at"),
    "activities": ("occurred_at",),
    "stage_history": ("entered_at",),
    "lead_scores": ("as_of",),
    "scoring_runs": ("as_of", "started_at", "finished_at"),
}


BOOLEAN_COLUMNS = {"leads": ("is_decision_maker",)}
_BOOLEAN_WORDS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "1.0": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
    "0.0": False,
}
BOOLEAN_WORDS = tuple(_BOOLEAN_WORDS)
"""The words :func:`to_boolean` reads (lower case, trimmed)."""


def to_boolean(values: pd.Series) -> pd.Series:
    """Parses booleans written as bools, 0/1 or words (true/false, yes/no); others → NA."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    words = values.astype("object").map(
        lambda v: _BOOLEAN_WORDS.get(str(v).strip().lower()) if pd.notna(v) else None
    )
    return words.astype("boolean")


def to_utc(values: pd.Series) -> pd.Series:
    """Parses timestamps to UTC microseconds; naive values are read as UTC, unparseable → NaT."""
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return parsed.astype("datetime64[us, UTC]")


def _parse_failures(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parses time and boolean columns, reporting values present but not parseable."""
    out = df.copy()
    parsers = [(c, to_utc, "parse_timestamp") for c in TIME_COLUMNS.get(table, ())]
    parsers += [(c, to_boolean, "parse_boolean") for c in BOOLEAN_COLUMNS.get(table, ())]
    failures = []
    for column, parse, check in parsers:
        if column not in out.columns:
            continue
        parsed = parse(out[column])
        bad = parsed.isna() & out[column].notna()
        if bad.any():
            failures.append(
                pd.DataFrame(
                    {
                        "column": column,
                        "check": check,
                        "failure_case": out.loc[bad, column].astype(str),
                        "index": out.index[bad],
                    }
                )
            )
        out[column] = parsed
    columns = ["column", "check", "failure_case", "index"]
    return out, (pd.concat(failures) if failures else pd.DataFrame(columns=columns))


def _schema_error_line(table: str, cases: pd.DataFrame) -> str:
    first = cases.iloc[0]
    examples = ", ".join(str(v) for v in cases["failure_case"].head(3).tolist())
    return (
        f"table '{table}' breaks the contract: column '{first['column']}' failed check "
        f"'{first['check']}' ({len(cases)} case(s), e.g. {examples})"
    )


def validate_table(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validates a whole table and returns it with canonical dtypes.

    Raises:
        ContractError: one line naming the table, the column and the check that failed.
    """
    valid, rejected = split_valid(table, df)
    if len(rejected):
        raise ContractError(_schema_error_line(table, rejected))
    return valid


def split_valid(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Splits a table into rows that meet the contract and rejected rows with their reasons.

    Returns:
        ``(valid, rejected)``: ``valid`` has canonical dtypes and only contract columns;
        ``rejected`` has one row per failure with ``row_index``, ``column``, ``check`` and
        ``failure_case``.

    Raises:
        ContractError: when the table as a whole is unusable (e.g. a missing column).
    """
    schema = SCHEMAS[table]
    missing = [c for c in schema.to_schema().columns if c not in df.columns]
    if missing:
        raise ContractError(
            f"table '{table}' breaks the contract: column '{missing[0]}' failed check "
            f"'column_in_dataframe' (missing columns: {', '.join(missing)})"
        )
    frame, parse_cases = _parse_failures(table, df.reset_index(drop=True))
    cases = [parse_cases]
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        row_cases = fc[fc["index"].notna()]
        table_cases = fc[fc["index"].isna()]
        if len(table_cases):
            raise ContractError(_schema_error_line(table, table_cases)) from None
        cases.append(row_cases[["column", "check", "failure_case", "index"]])
    rejected = pd.concat([c for c in cases if len(c)]) if any(len(c) for c in cases) else None
    if rejected is None:
        return schema.validate(frame), _empty_rejections()
    rejected = rejected.rename(columns={"index": "row_index"}).astype({"row_index": "int64"})
    # An unparseable value also fails its not-null check: report the cause once.
    rejected = rejected.drop_duplicates(subset=["column", "row_index"], keep="first")
    rejected["failure_case"] = rejected["failure_case"].astype(str)
    bad_rows = np.unique(rejected["row_index"].to_numpy())
    valid = schema.validate(frame.drop(index=bad_rows))
    return valid, rejected.reset_index(drop=True)


def _empty_rejections() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": pd.Series(dtype="str"),
            "check": pd.Series(dtype="str"),
            "failure_case": pd.Series(dtype="str"),
            "row_index": pd.Series(dtype="int64"),
        }
    )


def quarantine_rows(
    run_id: str, table: str, df: pd.DataFrame, rejected: pd.DataFrame
) -> pd.DataFrame:
    """Builds ``quarantine`` rows: the offending row (PII removed) and the check it failed."""
    if rejected.empty:
        return Quarantine.validate(pd.DataFrame({c: [] for c in Quarantine.to_schema().columns}))
    source = df.reset_index(drop=True)
    rows = source.loc[rejected["row_index"].to_numpy()].drop(
        columns=[c for c in PII_COLUMNS if c in source.columns]
    )
    rows = rows.astype(object).where(rows.notna(), None)
    payload = [json.dumps(r, default=str) for r in rows.to_dict(orient="records")]
    lead_ids = rows["lead_id"].astype("str") if "lead_id" in rows.columns else None
    out = pd.DataFrame(
        {
            "run_id": run_id,
            "table_name": table,
            "lead_id": lead_ids.to_numpy() if lead_ids is not None else None,
            "column": rejected["column"].astype(str).to_numpy(),
            "check": rejected["check"].astype(str).to_numpy(),
            "failure_case": rejected["failure_case"].to_numpy(),
            "row": payload,
        }
    )
    return Quarantine.validate(out)


def empty_table(table: str) -> pd.DataFrame:
    """An empty frame with the table's contract columns and dtypes."""
    schema = SCHEMAS[table].to_schema()
    return schema.coerce_dtype(pd.DataFrame({c: [] for c in schema.columns}))
