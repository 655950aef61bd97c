"""The `leadscore` command line: one typer app, thin commands over the library.

Each command group lives in its own module (``data``, ``train``, ``score``, ``reports``);
this module only assembles them. Exit codes are documented in :mod:`scoring.cli.errors`.
Heavy libraries are imported inside commands so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import warnings

import typer

from scoring.cli.data import generate, import_
from scoring.cli.reports import export, report, top
from scoring.cli.score import score
from scoring.cli.tables import fit_to_output
from scoring.cli.train import models, promote, train

app = typer.Typer(
    help="leadscore: explainable lead scoring and qualification for B2B sales teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _fit_output() -> None:
    """leadscore: explainable lead scoring and qualification for B2B sales teams."""
    fit_to_output()  # piped output: whole lines, never wrapped at 80 columns


for command in (generate, train, promote, score, top, models, export, report):
    app.command()(command)
app.command(name="import")(import_)


def main() -> None:
    """Entry point of the `leadscore` console script."""
    logging.basicConfig(
        level=os.environ.get("LEADSCORE_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # pandera imports pyspark.pandas where the spark extra is installed, and pyspark warns
    # at every import that pandas 3 is "not fully supported" (measured: it works here).
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    app(prog_name="leadscore")


if __name__ == "__main__":  # pragma: no cover
    main()
