"""Replacing partitions of a hive-partitioned Parquet dataset so that a crash loses nothing.

Spark's own dynamic partition overwrite deletes a partition's directory and then renames
the new one into place: a process killed between the two leaves that partition gone for
good. Here the new partition is written elsewhere first (a hidden staging directory), the
old directory is renamed aside, the new one renamed in, and only then is the old one
deleted. Renames within one filesystem are atomic, so at any moment the live partition is
either the old one or the new one. The set-aside directory is the undo record: renaming
it to a "done" name is the commit point. A crash before that leaves the old partitions
aside, and :func:`recover_partitions`, run by the next writer under the store's lock, puts
back each one whose replacement is not in place (a partition being retired, one that a run
found no rows for, comes back too: the run never committed).

Hidden names start with ``.``: Spark's file listing skips them (it would *not* skip a name
starting with ``_`` that holds a ``=``), and so does pyarrow's dataset discovery.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)
STAGING_PREFIX = ".leadscore-staging-"
ASIDE_PREFIX = ".leadscore-replaced-"
DONE_PREFIX = ".leadscore-done-"


def staging_dir(dataset: Path, run_id: str) -> Path:
    """Where a run writes its partitions before :func:`swap_in_partitions` (not yet made)."""
    return dataset / f"{STAGING_PREFIX}{run_id}"


def _partitions(directory: Path) -> list[Path]:
    if not directory.is_dir():  # e.g. a writer that made nothing for an empty frame
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and "=" in p.name)


def swap_in_partitions(dataset: Path, staged: Path, retire: Iterable[str] = ()) -> list[str]:
    """Moves each partition directory of ``staged`` into ``dataset``, replacing the live
    directory of the same name, and removes the live partitions named in ``retire`` that
    nothing staged replaces; other partitions are left as they are.

    Returns:
        The names of the partitions swapped in (``as_of=...``).
    """
    run = staged.name.removeprefix(STAGING_PREFIX)
    aside = dataset / f"{ASIDE_PREFIX}{run}"
    aside.mkdir(exist_ok=True)
    swapped = [p.name for p in _partitions(staged)]
    for name in sorted({*swapped, *retire}):
        if (dataset / name).exists():
            os.rename(dataset / name, aside / name)
        if name in swapped:
            os.rename(staged / name, dataset / name)
    _fsync_dir(dataset)
    done = dataset / f"{DONE_PREFIX}{run}"
    os.rename(aside, done)  # the commit point: from here on nothing is put back
    _fsync_dir(dataset)
    shutil.rmtree(done)
    if staged.exists():
        shutil.rmtree(staged)
    return swapped


def recover_partitions(dataset: Path) -> list[str]:
    """Undoes what a killed writer left uncommitted: each partition it set aside goes back
    unless its replacement is in place; committed and staging leftovers go.

    Returns:
        The names of the partitions put back.
    """
    if not dataset.is_dir():
        return []
    restored = []
    for aside in sorted(dataset.glob(f"{ASIDE_PREFIX}*")):
        for old in _partitions(aside):
            if not (dataset / old.name).exists():
                os.rename(old, dataset / old.name)
                restored.append(old.name)
        shutil.rmtree(aside)
    for leftover in [*dataset.glob(f"{DONE_PREFIX}*"), *dataset.glob(f"{STAGING_PREFIX}*")]:
        shutil.rmtree(leftover)
    if restored:
        log.warning("put back partitions a killed run had set aside: %s", ", ".join(restored))
    return restored


def _fsync_dir(directory: Path) -> None:
    """Makes the renames in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
