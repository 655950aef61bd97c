"""Options every command shares, and the small helpers behind them.

Heavy libraries are imported inside the helpers, so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from scoring.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_NO_CHAMPION,
    EXIT_STORE_UNAVAILABLE,
    err_console,
    fail,
)

if TYPE_CHECKING:
    import pandas as pd

    from pipelines.storage import Store

console = Console()

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URI or a path ending in .duckdb "
        "(default $LEADSCORE_STORE or duckdb:///data/leadscore.duckdb).",
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config-dir", help="Directory of YAML configs (default ./configs).")
]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI, else the store's own "
        "registry: sqlite:///data/leadscore.mlflow.db beside data/leadscore.duckdb).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date the run is as of: YYYY-MM-DD (midnight UTC) or an ISO timestamp "
        "(default: today, UTC).",
    ),
]
TrainAsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Train as of: YYYY-MM-DD (midnight UTC) or an ISO timestamp "
        "(default: the store's latest event).",
    ),
]
RunAsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Date (YYYY-MM-DD) of the scoring run to read (default: the latest)."
    ),
]
AllowFutureOpt = Annotated[
    bool,
    typer.Option(
        "--allow-future", help="Accept an --as-of after today (UTC) or after the store's data."
    ),
]
FlatOpt = Annotated[
    Path | None,
    typer.Option("--flat", dir_okay=False, help="Flat mode: one CSV or Parquet table, no history."),
]
ModelNameOpt = Annotated[
    str | None,
    typer.Option(
        "--model-name", help="Flat mode: registered model name (default lead-conversion-flat)."
    ),
]
OwnerOpt = Annotated[str | None, typer.Option("--owner", help="Only this rep's leads.")]
PlainOpt = Annotated[
    bool, typer.Option("--plain", help="Tab-separated lines, a header first (for scripts).")
]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)]


class EngineName(StrEnum):
    embedded = "embedded"
    spark = "spark"


EngineOpt = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="embedded (DuckDB, one machine) or spark (install leadscore\\[spark]; Java 17).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the master URL (default: the usual Spark settings, else "
        "local[*]).",
    ),
]


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)


def parse_date(
    value: str | None, allow_future: bool = False, option: str = "--as-of"
) -> pd.Timestamp | None:
    """A date option as a UTC timestamp; exit 2, one line, unless it is ISO and not later
    than now (or ``allow_future``).

    ``YYYY-MM-DD`` is midnight UTC; a timestamp (``YYYY-MM-DDTHH:MM[:SS][+HH:MM]``) is that
    instant, naive meaning UTC. Anything else (``01/11/2026``: which is the month?) is refused.
    """
    import pandas as pd

    from pipelines import utc

    if value is None:
        return None
    text = value.strip()
    if not (ISO_DATE.fullmatch(text) or ISO_TIMESTAMP.fullmatch(text)):
        fail(
            f"{option}: {value!r} is not a date in ISO form: YYYY-MM-DD, or a timestamp "
            "YYYY-MM-DDTHH:MM[:SS][+HH:MM]",
            EXIT_BAD_INPUT,
        )
    try:
        stamp = utc(pd.Timestamp(text))
    except ValueError:
        fail(f"{option}: {value!r} is not a valid date", EXIT_BAD_INPUT)
    now = pd.Timestamp.now(tz="UTC")
    if stamp > now and not allow_future:
        fail(
            f"{option} {show_time(stamp)} is after today ({now.date()} UTC); "
            "pass --allow-future if you mean it",
            EXIT_BAD_INPUT,
        )
    return stamp


def show_time(stamp: pd.Timestamp) -> str:
    """A date as ``YYYY-MM-DD`` at midnight, else as its ISO timestamp."""
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat()


def check_in_data(
    store: Store,
    day: pd.Timestamp,
    allow_future: bool,
    option: str = "--as-of",
    grace_days: int = 0,
) -> None:
    """Exit 2 (one line) when ``day`` is after the day of the store's latest event, unless
    ``allow_future``: a run as of a date the data do not reach reads as if nothing happened.

    Args:
        grace_days: days past the data's last day still accepted, with a warning (for the
            default date, today: a weekend without a single event is not a stale export).
    """
    from pipelines import stored_data_end

    if allow_future:
        return
    end = stored_data_end(store)
    if end is None or day <= end.ceil("D"):
        return
    import pandas as pd

    if day <= end.ceil("D") + pd.Timedelta(days=grace_days):
        err_console.print(
            f"[yellow]warning: the store's latest event is {end:%Y-%m-%d %H:%M} UTC; "
            f"scoring as of {show_time(day)}[/]",
            highlight=False,
        )
        return
    fail(
        f"{option} {show_time(day)} is after the store's latest event "
        f"({end:%Y-%m-%d %H:%M} UTC): the data stop there; pass an earlier --as-of, "
        "or --allow-future if you mean it",
        EXIT_BAD_INPUT,
    )


def existing_store(uri: str | None) -> Store:
    """The store named by ``uri``; exit 4 (one line, nothing created) when it does not
    exist or holds no CRM."""
    from pipelines.storage import StoreNotFound, open_store, require_store

    store = open_store(uri)
    try:
        require_store(store)
    except StoreNotFound as err:
        fail(str(err), EXIT_STORE_UNAVAILABLE)
    return store


def _tracking(store: str | None, explicit: str | None) -> tuple[str, Path | None]:
    """The tracking URI for ``store`` (explicit, ``$MLFLOW_TRACKING_URI``, or the store's own
    registry file) and its local sqlite file, if it is one."""
    from models import local_registry, tracking_uri
    from pipelines.storage import open_store, registry_file

    uri = tracking_uri(explicit, registry_file(open_store(store)))
    return uri, local_registry(uri)


def use_tracking(store: str | None, explicit: str | None) -> str:
    """Points MLflow at the tracking URI for ``store``, creating its registry if needed."""
    from models import configure

    uri, db = _tracking(store, explicit)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    configure(uri)
    return uri


def existing_tracking(store: str | None, explicit: str | None) -> str | None:
    """Points MLflow at the registry for ``store`` when it exists (creates nothing); returns
    its URI, or None when the registry is a sqlite file that does not exist."""
    from models import configure

    uri, db = _tracking(store, explicit)
    if db is not None and not db.is_file():
        return None
    configure(uri)
    return uri


def require_tracking(store: str | None, explicit: str | None, store_matters: bool = True) -> str:
    """As :func:`existing_tracking`, but a missing registry is exit 3, or exit 4 when it is
    the store's own, ``store_matters`` and the store does not exist either; one line,
    nothing created."""
    import os

    uri = existing_tracking(store, explicit)
    if uri is not None:
        return uri
    _, db = _tracking(store, explicit)
    if store_matters and not explicit and not os.environ.get("MLFLOW_TRACKING_URI"):
        existing_store(store)
    old = db.parent / "mlflow.db" if db is not None else None
    hint = (
        f" (an older shared registry is {old}: pass --tracking-uri sqlite:///{old} to use it)"
        if old is not None and old != db and old.is_file()
        else ""
    )
    fail(f"no model registry at {db}; run `leadscore train` first{hint}", EXIT_NO_CHAMPION)


def write_output(out: Path, write: object) -> None:
    """Writes a file atomically (``write`` is text, or a callable given the temporary
    path); a failure is one line and exit 2, and the old file stays as it was."""
    from pipelines.storage import write_atomically

    def put(tmp: Path) -> None:
        if callable(write):
            write(tmp)
        else:
            tmp.write_text(str(write), encoding="utf-8")

    try:
        write_atomically(out, put)
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror or err}", EXIT_BAD_INPUT)


def pick_engine(name: EngineName, spark_master: str | None) -> Any:
    """The engine named on the command line; a bad combination is exit 2."""
    from scoring.nightly import engine_named

    try:
        return engine_named(name.value, spark_master)
    except ValueError as err:
        fail(str(err), EXIT_BAD_INPUT)
