"""The `leadscore` command line (console script ``scoring.cli:main``) and its exit codes."""

from scoring.cli.app import app, main
from scoring.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_INSUFFICIENT_DATA,
    EXIT_LOCKED,
    EXIT_NO_CHAMPION,
    EXIT_STORE_UNAVAILABLE,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INSUFFICIENT_DATA",
    "EXIT_LOCKED",
    "EXIT_NO_CHAMPION",
    "EXIT_STORE_UNAVAILABLE",
    "app",
    "main",
]
