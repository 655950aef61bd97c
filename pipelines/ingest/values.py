"""Parsing the values of a CRM export: picklist translation, booleans, numbers and times.

Each function takes one source column and returns the column translated for the contract,
with the values it could not handle left as they were (times, booleans) so that the
contract check rejects their rows with a reason, or reported by position (numbers, which
pandera could only reject for the whole table). Nothing here reads files or the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

# An offset after a time of day (a date alone, 2026-03-15, ends in "-15" but has none).
_OFFSET = re.compile(
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")


def normalize_key(value: object) -> str:
    """The form a value is matched in: trimmed, inner spaces collapsed, case-folded."""
    return _SPACES.sub(" ", str(value).strip()).casefold()


def as_text(values: pd.Series) -> pd.Series:
    """Values as trimmed strings (object dtype); missing and blank become None."""
    out = np.full(len(values), None, dtype=object)
    present = values.notna().to_numpy()
    if present.any():
        text = values[present].astype(str).str.strip()
        keep = (text != "").to_numpy()
        out[np.flatnonzero(present)[keep]] = text[keep].to_numpy(dtype=object)
    return pd.Series(out, index=values.index, dtype=object)


def normalized_keys(text: pd.Series) -> pd.Series:
    """:func:`normalize_key` of each value of ``as_text`` output (None stays None)."""
    keys = text.astype("str").str.replace(_SPACES, " ", regex=True).str.casefold()
    return keys.astype(object).where(text.notna().to_numpy(), None)


def translate(
    values: pd.Series, table: Mapping[str, str | None], keep_unmapped: bool = True
) -> tuple[pd.Series, pd.Series]:
    """Translates picklist values by ``table`` (keys matched trimmed and case-insensitive).

    Returns:
        The translated values, and the count of each present value the table lacks
        (kept as it was, or made missing when ``keep_unmapped`` is false).
    """
    text = as_text(values)
    lookup = {normalize_key(k): v for k, v in table.items()}
    keys = normalized_keys(text)
    known = keys.isin(list(lookup))
    out = keys.map(lookup).where(known, text if keep_unmapped else None)
    unmapped = text[text.notna() & ~known].value_counts()
    return out.astype("object").where(out.notna(), None), unmapped


def to_boolean_words(
    values: pd.Series, true_values: tuple[str, ...], false_values: tuple[str, ...]
) -> pd.Series:
    """ "true"/"false" for the listed words; without ``false_values`` any other value is false.

    Other values are left as they are, for the contract's boolean check to reject.
    """
    text = as_text(values)
    keys = normalized_keys(text)
    truthy = keys.isin([normalize_key(v) for v in true_values])
    falsy = keys.isin([normalize_key(v) for v in false_values]) if false_values else text.notna()
    out = text.where(~falsy, "false").where(~truthy, "true")
    return out.astype("object")


def to_numbers(
    values: pd.Series, scale: float | None = None, integer: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Numbers (float64), scaled; returns them and the raw values that did not parse.

    A value that does not parse (or, for ``integer``, has a fraction) becomes NaN and is
    reported in the second series (indexed like ``values``).
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        bad = pd.Series(False, index=values.index)
    else:
        text = as_text(values)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = numbers.isna() & text.notna()
    if integer:
        fraction = numbers.notna() & (np.floor(numbers) != numbers)
        bad |= fraction
    if scale is not None:
        numbers = numbers * scale
    return numbers.where(~bad), values[bad].astype(str)


def to_utc_times(
    values: pd.Series, fmt: str | None, timezone: str, day_end: bool = False
) -> pd.Series:
    """Times in UTC: values with an offset keep it, others are read in ``timezone``.

    With ``day_end``, a value without an offset is read as the last microsecond of its day
    (for dates alone: an event dated D happened at some time during D).

    ``fmt`` is a ``strftime`` format (default: ISO 8601, dates alone included). Ambiguous
    local times (the hour repeated when clocks go back) are read as standard time, and
    times skipped when clocks go forward are moved forward. When a present value does not
    parse, the result is an object column holding the raw text in its place, for the
    contract's timestamp check to reject with the value.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_dtype(values):
        return _localize(values, timezone)
    text = as_text(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    present = text.notna()
    offset = present & text.astype("str").str.contains(_OFFSET, regex=True).to_numpy(dtype=bool)
    parse_format = fmt or "ISO8601"
    if offset.any():
        cleaned = text[offset].str.replace(r"\s*(utc|gmt)$", "+00:00", regex=True, case=False)
        parsed = pd.to_datetime(cleaned, format=parse_format, utc=True, errors="coerce")
        out[offset] = parsed.astype("datetime64[us, UTC]")
    naive = present & ~offset
    if naive.any():
        parsed = pd.to_datetime(text[naive], format=parse_format, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # the format itself carried %z
            out[naive] = parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        else:
            if day_end:
                parsed = parsed.dt.normalize() + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            out[naive] = _localize(parsed, timezone)
    failed = present & out.isna()
    if failed.any():
        mixed = out.astype("object").where(out.notna(), None)
        mixed[failed] = text[failed]
        return mixed
    return out


def _localize(values: pd.Series, timezone: str) -> pd.Series:
    standard_time = np.zeros(len(values), dtype=bool)
    local = values.dt.tz_localize(timezone, ambiguous=standard_time, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
