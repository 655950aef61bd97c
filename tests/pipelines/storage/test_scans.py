"""Reading only the open leads' rows gives the open leads, events and quarantine of a full read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.contracts import ContractError
from pipelines.features import open_at
from pipelines.inputs import CrmTables, read_inputs, read_open_inputs, validate_inputs
from pipelines.storage import open_store, slice_open_rows
from tests.pipelines.storage.test_postgres import pg_uri, server  # noqa: F401  (fixtures)

AS_OF = pd.Timestamp("2026-10-15", tz="UTC")


def _with_bad_rows(crm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The CRM with rows breaking the contract, on closed leads as well as open ones."""
    leads = crm["leads"].copy()
    activities, stages = crm["activities"], crm["stage_history"]
    closed = leads.loc[~open_at(leads, AS_OF), "lead_id"]
    bad = leads.head(3).assign(lead_id=["BAD1", "BAD2", closed.iloc[0]])
    bad.loc[bad.index[0], "employees"] = -5
    bad.loc[bad.index[1], "purchase_timeframe"] = "soonish"  # the third duplicates a closed id
    closed_activity = activities[activities["lead_id"] == closed.iloc[1]].head(1)
    return {
        "leads": pd.concat([leads, bad], ignore_index=True),
        "activities": pd.concat(
            [
                activities,
                activities.head(1).assign(lead_id="NOPE"),
                closed_activity.assign(type=None),
            ],
            ignore_index=True,
        ),
        "stage_history": pd.concat(
            [stages, stages.head(1).assign(lead_id="NOPE")], ignore_index=True
        ),
    }


def _quarantine(tables: CrmTables) -> set[tuple[str, str, str, str]]:
    found = set()
    for name, (raw, bad) in tables.rejected.items():
        ids = raw.reset_index(drop=True).loc[bad["row_index"], "lead_id"].astype(str)
        found |= set(zip([name] * len(bad), ids, bad["column"], bad["check"], strict=True))
    return found


def _open_rows(tables: CrmTables) -> dict[str, pd.DataFrame]:
    leads = tables.leads[open_at(tables.leads, AS_OF)]
    out = {"leads": leads.sort_values("lead_id", ignore_index=True)}
    for name, keys in (("activities", ["occurred_at", "type"]), ("stage_history", ["entered_at"])):
        frame = getattr(tables, name)
        frame = frame[frame["lead_id"].isin(leads["lead_id"])]
        out[name] = frame.sort_values(["lead_id", *keys], ignore_index=True)
    return out


def _won(leads: pd.DataFrame) -> list[float]:
    won = leads["converted_at"].notna() & (leads["converted_at"] < AS_OF)
    return leads.loc[won & leads["deal_value"].notna(), "deal_value"].astype(float).tolist()


