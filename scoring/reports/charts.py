"""The health report's charts: matplotlib figures returned as PNG ``data:`` URIs.

Uses matplotlib's object API (no pyplot, no global state); the style is applied per figure.
PNG metadata is left out, so the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

INK, MUTED, LINE = "#1e293b", "#64748b", "#e2e8f0"
ACCENT, ACCENT_LIGHT, GOOD, BAD, WARN = "#4338ca", "#a5b4fc", "#15803d", "#b91c1c", "#d97706"
GRADE_COLORS = {"A": "#15803d", "B": "#65a30d", "C": "#d97706", "D": "#94a3b8"}
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9.5,
    "axes.edgecolor": LINE,
    "axes.labelcolor": MUTED,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": LINE,
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "legend.frameon": False,
    "figure.dpi": 100,
}
DPI = 144


@contextmanager
def _figure(width: float = 6.4, height: float = 3.3) -> Iterator[tuple[Figure, Axes]]:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig, fig.add_subplot()


def _uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _money(value: float, _: object = None) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.0f}"


def _hbar_labels(ax: Axes, values: np.ndarray, labels: list[str]) -> None:
    span = float(np.nanmax(values)) if len(values) and np.nanmax(values) > 0 else 1.0
    for y, (value, label) in enumerate(zip(values, labels, strict=True)):
        ax.text(value + span * 0.01, y, label, va="center", fontsize=8.5, color=INK)
    ax.set_xlim(0, span * 1.22)


def funnel_chart(funnel: pd.DataFrame) -> str:
    """Cohort leads reaching each stage, with the stage-to-stage conversion."""
    with _figure(height=3.4) as (fig, ax):
        reached = funnel["reached"].to_numpy(dtype="float64")
        y = np.arange(len(funnel))
        ax.barh(y, reached, color=ACCENT, height=0.62)
        ax.set_yticks(y, funnel["stage"])
        ax.invert_yaxis()
        steps = funnel["conversion_to_next"].shift(1)
        labels = [
            f"{int(n):,}" + ("" if pd.isna(s) else f"   ({100 * s:.0f}% of previous)")
            for n, s in zip(reached, steps, strict=True)
        ]
        _hbar_labels(ax, reached, labels)
        ax.set_xlim(0, max(reached.max(), 1) * 1.45)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_title("Funnel: cohort leads reaching each stage")
        return _uri(fig)


def stage_now_chart(funnel: pd.DataFrame, stagnant: pd.Series) -> str:
    """Open leads per stage now, the stagnant part highlighted."""
    with _figure(height=3.4) as (fig, ax):
        now = funnel[funnel["in_stage_now"] > 0]
        stuck = stagnant.reindex(now["stage"]).fillna(0).to_numpy(dtype="float64")
        total = now["in_stage_now"].to_numpy(dtype="float64")
        y = np.arange(len(now))
        ax.barh(y, total - stuck, color=ACCENT_LIGHT, height=0.62, label="within threshold")
        ax.barh(y, stuck, left=total - stuck, color=BAD, height=0.62, label="stagnant")
        ax.set_yticks(y, now["stage"])
        ax.invert_yaxis()
        _hbar_labels(ax, total, [f"{int(t):,}" for t in total])
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", fontsize=8.5)
        ax.set_title("Open leads per stage now")
        return _uri(fig)


def days_in_stage_chart(days: pd.DataFrame, thresholds: dict[str, int]) -> str:
    """Mean and median days per stage against the stagnant threshold."""
    with _figure(height=3.4) as (fig, ax):
        x = np.arange(len(days))
        ax.bar(x - 0.2, days["mean_days"].fillna(0), 0.4, color=ACCENT, label="mean")
        ax.bar(x + 0.2, days["median_days"].fillna(0), 0.4, color=ACCENT_LIGHT, label="median")
        limit = [thresholds.get(s, np.nan) for s in days["stage"]]
        ax.scatter(x, limit, marker="_", s=500, color=BAD, linewidths=2, label="stagnant after")
        ax.set_xticks(x, days["stage"])
        ax.set_ylabel("days")
        ax.grid(axis="x", visible=False)
        ax.legend(ncols=3, fontsize=8.5, loc="upper right")
        ax.set_ylim(0, np.nanmax([*days["mean_days"].fillna(0), *limit, 1]) * 1.25)
        ax.set_title("Days in each stage (completed stays)")
        return _uri(fig)


ACTION_COLORS = {
    "disqualify": BAD,
    "back to qualification": WARN,
    "recycle to nurture": ACCENT_LIGHT,
}


def cleanup_chart(todo: pd.DataFrame, stage_order: tuple[str, ...]) -> str:
    """Leads to clean up per stage, split by suggested action."""
    with _figure(height=3.4) as (fig, ax):
        table = pd.crosstab(todo["stage"].fillna("(no stage)"), todo["action"])
        order = [s for s in stage_order if s in table.index]
        table = table.reindex(order + [s for s in table.index if s not in order])
        y = np.arange(len(table))
        left = np.zeros(len(table))
        for action, color in ACTION_COLORS.items():
            values = table.get(action, pd.Series(0, index=table.index)).to_numpy(dtype="float64")
            ax.barh(y, values, left=left, color=color, height=0.62, label=action)
            left += values
        ax.set_yticks(y, table.index)
        ax.invert_yaxis()
        _hbar_labels(ax, left, [f"{int(v):,}" for v in left])
        ax.grid(axis="y", visible=False)
        ax.legend(fontsize=8.5, loc="lower right")
        ax.set_title("Leads to clean up, by stage and suggested action")
        return _uri(fig)


def lvr_chart(lvr: pd.DataFrame) -> str:
    """Qualified leads per month, labelled with the month-over-month growth."""
    with _figure(height=3.4) as (fig, ax):
        x = np.arange(len(lvr))
        counts = lvr["qualified_leads"].to_numpy(dtype="float64")
        colors = [ACCENT_LIGHT] * (len(lvr) - 1) + [ACCENT]
        ax.bar(x, counts, color=colors, width=0.7)
        top = max(counts.max() if len(counts) else 1, 1)
        for i, (n, g) in enumerate(zip(counts, lvr["lvr"], strict=True)):
            if not pd.isna(g):
                color = GOOD if g >= 0 else BAD
                ax.text(i, n + top * 0.02, f"{100 * g:+.0f}%", ha="center", fontsize=8, color=color)
        ax.set_xticks(x, [m.strftime("%b\n%Y") if m.month == 1 or i == 0 else m.strftime("%b")
                          for i, m in enumerate(lvr["month"])])  # fmt: skip
        ax.set_ylim(0, top * 1.18)
        ax.grid(axis="x", visible=False)
        ax.set_title("Newly qualified leads (SQL) per month, and growth")
        return _uri(fig)


def score_histogram(current: pd.Series, previous: pd.Series | None, previous_label: str) -> str:
    """Share of leads per 5-point score band, now and at the previous run."""
    with _figure(height=3.4) as (fig, ax):
        bins = [float(b) for b in range(0, 105, 5)]
        weights = np.full(len(current), 100 / max(len(current), 1))
        ax.hist(current, bins=bins, weights=weights, color=ACCENT, label="this run", rwidth=0.9)
        if previous is not None and len(previous):
            w = np.full(len(previous), 100 / len(previous))
            ax.hist(previous, bins=bins, weights=w, histtype="step", color=WARN, linewidth=1.6,
                    label=previous_label)  # fmt: skip
        ax.set_yscale("symlog", linthresh=1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
        ax.set_xlabel("score (probability of converting in the horizon, %)")
        ax.set_xlim(0, 100)
        ax.legend(fontsize=8.5)
        ax.grid(axis="x", visible=False)
        ax.set_title("Score distribution (share of leads, log scale)")
        return _uri(fig)


def grade_mix_chart(grades: pd.Series) -> str:
    """Leads per grade, with their share."""
    with _figure(height=3.4) as (fig, ax):
        counts = grades.value_counts().reindex(list(GRADE_COLORS), fill_value=0)
        x = np.arange(len(counts))
        ax.bar(x, counts, color=list(GRADE_COLORS.values()), width=0.6)
        total = max(int(counts.sum()), 1)
        top = max(int(counts.max()), 1)
        for i, n in enumerate(counts):
            ax.text(
                i, n + top * 0.02, f"{n:,}  ({100 * n / total:.0f}%)", ha="center", fontsize=8.5
            )
        ax.set_xticks(x, [f"grade {g}" for g in counts.index])
        ax.set_ylim(0, top * 1.15)
        ax.grid(axis="x", visible=False)
        ax.set_title("Grade mix")
        return _uri(fig)


def grade_outcome_chart(outcomes: pd.DataFrame, scored_at: str) -> str:
    """Observed conversion per grade of an earlier run, against the predicted probability."""
    with _figure(height=3.4) as (fig, ax):
        x = np.arange(len(outcomes))
        rate = outcomes["conversion_rate"].fillna(0).to_numpy() * 100
        colors = [GRADE_COLORS[g] for g in outcomes["grade"]]
        ax.bar(x, rate, color=colors, width=0.6, label="converted (observed)")
        ax.scatter(x, outcomes["mean_probability"] * 100, marker="D", color=INK, zorder=3,
                   label="predicted (mean probability)")  # fmt: skip
        predicted = outcomes["mean_probability"].fillna(0).to_numpy() * 100
        for i, row in enumerate(outcomes.itertuples()):
            top = max(rate[i], predicted[i])
            ax.text(i, top + 2.5, f"{row.converted:,} of {row.leads:,}", ha="center", fontsize=8)
        ax.set_xticks(x, [f"grade {g}" for g in outcomes["grade"]])
        ax.yaxis.set_major_formatter(PercentFormatter())
        ax.set_ylim(0, max(predicted.max(), rate.max(), 5) * 1.22)
        ax.grid(axis="x", visible=False)
        ax.legend(fontsize=8.5, loc="upper right")
        ax.set_title(f"Did the grades of {scored_at} convert?")
        return _uri(fig)


def hbar_chart(labels: pd.Series, values: pd.Series, title: str, money: bool = False) -> str:
    """Horizontal bars, largest first (revenue by owner or source, conversion by segment)."""
    height = min(max(2.0, 0.5 + 0.24 * len(labels)), 6.5)
    with _figure(height=height) as (fig, ax):
        y = np.arange(len(labels))
        shown = values.fillna(0).to_numpy(dtype="float64")
        ax.barh(y, shown, color=ACCENT, height=0.66)
        ax.set_yticks(y, [str(v) for v in labels], fontsize=8.5)
        ax.invert_yaxis()
        text = [_money(v) if money else f"{100 * v:.1f}%" for v in shown]
        _hbar_labels(ax, shown, text)
        fmt = FuncFormatter(_money) if money else FuncFormatter(lambda v, _: f"{100 * v:.0f}%")
        ax.xaxis.set_major_formatter(fmt)
        ax.grid(axis="y", visible=False)
        ax.set_title(title)
        return _uri(fig)


def psi_chart(table: pd.DataFrame, threshold: float) -> str:
    """PSI per feature with the moderate (0.1) and significant (threshold) lines."""
    with _figure(height=min(max(2.2, 0.6 + 0.24 * len(table)), 6.5)) as (fig, ax):
        y = np.arange(len(table))
        values = table["psi"].fillna(0).to_numpy(dtype="float64")
        ax.barh(y, values, color=[BAD if v > threshold else ACCENT for v in values], height=0.66)
        ax.set_yticks(y, table["feature"], fontsize=8.5)
        ax.invert_yaxis()
        ax.axvline(0.1, color=WARN, linestyle="--", linewidth=1)
        ax.axvline(threshold, color=BAD, linestyle="--", linewidth=1)
        ax.set_xlim(0, max(values.max(initial=0) * 1.15, threshold * 1.5))
        ax.grid(axis="y", visible=False)
        ax.set_title("Feature drift against the training reference (PSI)")
        return _uri(fig)
