"""Filling ``{field}`` templates for many rows at once, and counts with their nouns."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from string import Formatter


def template_fields(template: str | None) -> list[str]:
    """The ``{field}`` names a template uses, in order.

    Raises:
        ValueError: a brace is unbalanced, or a field has a format spec or conversion.
    """
    if template is None:
        return []
    fields = []
    for _, name, spec, conversion in Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"{template!r}: write plain {{field}} names (fields are words)")
        fields.append(name)
    return fields


def fill(template: str, fields: Mapping[str, Sequence[str]], rows: int) -> list[str]:
    """``rows`` sentences: the template with each field's i-th value in sentence i."""
    parts: list[Iterator[str] | Sequence[str]] = []
    for literal, name, _, _ in Formatter().parse(template):
        parts.append(itertools.repeat(literal, rows))
        if name is not None:
            parts.append(fields[name])
    if len(parts) == 1:
        return [template] * rows
    return ["".join(pieces) for pieces in zip(*parts, strict=False)]


def counted(forms: tuple[str, str], n: int) -> str:
    """``n`` with its noun: ``("a meeting", "{n} meetings")`` gives "a meeting", "3 meetings"."""
    return forms[0] if n == 1 else forms[1].format(n=f"{n:,}")


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
