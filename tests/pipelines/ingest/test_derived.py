"""Conditional columns (`when:`), stage entries from date columns, attribute rows."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest import Mapping, MappingError, load_mapping, map_export
from pipelines.ingest.importer import validate_mapped

UTC = "UTC"


def opportunities_mapping(**leads: object) -> Mapping:
    table = {
        "columns": {
            "Id": "lead_id",
            "Engaged": "created_at",
            "converted_at": {"column": "Closed", "when": {"Stage": "Won"}},
            "lost_at": {"column": "Closed", "when": {"Stage": ["Lost", "Dead"]}},
            "deal_value": {"column": "Value", "when": {"Stage": "Won"}},
        },
        **leads,
    }
    return Mapping.model_validate({"tables": {"leads": table}})


def opportunities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Id": ["o1", "o2", "o3", "o4"],
            "Stage": ["Won", " lost ", "Engaging", "Dead"],
            "Engaged": ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"],
            "Closed": ["2026-02-01", "2026-02-02", None, "2026-02-04"],
            "Value": ["900", "not a number", None, "0"],
        },
        dtype=object,
    )


def test_when_takes_a_column_only_where_the_condition_holds() -> None:
    mapped = map_export(opportunities_mapping(), {"leads": opportunities()})
    leads = mapped.tables["leads"]
    day = lambda d: pd.Timestamp(d, tz=UTC)  # noqa: E731
    assert leads["converted_at"].tolist()[0] == day("2026-02-01")
    assert leads["converted_at"].iloc[1:].isna().all()
    assert leads["lost_at"].isna().tolist() == [True, False, True, False]
    assert leads["lost_at"][[1, 3]].tolist() == [day("2026-02-02"), day("2026-02-04")]
    # A value that does not parse only matters where the condition holds: nothing rejected.
    assert leads["deal_value"].tolist()[0] == 900.0 and leads["deal_value"].iloc[1:].isna().all()
    assert "leads" not in mapped.rejected
    assert validate_mapped(mapped).rows_rejected == 0
    assert mapped.ignored["leads"] == []  # Stage is read by the conditions


def test_a_condition_on_a_missing_column_names_it() -> None:
    with pytest.raises(MappingError, match="converted_at.when: the file has no column 'Stage'"):
        map_export(opportunities_mapping(), {"leads": opportunities().drop(columns="Stage")})


def test_a_column_spec_needs_to_or_column() -> None:
    with pytest.raises(ValueError, match="give `to`"):
        Mapping.model_validate(
            {"tables": {"leads": {"columns": {"Id": "lead_id", "X": {"values": {"a": "b"}}}}}}
        )


ENTRIES = [
    {"column": "Engaged", "stage": "contacted"},
    {"column": "Closed", "stage": "won", "when": {"Stage": "Won"}},
    {"column": "Closed", "stage": "lost", "when": {"Stage": ["Lost", "Dead"]}, "date_as": "end"},
]


def test_stage_entries_turn_date_columns_into_stage_rows() -> None:
    mapped = map_export(opportunities_mapping(stage_entries=ENTRIES), {"leads": opportunities()})
    stages = mapped.tables["stage_history"]
    rows = sorted(
        (r.lead_id, r.stage, r.entered_at.isoformat()) for r in stages.itertuples(index=False)
    )
    assert rows == [
        ("o1", "contacted", "2026-01-05T00:00:00+00:00"),
        ("o1", "won", "2026-02-01T00:00:00+00:00"),
        ("o2", "contacted", "2026-01-06T00:00:00+00:00"),
        ("o2", "lost", "2026-02-02T23:59:59.999999+00:00"),
        ("o3", "contacted", "2026-01-07T00:00:00+00:00"),
        ("o4", "contacted", "2026-01-08T00:00:00+00:00"),
        ("o4", "lost", "2026-02-04T23:59:59.999999+00:00"),
    ]
    assert dict(mapped.stage_entries) == {"contacted": 4, "won": 1, "lost": 2}
    assert "stage_history: 7 rows from the leads file's dates (contacted 4, won 1, lost 2)" in (
        mapped.notes
    )
    assert validate_mapped(mapped).stage_history is not None


def test_stage_entries_add_to_a_stage_history_file_and_feed_outcomes() -> None:
    mapping = Mapping.model_validate(
        {
            "tables": {
                "leads": {
                    "columns": {"Id": "lead_id", "Engaged": "created_at"},
                    "stage_entries": ENTRIES,
                },
                "stage_history": {
                    "columns": {"Lead": "lead_id", "At": "entered_at", "To": "stage"}
                },
            },
            "outcomes_from_stage_history": {"lost_at": "lost"},
        }
    )
    history = pd.DataFrame({"Lead": ["o3"], "At": ["2026-01-20"], "To": ["demo"]})
    mapped = map_export(mapping, {"leads": opportunities(), "stage_history": history})
    stages = mapped.tables["stage_history"]
    assert len(stages) == 8 and stages.iloc[0]["stage"] == "demo"  # the file's rows first
    assert mapped.tables["leads"]["lost_at"].notna().tolist() == [False, True, False, True]


def test_a_stage_entry_date_that_does_not_parse_is_quarantined() -> None:
    export = opportunities()
    export.loc[2, "Engaged"] = "soon"
    mapping = opportunities_mapping(stage_entries=ENTRIES[:1])
    export.loc[2, "Id"] = "o3"
    tables = validate_mapped(map_export(mapping, {"leads": export}))
    _, bad = tables.rejected["stage_history"]
    assert ("entered_at", "parse_timestamp", "soon") in {
        (r.column, r.check, r.failure_case) for r in bad.itertuples()
    }


def test_attributes_become_lead_attribute_rows() -> None:
    export = opportunities().assign(
        Product=["Team", "team ", None, "Enterprise"],
        Seats=["10", "x", "3", None],
        Notes=["call back", None, "keen on the API", ""],
    )
    mapping = opportunities_mapping(
        attributes={
            "product": {"column": "Product", "kind": "category", "values": {"team": "Team"}},
            "seats": {"column": "Seats", "kind": "number"},
            "notes": {"column": "Notes", "kind": "text"},
        }
    )
    mapped = map_export(mapping, {"leads": export})
    rows = mapped.attributes
    assert rows is not None
    assert rows[rows["name"] == "product"]["value"].tolist() == ["Team", "Team", "Enterprise"]
    assert set(rows["kind"]) == {"category", "number", "text"}
    assert len(rows) == 3 + 3 + 2  # empty values make no row
    tables = validate_mapped(mapped)
    _, bad = tables.rejected["lead_attributes"]
    assert bad[["column", "check", "failure_case"]].values.tolist() == [
        ["value", "parse_number", "x"]
    ]
    assert tables.leads.set_index("lead_id")["attr_seats"].to_dict() == pytest.approx(
        {"o1": 10.0, "o2": float("nan"), "o3": 3.0, "o4": float("nan")}, nan_ok=True
    )
    words = tables.leads["attr_notes_words"]  # the word count: the text stays out
    assert words.isna().tolist() == [False, True, False, True]
    assert words[[0, 2]].tolist() == [2.0, 4.0]
    assert tables.leads["attr_product"].tolist() == ["Team", "Team", None, "Enterprise"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ("{Product: category}", "tables.leads.attributes.Product: a name is"),
        ("{product: colour}", "tables.leads.attributes.product.kind: Input should be 'category'"),
        ("{product: {kind: number, colum: P}}", "product.colum: Extra inputs are not permitted"),
    ],
)
def test_a_bad_attribute_is_a_one_line_mapping_error(
    attributes: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "tables: {leads: {columns: {Id: lead_id, At: created_at}, attributes: " + attributes + "}}"
    )
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(path)
