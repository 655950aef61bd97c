"""``leadscore generate``'s options that shape the synthetic CRM like real exports.

Each maps onto an argument of :func:`pipelines.synthetic.generate_crm`: a short history, a
field filled in only when a lead closes (a planted leak), a shift of the drivers halfway,
segments whose conversions have different drivers, and the latent truth for the oracle.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from scoring.cli.errors import EXIT_BAD_INPUT, fail

LATENT_TABLE = "synthetic_latent"

HistoryDaysOpt = Annotated[
    int,
    typer.Option(
        "--history-days", min=1, help="Days of history before the export (270: nine months)."
    ),
]
FillOnCloseOpt = Annotated[
    str | None,
    typer.Option(
        "--fill-on-close",
        metavar="COL[,COL]",
        help="Leads columns filled in only when a lead closes (e.g. industry,employees): a "
        "planted leak that the fill-rate check should flag.",
    ),
]
PeriodShiftOpt = Annotated[
    bool,
    typer.Option(
        "--period-shift", help="What drives conversion changes halfway through the history."
    ),
]
SegmentDriversOpt = Annotated[
    bool,
    typer.Option(
        "--segment-drivers",
        help="Segments convert on different signals: partner leads on meetings, web-form "
        "leads on pricing-page views (for train --segment-by source).",
    ),
]
WithLatentOpt = Annotated[
    bool,
    typer.Option(
        "--with-latent",
        help=f"Also write the latent truth ({LATENT_TABLE}; with --dialect, "
        f"{LATENT_TABLE}.csv) that pipelines.synthetic.oracle_T reads. Not CRM data.",
    ),
]


def latent_tables(target: Any, latent: Any) -> dict[str, Any]:
    """The latent table to write beside a new CRM: its own, or, where an earlier
    ``generate --with-latent`` left one, that table emptied: it would give the oracle the
    truth of another CRM (an empty one makes it fail loudly)."""
    if latent is not None:
        return {LATENT_TABLE: latent}
    if target.exists(LATENT_TABLE):
        return {LATENT_TABLE: target.read(LATENT_TABLE).iloc[:0]}
    return {}


def generate_shaped(leads: int, seed: int, shape: dict[str, Any]) -> dict[str, Any]:
    """``generate_crm`` with the options' shape; a column that cannot be filled is exit 2."""
    from pipelines.synthetic import generate_crm

    try:
        return generate_crm(leads, seed=seed, **shape)
    except ValueError as err:
        fail(str(err).replace("fill_on_close:", "--fill-on-close:", 1), EXIT_BAD_INPUT)


def crm_shape(
    history_days: int,
    fill_on_close: str | None,
    period_shift: bool,
    segment_drivers: bool,
    with_latent: bool,
) -> dict[str, Any]:
    """The keyword arguments of ``generate_crm`` that the options ask for."""
    columns = tuple(c.strip() for c in (fill_on_close or "").split(",") if c.strip())
    return {
        "history_days": history_days,
        "fill_on_close": columns,
        "period_shift": period_shift,
        "segment_drivers": segment_drivers,
        "with_latent": with_latent,
    }
