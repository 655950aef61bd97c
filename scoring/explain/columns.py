"""A chunk's columns (transformed features, then raw inputs) as arrays, converted once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def column_arrays(*frames: pd.DataFrame) -> dict[str, np.ndarray]:
    """Column name → numpy array, earlier frames winning on a name clash."""
    out: dict[str, np.ndarray] = {}
    for frame in frames:
        for column in frame.columns:
            out.setdefault(column, frame[column].to_numpy())
    return out


class RowView:
    """One row across column arrays of the transformed features and the raw inputs."""

    def __init__(self, columns: dict[str, np.ndarray], row: int) -> None:
        self._columns = columns
        self._row = row

    def get(self, name: str, default: object = None) -> object:
        column = self._columns.get(name)
        return default if column is None else column[self._row]

    __getitem__ = get

    def arrays(self) -> dict[str, np.ndarray]:
        """This row alone, as one-row column arrays."""
        return {name: values[self._row : self._row + 1] for name, values in self._columns.items()}


class Columns:
    """Numbers and texts of a chunk's columns, each converted once, when a signal reads it.

    ``num`` gives float64 with NaN for missing; ``text`` gives objects with None for missing
    (NaN, None, pandas' NA and blank strings). ``memo`` keeps results signals share (the
    engagement count matrices).
    """

    def __init__(self, columns: dict[str, np.ndarray | pd.Series]) -> None:
        self._columns = columns
        self._values: dict[str, np.ndarray] = {}
        self._num: dict[str, np.ndarray] = {}
        self._text: dict[str, np.ndarray] = {}
        self.memo: dict[Any, Any] = {}
        self.rows = len(next(iter(columns.values()))) if columns else 0

    @classmethod
    def of_frames(cls, *frames: pd.DataFrame) -> Columns:
        """The columns of ``frames``, earlier frames winning on a name clash."""
        columns: dict[str, np.ndarray | pd.Series] = {}
        for frame in frames:
            for name in frame.columns:
                columns.setdefault(name, frame[name])
        return cls(columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def names(self) -> list[str]:
        """Every column name, features first."""
        return list(self._columns)

    def first(self, *names: str) -> str | None:
        """The first of ``names`` that is a column."""
        return next((n for n in names if n in self._columns), None)

    def values(self, name: str) -> np.ndarray:
        """The column as a numpy array."""
        if name not in self._values:
            column = self._columns[name]
            self._values[name] = column.to_numpy() if isinstance(column, pd.Series) else column
        return self._values[name]

    def num(self, name: str) -> np.ndarray:
        """The column as float64 (NaN for missing; non-numbers are missing)."""
        if name not in self._num:
            values = self.values(name)
            if values.dtype.kind in "fiub":
                self._num[name] = values.astype("float64", copy=False)
            else:
                numbers = pd.to_numeric(pd.Series(values), errors="coerce")
                self._num[name] = numbers.to_numpy(dtype="float64", na_value=np.nan)
        return self._num[name]

    def num_or(self, name: str, default: float) -> np.ndarray:
        """The column as float64, or ``default`` everywhere when there is no such column."""
        return self.num(name) if name in self._columns else np.full(self.rows, default)

    def text(self, name: str) -> np.ndarray:
        """The column as objects: stripped strings, None for missing or blank."""
        if name not in self._text:
            codes, uniques = pd.factorize(pd.Series(self.values(name), dtype=object))
            cleaned = [str(u).strip() or None for u in uniques]
            self._text[name] = np.array([*cleaned, None], dtype=object)[codes]
        return self._text[name]
