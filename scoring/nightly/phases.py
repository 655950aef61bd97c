"""Where a nightly run's time goes: seconds per phase, for the log and the benchmark.

Phases: read (finding the open leads and reading the slices), validate (the contract),
features, predict (probabilities and contributions, in the model thread: it overlaps the
features and reasons of other chunks), reasons (profiles, rules and phrased reasons), rank
and write (the ranked list streamed into the store).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

PHASES = ("read", "validate", "features", "predict", "reasons", "rank", "write")
T = TypeVar("T")


class Phases:
    """Seconds spent per phase, summed over slices and chunks (safe across threads)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self._lock = threading.Lock()

    def add(self, phase: str, seconds: float) -> None:
        with self._lock:
            self.seconds[phase] += seconds

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - started)

    def call(self, phase: str, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``, timed as ``phase``."""
        with self.timed(phase):
            return function(*args)

    def each(self, phase: str, items: Iterator[T]) -> Iterator[T]:
        """The items of ``items``, the time spent producing them timed as ``phase``."""
        while True:
            with self.timed(phase):
                item = next(items, None)
            if item is None:
                return
            yield item

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
