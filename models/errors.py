"""The errors of the models package (mapped to exit codes by the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines import TrainingTables


class InsufficientDataError(ValueError):
    """Too few leads or conversions to train a trustworthy model (exit 6)."""


def require_leads(tables: TrainingTables) -> None:
    """Raises :class:`InsufficientDataError` (one line) when there is no valid lead at all:
    nothing else about the data (its dates, its span) can be asked then."""
    if tables.leads.empty:
        raise InsufficientDataError(
            "no leads to train on: the store's leads table is empty or every row fails the "
            "contract (import or generate a CRM first)"
        )
