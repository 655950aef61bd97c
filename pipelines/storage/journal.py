"""One batch of file writes that lands whole: staged files, a journal, then the renames.

A directory of files cannot share a transaction, and a rename is atomic for one file
only. So a batch first writes every new file beside its table under a staging name; a
writer killed while staging leaves the old tables untouched (and staging files that the
next writer removes). Only when every staged file is complete and durable is the journal
written, itself atomically: that is the commit point. The renames follow, then the
journal is deleted. A writer killed during the renames leaves the journal, and whoever
touches the store next (:func:`settle`, called by every read and write of a file store)
finishes them: a committed batch is applied whole, an uncommitted one not at all.

Staging names carry the writer's process id and a random part, so a stale journal can never
name a file of a later batch.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

__all__ = ["JOURNAL_NAME", "commit_staged", "new_batch", "settle", "staging_file"]

log = logging.getLogger(__name__)
JOURNAL_NAME = ".leadscore-batch.journal"
_STAGED_SUFFIX = ".staged"


def new_batch() -> str:
    """A batch id unique to this process and call: ``<pid>-<random>``."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def staging_file(path: Path, batch: str, step: int) -> Path:
    """Where step ``step`` of ``batch`` writes the new content of ``path`` (a hidden sibling)."""
    return path.with_name(f".{path.name}.{batch}.{step}{_STAGED_SUFFIX}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # a directory that cannot be synced (some filesystems)
        pass
    finally:
        os.close(fd)


def _apply(root: Path, moves: list[tuple[str, str]]) -> None:
    """Renames each staged file over its table; one already moved (by another process
    finishing the same journal) is skipped."""
    for staged, final in moves:
        try:
            os.replace(root / staged, root / final)
        except FileNotFoundError:
            continue
    _fsync(root)


def commit_staged(root: Path, staged: dict[Path, Path]) -> None:
    """Makes every staged file (staged path → table file, both in ``root``) live, or none.

    The staged files must be complete; they are made durable, the journal is written (the
    commit point), the files are renamed over their tables and the journal is removed. A
    failure before the commit point removes the staged files; one after it leaves the journal
    for :func:`settle`.
    """
    if not staged:
        return
    moves = [(s.name, f.name) for s, f in staged.items()]
    journal = root / JOURNAL_NAME
    pending = root / f"{JOURNAL_NAME}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        for path in staged:
            _fsync(path)
        pending.write_text(json.dumps(moves))
        _fsync(pending)
        os.replace(pending, journal)  # the commit point
    except BaseException:
        for path in [pending, *staged]:
            path.unlink(missing_ok=True)
        raise
    # From here on a failure leaves the journal, and the next reader finishes the batch.
    _fsync(root)
    _apply(root, moves)
    journal.unlink(missing_ok=True)
    _fsync(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def settle(root: Path, clean: bool = False) -> bool:
    """Finishes a batch that committed but was not fully applied (a killed writer).

    Args:
        clean: also remove staging files of writers that are no longer running (a batch
            killed before its commit point); writers call it with ``True``.

    Returns:
        Whether a committed batch was finished here.
    """
    finished = False
    journal = root / JOURNAL_NAME
    if journal.exists():
        try:
            moves = [tuple(pair) for pair in json.loads(journal.read_text())]
        except FileNotFoundError:  # its writer has just finished it
            moves = []
        if moves:
            _apply(root, moves)  # type: ignore[arg-type]
            journal.unlink(missing_ok=True)
            finished = True
            log.warning("finished a batch of writes a killed run had committed in %s", root)
    if clean and root.is_dir():
        for leftover in root.glob(f".*{_STAGED_SUFFIX}"):
            pid = leftover.name.rsplit(".", 3)[-3].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                leftover.unlink(missing_ok=True)
    return finished
