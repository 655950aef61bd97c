"""The errors of the models package (mapped to exit codes by the CLI)."""

from __future__ import annotations


class InsufficientDataError(ValueError):
    """Too few leads or conversions to train a trustworthy model (exit 6)."""
