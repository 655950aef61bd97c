"""A partition swap killed at any step leaves each date's rows, or a recoverable state."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.storage import open_store
from pipelines.storage.partitions import recover_partitions, staging_dir, swap_in_partitions

FIRST, NEXT = "as_of=2026-10-08", "as_of=2026-10-15"


class Killed(BaseException):
    """Stands for SIGKILL at one step: nothing after it runs."""


def _write(directory: Path, ids: list[str]) -> None:
    directory.mkdir(parents=True)
    pd.DataFrame({"lead_id": ids, "score": [50.0] * len(ids)}).to_parquet(
        directory / "part-0.parquet", index=False
    )


def _rows(root: Path) -> dict[str, list[str]]:
    """What a reader of the store sees: each date's lead ids."""
    rows = open_store(f"parquet:///{root}").read("lead_scores")
    return {
        f"as_of={day}": sorted(group["lead_id"])
        for day, group in rows.groupby(pd.to_datetime(rows["as_of"]).dt.strftime("%Y-%m-%d"))
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dataset = tmp_path / "lead_scores"
    _write(dataset / FIRST, ["a", "b"])
    _write(dataset / NEXT, ["c"])
    staged = staging_dir(dataset, "run2")
    _write(staged / FIRST, ["x", "y", "z"])
    (staged / "_SUCCESS").touch()
    return tmp_path


def _hidden(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "lead_scores").iterdir() if p.name.startswith("."))


def test_readers_skip_the_staged_partition_until_it_is_swapped_in(root: Path) -> None:
    assert _rows(root) == {FIRST: ["a", "b"], NEXT: ["c"]}
    dataset = root / "lead_scores"
    assert swap_in_partitions(dataset, staging_dir(dataset, "run2")) == [FIRST]
    assert _rows(root) == {FIRST: ["x", "y", "z"], NEXT: ["c"]}
    assert _hidden(root) == []


def _kill_at(monkeypatch: pytest.MonkeyPatch, module: object, name: str, call: int) -> None:
    real, calls = getattr(module, name), []

    def dying(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == call:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, dying)


@pytest.mark.parametrize(
    ("module", "name", "call", "after_recovery"),
    [
        (os, "rename", 1, ["a", "b"]),  # before the old partition moved aside
        (os, "rename", 2, ["a", "b"]),  # old aside, new not yet in: put the old one back
        (os, "rename", 3, ["x", "y", "z"]),  # new in, not committed: the old one stays out
        (shutil, "rmtree", 1, ["x", "y", "z"]),  # committed, old not yet deleted
        (shutil, "rmtree", 2, ["x", "y", "z"]),  # only the staging leftovers remain
    ],
)
def test_a_swap_killed_at_any_step_is_recovered(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    call: int,
    after_recovery: list[str],
) -> None:
    dataset = root / "lead_scores"
    with monkeypatch.context() as patch:
        _kill_at(patch, module, name, call)
        with pytest.raises(Killed):
            swap_in_partitions(dataset, staging_dir(dataset, "run2"))
    seen = _rows(root)
    assert seen[NEXT] == ["c"]  # the other date is never touched
    assert seen.get(FIRST) in (["a", "b"], ["x", "y", "z"], None)  # never a mix
    recover_partitions(dataset)
    assert _rows(root) == {FIRST: after_recovery, NEXT: ["c"]}
    assert _hidden(root) == []


def test_recovery_without_a_dataset_is_a_no_op(tmp_path: Path) -> None:
    assert recover_partitions(tmp_path / "lead_scores") == []


@pytest.mark.parametrize(
    ("call", "after_recovery"),
    [(1, ["a", "b"]), (2, ["a", "b"]), (None, None)],  # killed before the commit, or not
)
def test_a_retired_partition_goes_only_once_committed(
    root: Path, monkeypatch: pytest.MonkeyPatch, call: int | None, after_recovery: list[str] | None
) -> None:
    """A run with no rows for its date removes that date's old list, at its commit point."""
    dataset = root / "lead_scores"
    empty = staging_dir(dataset, "run3")  # a writer may not even make it for no rows
    with monkeypatch.context() as patch:
        if call is not None:
            _kill_at(patch, os, "rename", call)  # 1: moving it aside, 2: the commit
        try:
            assert swap_in_partitions(dataset, empty, retire=[FIRST]) == []
        except Killed:
            assert call is not None
    recover_partitions(dataset)
    assert _rows(root).get(FIRST) == after_recovery
    assert _rows(root)[NEXT] == ["c"]
    assert _hidden(root) == []  # the other staged run was killed too: its files go
