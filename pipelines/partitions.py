"""Replacing partitions of a hive-partitioned Parquet dataset so that a crash loses nothing.

Spark's own dynamic partition overwrite deletes a partition's directory and then renames
the new one into place: a process killed between the two leaves that partition gone for
good. Here the new partition is written elsewhere first (a hidden staging directory), the
old directory is renamed aside, the new one renamed in, and only then is the old one
deleted. Renames within one filesystem are atomic, so at any moment the live partition is
either the old one or the new one; a crash between the two renames leaves the old one
aside, and :func:`recover_partitions`, run by the next writer under the store's lock, puts
it back.

Hidden names start with ``.``: Spark's file listing skips them (it would *not* skip a name
starting with ``_`` that holds a ``=``), and so does pyarrow's dataset discovery.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)
STAGING_PREFIX = ".leadscore-staging-"
ASIDE_PREFIX = ".leadscore-replaced-"


def staging_dir(dataset: Path, run_id: str) -> Path:
    """Where a run writes its partitions before :func:`swap_in_partitions` (not yet made)."""
    return dataset / f"{STAGING_PREFIX}{run_id}"


def _partitions(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and "=" in p.name)


def swap_in_partitions(dataset: Path, staged: Path) -> list[str]:
    """Moves each partition directory of ``staged`` into ``dataset``, replacing the live
    directory of the same name; partitions not staged are left as they are.

    Returns:
        The names of the partitions swapped in (``as_of=...``).
    """
    aside = dataset / f"{ASIDE_PREFIX}{staged.name.removeprefix(STAGING_PREFIX)}"
    aside.mkdir(exist_ok=True)
    swapped = []
    for new in _partitions(staged):
        live = dataset / new.name
        if live.exists():
            os.rename(live, aside / new.name)
        os.rename(new, live)
        swapped.append(new.name)
    _fsync_dir(dataset)
    shutil.rmtree(aside)
    shutil.rmtree(staged)
    return swapped


def recover_partitions(dataset: Path) -> list[str]:
    """Finishes or undoes what a killed writer left: an old partition set aside whose
    replacement never arrived goes back in place; staging and set-aside leftovers go.

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
    for staged in dataset.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(staged)
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
