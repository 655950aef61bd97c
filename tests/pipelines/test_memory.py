"""Releasing freed memory: harmless to live data, callable anywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines import release_unused_memory


def test_release_keeps_live_frames_and_arrow_buffers_intact() -> None:
    frame = pd.DataFrame({"a": np.arange(100_000, dtype="float64"), "b": ["x"] * 100_000})
    table = pa.table({"c": np.arange(1000)})
    garbage = [pd.DataFrame({"d": np.random.default_rng(0).random(50_000)}) for _ in range(5)]
    del garbage
    release_unused_memory()
    release_unused_memory()  # twice: nothing left to give back is fine
    assert frame["a"].sum() == float(np.arange(100_000).sum())
    assert (frame["b"] == "x").all()
    assert table.column("c").to_pylist()[-1] == 999