@pytest.fixture(
    params=["duckdb", "parquet", "csv", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def bad_store(request: pytest.FixtureRequest, tmp_path: Path, small_crm: dict) -> str:
    kind = request.param
    if kind == "postgres":
        uri = request.getfixturevalue("pg_uri")
    else:
        uri = f"{kind}:///{tmp_path / ('s.duckdb' if kind == 'duckdb' else 'dir')}"
    store = open_store(uri)
    for name, frame in _with_bad_rows(small_crm).items():
        store.write(name, frame)
    return uri


def test_open_reads_equal_full_reads(bad_store: str) -> None:
    store = open_store(bad_store)
    full, partial = read_inputs(store), read_open_inputs(store, AS_OF)
    assert len(partial.activities) < len(full.activities) / 2  # most leads are closed
    expected, found = _open_rows(full), _open_rows(partial)
    for name in expected:
        pd.testing.assert_frame_equal(found[name], expected[name], check_dtype=False)
    assert _quarantine(partial) == _quarantine(full)
    checks = {(t, c) for t, _, _, c in _quarantine(partial)}
    assert {("activities", "references_leads"), ("activities", "not_nullable")} <= checks
    assert ("activities", "lead_quarantined") in checks  # the duplicated closed lead's rows
    if not bad_store.startswith("postgresql"):  # PostgreSQL reads every lead
        assert partial.raw_counts["leads"] < full.raw_counts["leads"] / 2


@pytest.mark.parametrize("count", [1, 3])
def test_slices_read_their_own_rows_and_together_all(
    bad_store: str, tmp_path: Path, count: int
) -> None:
    store = open_store(bad_store)
    whole = read_open_inputs(store, AS_OF)
    days = [AS_OF - pd.Timedelta(days=7), AS_OF]
    ids = whole.leads["lead_id"].head(50).tolist()
    scores = pd.DataFrame(
        {"as_of": [d for d in days for _ in ids], "lead_id": ids * 2, "score": range(100)}
    )
    store.write("lead_scores", scores.astype({"as_of": "datetime64[us, UTC]"}))
    extra = {"lead_scores": {"as_of": days[0]}}
    with slice_open_rows(store, AS_OF, count, tmp_path / "scratch", extra) as slices:
        # Several slices are cut into files; one is read directly, PostgreSQL filters each.
        on_files_store = not bad_store.startswith("postgresql")
        on_files = count > 1 and on_files_store
        assert any((tmp_path / "scratch").rglob("*.parquet")) == on_files
        parts = [validate_inputs(slices.read(i)) for i in range(count)]
        before = [slices.read_extra("lead_scores", i) for i in range(count)]
        assert slices.read_extra("quarantine", 0) is None  # not asked for
    for part, rows in zip(parts, before, strict=True):
        assert rows is not None  # each slice's leads' scores of that day
        assert set(rows["lead_id"]) == set(ids) & set(part.leads["lead_id"])
        assert sorted(rows["score"].astype(int)) == sorted(ids.index(i) for i in rows["lead_id"])
    assert not any((tmp_path / "scratch").rglob("*.parquet"))  # scratch removed
    sliced = [set(p.leads["lead_id"]) for p in parts]
    assert all(sliced) and sum(map(len, sliced)) == len(set().union(*sliced))
    for name in ("leads", "activities"):
        joined = pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        assert len(joined) == len(getattr(whole, name))
    assert set().union(*(_quarantine(p) for p in parts)) == _quarantine(whole)
    # Deals won before AS_OF: by the leads read (in the slices) and by those not read.
    full = read_inputs(store).leads
    read = pd.concat([p.leads for p in parts])
    assert sorted(_won(full)) == sorted(_won(read) + _won(slices.closed_won))
    assert (len(slices.closed_won) > 100) == on_files_store  # PostgreSQL reads every lead


@pytest.mark.parametrize("table", ["leads", "activities"])
def test_a_missing_column_stops_with_the_contract_line(
    table: str, tmp_path: Path, small_crm: dict
) -> None:
    store = open_store(f"parquet:///{tmp_path}")
    for name, frame in small_crm.items():
        store.write(name, frame.drop(columns="type" if name == table == "activities" else []))
    if table == "leads":
        store.write("leads", small_crm["leads"].drop(columns="created_at"))
    column = "created_at" if table == "leads" else "type"
    with pytest.raises(ContractError, match=f"table '{table}'.*column '{column}'"):
        read_open_inputs(store, AS_OF)


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_open_reads_and_slices_carry_the_open_leads_attributes(
    kind: str, tmp_path: Path, small_crm: dict
) -> None:
    store = open_store(f"{kind}:///{tmp_path / ('s.duckdb' if kind == 'duckdb' else 'dir')}")
    for name, frame in small_crm.items():
        store.write(name, frame)
    ids = small_crm["leads"]["lead_id"]
    store.write(
        "lead_attributes",
        pd.DataFrame(
            {"lead_id": ids, "name": "region", "value": [f"r{i % 4}" for i in range(len(ids))]}
        ).assign(kind="category"),
    )
    full = _open_rows(read_inputs(store))["leads"].set_index("lead_id")["attr_region"]
    assert full.notna().all() and len(full) > 100
    found = _open_rows(read_open_inputs(store, AS_OF))["leads"]
    assert found.set_index("lead_id")["attr_region"].to_dict() == full.to_dict()
    with slice_open_rows(store, AS_OF, 3, tmp_path / "scratch") as slices:
        parts = [validate_inputs(slices.read(i)) for i in range(3)]
    sliced = pd.concat([_open_rows(p)["leads"] for p in parts]).set_index("lead_id")
    assert sliced["attr_region"].to_dict() == full.to_dict()


def test_a_partitioned_cut_buffers_a_bounded_number_of_rows_in_all(tmp_path: Path) -> None:
    import duckdb

    from pipelines.storage.duckdb import FLUSH_ROWS, bound_partitioned_writes

    with duckdb.connect() as con:
        threshold = "SELECT current_setting('partitioned_write_flush_threshold')"
        for partitions, rows in [(1, 524_288), (4, 500_000), (40, 50_000), (1_000, 8_192)]:
            bound_partitioned_writes(con, tmp_path / "spill", partitions)
            assert con.execute(threshold).fetchone() == (rows,)
            assert rows * partitions <= max(FLUSH_ROWS, 8_192 * partitions)
        spill = con.execute("SELECT current_setting('temp_directory')").fetchone()
        assert spill == (str(tmp_path / "spill"),)
