"""Spans of constant latent state, cut from the state paths: what emissions are drawn over.

A segment is (lead, state, start, stop, period): the lead stays in ``state`` from ``start``
to ``stop`` (µs). A won lead gets a last segment in the ``customer`` state for its
onboarding weeks; a lost lead stops at its exit. With a period shift a segment that spans
the shift's midnight is cut there, so each piece has one emission profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic.process import LOST, TRANSIENT, WON, Paths
from pipelines.synthetic.seasons import DAY_US

CUSTOMER = TRANSIENT  # emission row of a won lead during onboarding
ONBOARDING_DAYS = 14


@dataclass
class Segments:
    lead: np.ndarray
    state: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    after_shift: np.ndarray  # bool: the segment lies after the period shift

    def take(self, mask: np.ndarray) -> Segments:
        return Segments(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def cut_segments(paths: Paths, end_us: int, shift_us: int | None) -> Segments:
    """The segments of every path, cut at ``end_us`` and at ``shift_us`` (a midnight)."""
    lead, state, start = paths.lead, paths.state, paths.entered
    same_next = np.r_[lead[1:] == lead[:-1], False]
    stop = np.where(same_next, np.r_[start[1:], 0], end_us)
    won = state == WON
    stop = np.where(won, np.minimum(start + ONBOARDING_DAYS * DAY_US, end_us), stop)
    state = np.where(won, CUSTOMER, state)
    keep = (paths.state != LOST) & (stop > start)
    segments = Segments(
        lead[keep], state[keep], start[keep], stop[keep], np.zeros(keep.sum(), bool)
    )
    if shift_us is None:
        return segments
    spans = (segments.start < shift_us) & (segments.stop > shift_us)
    before = Segments(
        segments.lead, segments.state, segments.start, np.where(spans, shift_us, segments.stop),
        segments.after_shift,
    )  # fmt: skip
    after = segments.take(spans)
    after.start = np.full(len(after.lead), shift_us)
    both = Segments(
        *(np.r_[getattr(before, f), getattr(after, f)] for f in Segments.__dataclass_fields__)
    )
    both.after_shift = both.start >= shift_us
    order = np.lexsort((both.start, both.lead))
    return both.take(order)
