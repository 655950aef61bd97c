"""Every store reads back what it wrote, replaces a date atomically, and locks runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.contracts import validate_table
from pipelines.storage import (
    Part,
    Replace,
    StoreError,
    StoreLocked,
    TableNotFound,
    open_store,
)


def _scores(day: str, ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(day, tz="UTC"),
            "lead_id": ids,
            "probability": [0.5] * len(ids),
        }
    ).astype({"as_of": "datetime64[us, UTC]"})


@pytest.fixture(params=["duckdb", "parquet", "csv"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    kind = request.param
    target = tmp_path / ("s.duckdb" if kind == "duckdb" else "dir")
    return open_store(f"{kind}:///{target}")


def test_round_trip_through_the_contract(store, small_crm: dict[str, pd.DataFrame]) -> None:
    leads = small_crm["leads"].head(200)
    store.write("leads", leads)
    back = validate_table("leads", store.read("leads"))
    pd.testing.assert_frame_equal(
        back.reset_index(drop=True), leads.reset_index(drop=True), check_dtype=True
    )


def test_replace_partition_replaces_only_that_date(store) -> None:
    store.replace_partition(
        "lead_scores",
        _scores("2026-01-01", ["a", "b"]),
        "as_of",
        pd.Timestamp("2026-01-01", tz="UTC"),
    )
    store.replace_partition(
        "lead_scores",
        _scores("2026-01-02", ["a", "b", "c"]),
        "as_of",
        pd.Timestamp("2026-01-02", tz="UTC"),
    )
    store.replace_partition(
        "lead_scores", _scores("2026-01-01", ["z"]), "as_of", pd.Timestamp("2026-01-01", tz="UTC")
    )
    back = store.read("lead_scores")
    back["as_of"] = pd.to_datetime(back["as_of"], utc=True, format="ISO8601")
    by_day = back.groupby(back["as_of"].dt.strftime("%Y-%m-%d"))["lead_id"].apply(sorted).to_dict()
    assert by_day == {"2026-01-01": ["z"], "2026-01-02": ["a", "b", "c"]}


def test_missing_table_is_a_clear_error(store) -> None:
    assert not store.exists("leads")
    with pytest.raises(TableNotFound, match="no table 'leads'"):
        store.read("leads")


def test_lock_stops_a_second_run(store) -> None:
    with (
        store.lock("scoring"),
        pytest.raises(StoreLocked, match="another 'scoring' run"),
        store.lock("scoring"),
    ):
        pass
    with store.lock("scoring"):  # released after the first run
        pass


def test_a_plain_path_to_a_duckdb_file_opens_that_file(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "plain.duckdb"))
    assert store.uri == f"duckdb:///{tmp_path / 'plain.duckdb'}"
    store.write("leads", pd.DataFrame({"lead_id": ["a"]}))
    assert open_store(f"duckdb:///{tmp_path / 'plain.duckdb'}").count("leads") == 1


def test_unknown_uri_is_rejected() -> None:
    with pytest.raises(StoreError, match="unknown store URI"):
        open_store("mysql://x")
    with pytest.raises(StoreError, match="expected duckdb:///"):
        open_store("duckdb://relative.duckdb")


def test_bad_table_name_is_rejected(store) -> None:
    with pytest.raises(StoreError, match="invalid table name"):
        store.write("leads; drop table x", pd.DataFrame({"a": [1]}))


def assert_parts_split_by_lead(store, small_crm: dict[str, pd.DataFrame], parts: int = 3) -> None:
    """Every row lands in exactly one part, and a lead's rows share it across tables."""
    leads = small_crm["leads"].head(300)
    activities = small_crm["activities"]
    activities = activities[activities["lead_id"].isin(leads["lead_id"])].head(2000)
    store.write("leads", leads)
    store.write("activities", activities)
    assert store.count("leads") == len(leads)
    seen: dict[str, int] = {}
    leads_back, events_back = [], []
    for index in range(parts):
        part = Part(index, parts)
        lead_part = validate_table("leads", store.read("leads", part=part))
        event_part = validate_table("activities", store.read("activities", part=part))
        seen.update(dict.fromkeys(lead_part["lead_id"], index))
        assert event_part["lead_id"].map(seen).eq(index).all()
        leads_back.append(lead_part)
        events_back.append(event_part)
    assert 0 < min(len(p) for p in leads_back) < len(leads)  # the parts really split
    for whole, pieces in [(leads, leads_back), (activities, events_back)]:
        pd.testing.assert_frame_equal(
            pd.concat(pieces).sort_values(list(whole.columns[:2])).reset_index(drop=True),
            whole.sort_values(list(whole.columns[:2])).reset_index(drop=True),
        )


def test_parts_split_every_table_by_lead(store, small_crm: dict[str, pd.DataFrame]) -> None:
    assert_parts_split_by_lead(store, small_crm)


def test_read_equals_keeps_only_matching_rows(store) -> None:
    rows = pd.concat([_scores("2026-01-01", ["a", "b"]), _scores("2026-01-02", ["c"])])
    store.write("lead_scores", rows)
    day = pd.Timestamp("2026-01-02", tz="UTC")
    back = store.read("lead_scores", equals={"as_of": day})
    assert back["lead_id"].tolist() == ["c"]
    assert store.read("lead_scores", part=Part(0, 1), equals={"as_of": day})[
        "lead_id"
    ].tolist() == ["c"]


def assert_streamed_frames_land_together(store) -> None:
    """Frames streamed into one batch land together, or not at all when the stream fails."""
    day = pd.Timestamp("2026-01-01", tz="UTC")
    store.write("lead_scores", _scores("2026-01-01", ["old"]))

    def frames(fail: bool):  # noqa: ANN202
        yield _scores("2026-01-01", ["a", "b"])
        if fail:
            raise RuntimeError("the run died half way")
        yield _scores("2026-01-01", ["c"])

    with pytest.raises(RuntimeError):
        store.write_batch([Replace("lead_scores", frames(fail=True), "as_of", day)])
    assert store.read("lead_scores")["lead_id"].tolist() == ["old"]
    store.write_batch([Replace("lead_scores", frames(fail=False), "as_of", day)])
    assert sorted(store.read("lead_scores")["lead_id"]) == ["a", "b", "c"]
    store.write_batch([Replace("lead_scores", iter([]), "as_of", day)])  # nothing left that day
    assert store.read("lead_scores").empty


def test_streamed_frames_land_together_or_not_at_all(store) -> None:
    assert_streamed_frames_land_together(store)


def test_a_dataset_reads_dates_in_either_spelling(tmp_path: Path) -> None:
    """Spark once named partitions by the timestamp (escaped), now by the date alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dataset = tmp_path / "dir" / "lead_scores"
    spellings = {"as_of=2026-10-15 00%3A00%3A00": ["L1", "L2"], "as_of=2026-10-22": ["L3"]}
    for name, ids in spellings.items():
        (dataset / name).mkdir(parents=True)
        pq.write_table(pa.table({"lead_id": ids}), dataset / name / "part-0.parquet")
    store = open_store(f"parquet:///{tmp_path / 'dir'}")
    rows = store.read("lead_scores").sort_values("lead_id", ignore_index=True)
    assert str(rows["as_of"].dt.tz) == "UTC"
    assert rows["as_of"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2026-10-15 00:00",
        "2026-10-15 00:00",
        "2026-10-22 00:00",
    ]
    later = store.read("lead_scores", equals={"as_of": pd.Timestamp("2026-10-22", tz="UTC")})
    assert later["lead_id"].tolist() == ["L3"]
