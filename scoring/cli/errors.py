"""Exit codes and the one place library errors become one-line messages.

Exit codes (for schedulers): 0 ok; 2 bad input or usage (a table breaks the contract, a bad
option, a bad config); 3 no champion model; 4 store unavailable (cannot open, missing
table); 5 another run holds the store's lock; 6 not enough data to train.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

EXIT_BAD_INPUT = 2
EXIT_NO_CHAMPION = 3
EXIT_STORE_UNAVAILABLE = 4
EXIT_LOCKED = 5
EXIT_INSUFFICIENT_DATA = 6

err_console = Console(stderr=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Prints ``error: message`` on stderr and exits with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Maps library errors to one-line messages and documented exit codes."""
    from pipelines import ConfigError, ContractError
    from pipelines.storage import StoreError, StoreLocked, TableNotFound

    try:
        yield
    except StoreLocked as err:
        fail(str(err), EXIT_LOCKED)
    except (TableNotFound, StoreError) as err:
        fail(str(err), EXIT_STORE_UNAVAILABLE)
    except (ContractError, ConfigError) as err:
        fail(str(err), EXIT_BAD_INPUT)
    except Exception as err:
        from models import InsufficientDataError, NoChampionError
        from pipelines.spark import SparkUnavailable

        if isinstance(err, NoChampionError):
            fail(str(err), EXIT_NO_CHAMPION)
        if isinstance(err, InsufficientDataError):
            fail(str(err), EXIT_INSUFFICIENT_DATA)
        if isinstance(err, SparkUnavailable):
            fail(str(err), EXIT_BAD_INPUT)
        raise
