"""What ``leadscore import`` prints: counts per table, what the mapping left out, what the
store gains or keeps, and which lead columns are filled only once a lead closes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from models import LeakageSettings
    from pipelines.ingest import ImportReport, LoadPlan


def table_lines(report: ImportReport) -> list[str]:
    """One line per table read (read, left out, loaded, quarantined and why), then the
    mapping's findings: ignored and absent columns, unmapped values, notes."""
    lines = []
    for table, read in report.rows_read.items():
        parts = [f"read {read:,}"]
        if report.rows_filtered.get(table):
            parts.append(f"left out by the mapping's `where` {report.rows_filtered[table]:,}")
        parts.append(f"loaded {report.rows_loaded[table]:,}")
        parts.append(f"quarantined {report.rows_quarantined.get(table, 0):,}")
        reasons = report.reasons.get(table)
        why = (
            ", ".join(f"{reason}: {n:,}" for reason, n in reasons.most_common(4)) if reasons else ""
        )
        lines.append(f"{table}: {', '.join(parts)}" + (f" ({why})" if why else ""))
    mapped = report.mapped
    for table, columns in mapped.ignored.items():
        if columns:
            lines.append(f"ignored {table} columns (not in the mapping): {', '.join(columns)}")
    for table, columns in mapped.outcome_only.items():
        if columns:
            lines.append(f"outcome only, never features ({table}): {', '.join(columns)}")
    for table, columns in mapped.absent.items():
        if columns:
            lines.append(f"mapped but not in the {table} file (left empty): {', '.join(columns)}")
    for column, counts in mapped.unmapped_values.items():
        shown = ", ".join(f"{value!r} ({n:,})" for value, n in counts.head(5).items())
        more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
        lines.append(f"values not in the mapping for {column}, kept as they are: {shown}{more}")
    lines.extend(report.notes)
    return lines


def plan_line(plan: LoadPlan) -> str:
    """``leads 10,000 → 9,998; activities kept (428,934 rows, not in this import); ...``."""
    return "; ".join(change.describe() for change in plan.changes)


def _rate(value: float) -> str:
    return "   -" if math.isnan(value) else f"{value:4.0%}"


def fill_rate_lines(leads: pd.DataFrame, leakage: LeakageSettings) -> list[str]:
    """The fill-rate block: each lead column's fill rate among converted, lost and open
    leads, flagged as training flags it (``train.yaml`` ``leakage.fill_*``)."""
    from pipelines import fill_rate_report, fill_rates_by_status

    if leads.empty:
        return []
    rates = fill_rates_by_status(leads)
    report = fill_rate_report(
        leads, leakage.fill_outcome_min, leakage.fill_gap, leakage.fill_warn_gap
    )
    worst = report.drop_duplicates("column").set_index("column")  # sorted: largest gap first
    converted = int(leads["converted_at"].notna().sum())
    lost = int((leads["lost_at"].notna() & leads["converted_at"].isna()).sum())
    width = max(len(str(c)) for c in rates["column"]) if len(rates) else 0
    lines = [
        f"fill rate by outcome, converted / lost / open ({converted:,} / {lost:,} / "
        f"{len(leads) - converted - lost:,} leads):"
    ]
    for row in rates.itertuples():
        flag = ""
        if row.column in worst.index and (found := worst.loc[row.column])["action"] != "ok":
            rates = (
                f"filled for {found['fill_outcome']:.0%} of {found['outcome']} leads, "
                f"{found['fill_other']:.0%} of the others"
            )
            flag = (
                f"  filled ⇒ outcome ({rates}): train excludes it"
                if found["action"] == "drop"
                else f"  check ({rates})"
            )
        lines.append(
            f"  {row.column:<{width}}  {_rate(row.converted)} / {_rate(row.lost)} / "
            f"{_rate(row.open)}{flag}"
        )
    return lines
