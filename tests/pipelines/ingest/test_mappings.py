"""Mappings: each feature on small hand-made exports, bad files, and the shipped dialects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest import Mapping, MappingError, apply_mapping, load_mapping, map_export
from pipelines.ingest.importer import validate_mapped
from pipelines.inputs import validate_inputs
from pipelines.synthetic import to_dialect

UTC = "UTC"


def leads_mapping(**leads: object) -> Mapping:
    columns = {"ID": "lead_id", "Created": "created_at"}
    columns.update(leads.pop("columns", {}))  # type: ignore[call-overload]
    return Mapping.model_validate({"tables": {"leads": {"columns": columns, **leads}}})


def export(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values()))) if columns else 1
    base = {"ID": [f"x{i}" for i in range(n)], "Created": ["2026-01-05T10:00:00Z"] * n}
    return pd.DataFrame({**base, **columns}, dtype=object)


def test_rename_gives_exactly_the_contract_columns() -> None:
    mapping = leads_mapping(columns={"Firma": "company", "Mitarbeiter": "employees"})
    leads = apply_mapping(mapping, {"leads": export(Firma=["Acme", None], Mitarbeiter=["12", ""])})[
        "leads"
    ]
    valid = validate_inputs({"leads": leads, "activities": None, "stage_history": None}).leads
    assert list(leads.columns)[:2] == ["lead_id", "created_at"]
    assert valid["company"].tolist()[0] == "Acme" and pd.isna(valid["company"].iloc[1])
    assert valid["employees"].tolist()[0] == 12 and pd.isna(valid["employees"].iloc[1])
    assert valid["source"].isna().all()  # not mapped: present and empty


def test_value_map_is_trimmed_and_case_insensitive_and_reports_unmapped() -> None:
    mapping = leads_mapping(
        columns={
            "Src": {"to": "source", "values": {"Web": "web_form", "Partner Referral": "partner"}},
            "When": {"to": "purchase_timeframe", "values": {"Now": "0-1m"}, "unmapped": "missing"},
        }
    )
    frames = {
        "leads": export(Src=[" web ", "PARTNER  referral", "Fax"], When=["now", "later", None])
    }
    mapped = map_export(mapping, frames)
    leads = mapped.tables["leads"]
    assert leads["source"].tolist() == ["web_form", "partner", "Fax"]
    assert leads["purchase_timeframe"].tolist() == ["0-1m", None, None]
    assert dict(mapped.unmapped_values["leads.Src"]) == {"Fax": 1}
    assert dict(mapped.unmapped_values["leads.When"]) == {"later": 1}


def test_booleans_default_words_and_custom_values() -> None:
    words = ["Yes", "No", "1", "0", "true", "FALSE", None]
    default = apply_mapping(
        leads_mapping(columns={"DM": "is_decision_maker"}), {"leads": export(DM=words)}
    )["leads"]
    valid = validate_inputs({"leads": default, "activities": None, "stage_history": None}).leads
    assert valid["is_decision_maker"].tolist()[:6] == [True, False, True, False, True, False]
    assert pd.isna(valid["is_decision_maker"].iloc[6])
    custom = leads_mapping(
        columns={"Role": {"to": "is_decision_maker", "true_values": ["Decision Maker"]}}
    )
    leads = apply_mapping(custom, {"leads": export(Role=["decision maker", "Influencer", None])})
    assert leads["leads"]["is_decision_maker"].tolist() == ["true", "false", None]


def test_unparseable_boolean_is_quarantined_with_the_value() -> None:
    mapping = leads_mapping(columns={"DM": "is_decision_maker"})
    tables = validate_mapped(map_export(mapping, {"leads": export(DM=["Yes", "maybe"])}))
    _, rejected = tables.rejected["leads"]
    assert rejected[["column", "check", "failure_case"]].values.tolist() == [
        ["is_decision_maker", "parse_boolean", "maybe"]
    ]
    assert tables.leads["lead_id"].tolist() == ["x0"]


def test_times_with_format_zone_offsets_and_dates() -> None:
    mapping = Mapping.model_validate(
        {
            "timezone": "Europe/Berlin",
            "tables": {
                "leads": {
                    "columns": {
                        "ID": "lead_id",
                        "Created": {"to": "created_at", "format": "%d.%m.%Y %H:%M"},
                        "Won": {"to": "converted_at", "format": "%Y-%m-%d", "date_as": "end"},
                        "Lost": {"to": "lost_at", "timezone": "America/New_York"},
                    }
                }
            },
        }
    )
    frame = pd.DataFrame(
        {
            "ID": ["a", "b", "c"],
            "Created": ["15.01.2026 10:00", "15.07.2026 10:00", "31.02.2026 10:00"],
            "Won": ["2026-03-01", None, None],
            "Lost": [None, "2026-07-20T08:00:00Z", "2026-07-20 08:00"],
        }
    )
    leads = apply_mapping(mapping, {"leads": frame})["leads"]
    assert leads["created_at"].iloc[0] == pd.Timestamp("2026-01-15 09:00", tz=UTC)  # CET
    assert leads["created_at"].iloc[1] == pd.Timestamp("2026-07-15 08:00", tz=UTC)  # CEST
    assert leads["created_at"].iloc[2] == "31.02.2026 10:00"  # left for the contract check
    assert leads["converted_at"].iloc[0] == pd.Timestamp(
        "2026-03-01 23:59:59.999999", tz="Europe/Berlin"
    )
    assert leads["lost_at"].iloc[1] == pd.Timestamp("2026-07-20 08:00", tz=UTC)  # own offset
    assert leads["lost_at"].iloc[2] == pd.Timestamp("2026-07-20 12:00", tz=UTC)  # EDT
    tables = validate_mapped(map_export(mapping, {"leads": frame}))
    _, rejected = tables.rejected["leads"]
    assert rejected[["column", "check"]].values.tolist() == [["created_at", "parse_timestamp"]]


def test_constants_fill_every_row() -> None:
    mapping = Mapping.model_validate(
        {
            "tables": {
                "leads": {
                    "columns": {"ID": "lead_id", "Created": "created_at"},
                    "constants": {"country": "DE"},
                },
                "activities": {
                    "columns": {"Lead": "lead_id", "At": "occurred_at"},
                    "constants": {"type": "webinar_attended", "value": 45},
                },
            }
        }
    )
    frames = {
        "leads": export(),
        "activities": pd.DataFrame({"Lead": ["x0", "x0"], "At": ["2026-01-06", "2026-01-07"]}),
    }
    tables = validate_mapped(map_export(mapping, frames))
    assert tables.leads["country"].tolist() == ["DE"]
    assert tables.activities["type"].tolist() == ["webinar_attended"] * 2
    assert tables.activities["value"].tolist() == [45.0, 45.0]


def test_unknown_columns_are_ignored_and_listed() -> None:
    mapping = leads_mapping(
        columns={"Phone": "phone"}, outcome_columns={"Status": {"lost": ["Dead"]}}
    )
    mapped = map_export(mapping, {"leads": export(Shoe_Size=["42"], Status=["Dead"])})
    assert mapped.ignored["leads"] == ["Shoe_Size"]
    assert mapped.outcome_only["leads"] == ["Status"]
    assert mapped.absent["leads"] == ["Phone"]
    assert "Shoe_Size" not in mapped.tables["leads"].columns
    assert any("lost by Status but have no lost_at" in note for note in mapped.notes)


def test_missing_required_source_column_names_it() -> None:
    with pytest.raises(MappingError, match="no column 'Created'"):
        apply_mapping(leads_mapping(), {"leads": pd.DataFrame({"ID": ["a"]})})


def test_bad_number_quarantines_the_lead_and_its_activities() -> None:
    mapping = Mapping.model_validate(
        {
            "tables": {
                "leads": {
                    "columns": {"ID": "lead_id", "Created": "created_at", "Staff": "employees"}
                },
                "activities": {"columns": {"Lead": "lead_id", "At": "occurred_at", "Kind": "type"}},
            }
        }
    )
    frames = {
        "leads": export(Staff=["12", "1,200", "3.5"]),
        "activities": pd.DataFrame(
            {"Lead": ["x0", "x1", "nobody"], "At": ["2026-01-06"] * 3, "Kind": ["call"] * 3}
        ),
    }
    tables = validate_mapped(map_export(mapping, frames))
    assert tables.leads["lead_id"].tolist() == ["x0"]
    _, bad_leads = tables.rejected["leads"]
    assert sorted(bad_leads["failure_case"]) == ["1,200", "3.5"]
    assert set(bad_leads["check"]) == {"parse_number"}
    _, bad_acts = tables.rejected["activities"]
    assert dict(zip(bad_acts["failure_case"], bad_acts["check"], strict=True)) == {
        "x1": "lead_quarantined",
        "nobody": "references_leads",
    }


def test_where_filters_rows_and_stage_history_sets_lost_at() -> None:
    mapping = Mapping.model_validate(
        {
            "tables": {
                "leads": {"columns": {"ID": "lead_id", "Created": "created_at"}},
                "stage_history": {
                    "where": {"Field": ["Status"]},
                    "columns": {
                        "Lead": "lead_id",
                        "At": "entered_at",
                        "New": {"to": "stage", "values": {"Dead": "lost"}},
                    },
                },
            },
            "outcomes_from_stage_history": {"lost_at": "lost"},
        }
    )
    history = pd.DataFrame(
        {
            "Lead": ["x0", "x0", "x0"],
            "At": ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-01-20T00:00:00Z"],
            "Field": ["Status", "Status", "Owner"],
            "New": ["Dead", "Dead", "rep_2"],
        }
    )
    mapped = map_export(mapping, {"leads": export(), "stage_history": history})
    assert mapped.filtered["stage_history"] == 1
    assert mapped.tables["stage_history"]["stage"].tolist() == ["lost", "lost"]
    assert mapped.tables["leads"]["lost_at"].iloc[0] == pd.Timestamp("2026-02-01", tz=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tables: {leads: {colums: {Id: lead_id}}}", "tables.leads.colums"),
        (
            "tables: {leads: {columns: {Id: lead_id, CreatedDate: created_at, LeadSource: sorce}}}",
            "tables.leads.columns.LeadSource: 'sorce' is not a column of leads",
        ),
        ("tables: {leads: {columns: {Id: lead_id}}}", "no source column maps to 'created_at'"),
        (
            "timezone: Mars/Olympus\ntables: {leads: {columns: {Id: lead_id, C: created_at}}}",
            "timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "tables: {leads: {columns: {Id: lead_id, C: created_at}, constants: {colour: red}}}",
            "tables.leads.constants.colour",
        ),
        (
            "tables: {leads: {columns: {Id: lead_id, C: created_at, S: status}, outcome_columns: {S: {}}}}",
            "'status' is not a column of leads",
        ),
        (
            "tables: {leads: {columns: {Id: lead_id, C: {to: created_at, fromat: x}}}}",
            "tables.leads.columns.C.fromat: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_mapping_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(MappingError, match="known: hubspot, opportunities, salesforce"):
        load_mapping("pipedrive")


def _same_up_to_names(native: pd.Series, mapped: pd.Series) -> bool:
    """Each native value maps to one mapped value and back (levels may be renamed)."""
    pairs = pd.DataFrame(
        {
            "a": native.astype(object).fillna("NA").to_numpy(),
            "b": mapped.astype(object).fillna("NA").to_numpy(),
        }
    )
    return bool(
        (pairs.groupby("a")["b"].nunique() == 1).all()
        and (pairs.groupby("b")["a"].nunique() == 1).all()
    )


def _equal(native: pd.Series, mapped: pd.Series) -> bool:
    a, b = native.astype(object).to_numpy(), mapped.astype(object).to_numpy()
    return all((pd.isna(x) and pd.isna(y)) or x == y for x, y in zip(a, b, strict=True))


def _events(frame: pd.DataFrame, time: str, ids: dict[str, str], kind: str) -> pd.DataFrame:
    out = frame.assign(lead_id=frame["lead_id"].map(ids) if ids else frame["lead_id"])
    return out.sort_values(["lead_id", time, kind], kind="mergesort", ignore_index=True)


@pytest.mark.parametrize(("dialect", "precision"), [("salesforce", "1ms"), ("hubspot", "1s")])
def test_dialect_exports_map_back_to_the_native_tables(
    small_crm: dict[str, pd.DataFrame], tmp_path: Path, dialect: str, precision: str
) -> None:
    """Mapped back, a dialect export is the native CRM up to the CRM's time precision
    (ConvertedDate is a date: read as the end of that day) and the names of levels."""
    from pipelines.ingest.importer import read_export

    frames = to_dialect(small_crm, dialect)
    for table, frame in frames.items():  # through CSV files, as a user's would come
        frame.to_csv(tmp_path / f"{table}.csv", index=False)
    read = {table: read_export(tmp_path / f"{table}.csv") for table in frames}
    tables = validate_mapped(map_export(load_mapping(dialect), read))
    assert tables.rows_rejected == 0
    native, mapped = small_crm["leads"], tables.leads
    assert len(mapped) == len(native)
    tolerance = pd.Timedelta(precision)
    for column in ("created_at", "lost_at", "converted_at"):
        assert (native[column].isna() == mapped[column].isna()).all(), column
        gap = (mapped[column] - native[column]).dropna()
        if column == "converted_at" and dialect == "salesforce":
            assert (gap >= pd.Timedelta(0)).all() and (gap < pd.Timedelta("1D")).all()
        else:
            assert (gap.abs() < tolerance).all(), column
    for column in (
        "source",
        "industry",
        "country",
        "purchase_timeframe",
        "is_decision_maker",
        "owner_id",
    ):
        assert _same_up_to_names(native[column], mapped[column]), column
    for column in ("employees", "annual_revenue", "budget", "need", "email", "phone", "company"):
        assert _equal(native[column], mapped[column]), column
    assert _equal(native["job_title"].str.strip(), mapped["job_title"])  # trimmed on import
    if dialect == "hubspot":
        assert _equal(native["deal_value"], mapped["deal_value"])
    ids = dict(zip(mapped["lead_id"], native["lead_id"], strict=True))
    acts = _events(tables.activities, "occurred_at", ids, "type")
    native_acts = _events(small_crm["activities"], "occurred_at", {}, "type")
    assert len(acts) == len(native_acts)
    assert (acts["lead_id"] == native_acts["lead_id"]).all()
    assert ((acts["occurred_at"] - native_acts["occurred_at"]).abs() < pd.Timedelta("1ms")).all()
    assert _same_up_to_names(native_acts["type"], acts["type"])
    assert np.allclose(native_acts["value"], acts["value"], equal_nan=True)
    stages = _events(tables.stage_history, "entered_at", ids, "stage")
    native_stages = _events(small_crm["stage_history"], "entered_at", {}, "stage")
    assert (
        stages[["lead_id", "stage"]].to_numpy() == native_stages[["lead_id", "stage"]].to_numpy()
    ).all()
    assert ((stages["entered_at"] - native_stages["entered_at"]).abs() < pd.Timedelta("1ms")).all()
