"""Options every command shares, and the small helpers behind them.

Heavy libraries are imported inside the helpers, so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from scoring.cli.errors import EXIT_BAD_INPUT, fail

if TYPE_CHECKING:
    import pandas as pd

console = Console()

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store URI (default $LEADSCORE_STORE or duckdb:///data/leadscore.duckdb)."
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config-dir", help="Directory of YAML configs (default ./configs).")
]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///data/mlflow.db).",
    ),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Date (YYYY-MM-DD) the run is as of.")]
RunAsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Date (YYYY-MM-DD) of the scoring run (default: the latest)."),
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


def parse_date(value: str | None, option: str = "--as-of") -> pd.Timestamp | None:
    """A date option as a UTC timestamp (a plain date is midnight UTC); exit 2 if unreadable."""
    import pandas as pd

    from pipelines import utc

    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (expected YYYY-MM-DD)", EXIT_BAD_INPUT)
    # A plain date means midnight UTC; an explicit offset is honoured.
    return utc(stamp).normalize() if stamp.tzinfo is None else utc(stamp)


def use_tracking(store: str | None, explicit: str | None) -> str:
    """Points MLflow at the tracking URI for ``store`` (explicit, ``$MLFLOW_TRACKING_URI``,
    or a sqlite file beside a local store) and returns it."""
    from models import configure, tracking_uri
    from pipelines.storage import open_store

    uri = tracking_uri(explicit, open_store(store).location or Path("data"))
    configure(uri)
    return uri


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
