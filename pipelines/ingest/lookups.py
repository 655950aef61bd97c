"""Lookup files: a second export joined to a table's file by a key, many rows to one.

An opportunities export names its account; the account's industry and size live in an
accounts file, one row per account. A mapping's ``lookups:`` section names such a file
(the CLI's ``--lookup NAME=FILE`` gives its path) and the key columns; :func:`join_lookups`
adds the lookup file's columns to the table's file as ``NAME.column``, so ``columns:``,
``when:``, ``where:`` and ``attributes:`` can read them like any other column. Keys match
trimmed and in any case. A key found twice in a lookup file is an error naming it (the join
would be ambiguous); a key not found leaves the joined columns empty and is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.ingest.spec import LookupSpec, MappingError
from pipelines.ingest.values import as_text, normalized_keys


@dataclass(frozen=True)
class LookupCounts:
    """How one table's rows met one lookup file."""

    table: str
    lookup: str
    rows: int
    matched: int
    without_key: int
    unmatched_keys: pd.Series  # key → rows, for keys the lookup file lacks

    @property
    def unmatched(self) -> int:
        return self.rows - self.matched - self.without_key

    def note(self) -> str:
        """One summary line: rows matched, and which keys were not found."""
        line = f"lookup {self.lookup}: {self.matched:,} of {self.rows:,} {self.table} rows matched"
        if self.without_key:
            line += f", {self.without_key:,} have no key"
        if self.unmatched:
            shown = ", ".join(repr(k) for k in self.unmatched_keys.index[:3])
            more = (
                f" and {len(self.unmatched_keys) - 3} more" if len(self.unmatched_keys) > 3 else ""
            )
            line += (
                f", {self.unmatched:,} rows have a key not in the {self.lookup} file "
                f"({len(self.unmatched_keys):,} keys: {shown}{more})"
            )
        return line


def join_lookup(
    table: str, frame: pd.DataFrame, name: str, spec: LookupSpec, lookup: pd.DataFrame
) -> tuple[pd.DataFrame, LookupCounts]:
    """``frame`` with the lookup file's columns added as ``name.column`` (same rows, order).

    Raises:
        MappingError: a key column is missing, or a key appears twice in the lookup file.
    """
    lookup_key = spec.lookup_key or spec.key
    if spec.key not in frame.columns:
        raise MappingError(f"tables.{table}.lookups.{name}: the {table} file has no {spec.key!r}")
    if lookup_key not in lookup.columns:
        raise MappingError(
            f"lookup {name}: the file has no key column {lookup_key!r}; columns found: "
            f"{', '.join(map(str, lookup.columns[:12]))}"
        )
    keys = normalized_keys(as_text(lookup[lookup_key]))
    doubled = keys[keys.notna() & keys.duplicated()]
    if len(doubled):
        first = as_text(lookup[lookup_key])[doubled.index[0]]
        raise MappingError(
            f"lookup {name}: key {first!r} appears more than once in the file "
            f"({doubled.nunique():,} keys do); a lookup joins one row per key"
        )
    columns = [c for c in lookup.columns if c != lookup_key]
    right = lookup.loc[keys.notna().to_numpy(), columns].reset_index(drop=True)
    right.index = pd.Index(keys[keys.notna()].to_numpy(dtype=object))
    right.columns = [f"{name}.{c}" for c in columns]
    frame = frame.reset_index(drop=True)
    wanted = normalized_keys(as_text(frame[spec.key]))
    position = pd.Series(range(len(right)), index=right.index)  # key → row of the lookup
    found = wanted.map(position)
    joined = right.reset_index(drop=True).reindex(found.fillna(-1).astype("int64").to_numpy())
    joined.index = frame.index
    clashes = [c for c in joined.columns if c in frame.columns]
    if clashes:
        raise MappingError(f"lookup {name}: the {table} file already has a column {clashes[0]!r}")
    text = as_text(frame[spec.key])
    missing = wanted.notna() & found.isna()
    counts = LookupCounts(
        table=table,
        lookup=name,
        rows=len(frame),
        matched=int(found.notna().sum()),
        without_key=int(wanted.isna().sum()),
        unmatched_keys=text[missing].value_counts(),
    )
    return pd.concat([frame, joined], axis=1), counts


def join_lookups(
    table: str,
    frame: pd.DataFrame,
    specs: dict[str, LookupSpec],
    lookups: dict[str, pd.DataFrame],
) -> tuple[pd.DataFrame, list[LookupCounts]]:
    """Joins every lookup of a table's mapping; each needs its file in ``lookups``.

    Raises:
        MappingError: a lookup's file was not given, or it does not fit (see :func:`join_lookup`).
    """
    counts = []
    for name, spec in specs.items():
        if name not in lookups:
            raise MappingError(
                f"the mapping joins a lookup file {name!r} to {table}: give it with "
                f"--lookup {name}=FILE"
            )
        frame, count = join_lookup(table, frame, name, spec, lookups[name])
        counts.append(count)
    return frame, counts
