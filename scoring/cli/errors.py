"""Exit codes and the one place library errors become one-line messages.

Exit codes (for schedulers; the README has the same table):

- 0 ok;
- 2 bad input or usage: a table breaks the contract, a bad option or config value, an
  ``--as-of`` that is not ISO or is after today or the store's data;
- 3 the registry lacks the model asked for: no registry, no champion, an unknown
  ``--name``, version or alias, or a champion trained on another store;
- 4 store unavailable: it does not exist (nothing is created), cannot be opened, or lacks
  a required table;
- 5 another run holds the store's lock (or kept DuckDB's file lock past the wait);
- 6 not enough data to train.
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
_SCORE_FIRST = "no scoring run yet (run `leadscore score` first)"
NEXT_STEPS = {  # a missing table: what the user has not done yet
    "lead_scores": _SCORE_FIRST,
    "scoring_runs": _SCORE_FIRST,
    "leads": "no CRM in the store yet (run `leadscore import` or `leadscore generate` first)",
}


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
    except TableNotFound as err:
        step = NEXT_STEPS.get(err.table or "")
        fail(f"{err}: {step}" if step else str(err), EXIT_STORE_UNAVAILABLE)
    except StoreError as err:
        fail(str(err), EXIT_STORE_UNAVAILABLE)
    except (ContractError, ConfigError) as err:
        fail(str(err), EXIT_BAD_INPUT)
    except Exception as err:
        from models import InsufficientDataError, ModelNotFound
        from pipelines.spark import SparkUnavailable
        from scoring.provenance import ForeignModelError

        if isinstance(err, ModelNotFound | ForeignModelError):
            fail(str(err), EXIT_NO_CHAMPION)
        if isinstance(err, InsufficientDataError):
            fail(str(err), EXIT_INSUFFICIENT_DATA)
        if isinstance(err, SparkUnavailable):
            fail(str(err), EXIT_BAD_INPUT)
        raise
