"""Evaluation figures (calibration, gains and lift, scores, importance) as pure functions.

Every function takes arrays and returns a matplotlib ``Figure``; nothing is shown or saved
here (the caller logs it, e.g. ``mlflow.log_figure``). The Agg backend is selected when a
figure is drawn, not on import, so importing this module changes no global state.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.contributions import tree_contributions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# pred_contrib measured ~1 ms/row for the default model (300 trees, 31 leaves) on an idle
# 2-core box, ~10 ms/row with the other core busy; 1k rows already rank features alike.
CONTRIBUTION_ROWS = 5000


def _new_figure(
    rows: int, cols: int, figsize: tuple[float, float], **subplots: Any
) -> tuple[Figure, Any]:
    import matplotlib

    # Headless by default; once pyplot is in use its backend stays (switching would close
    # the caller's open figures).
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A bare Figure is not registered with pyplot, so none is left open between calls.
    figure = Figure(figsize=figsize, layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, **subplots)
    return figure, axes


def reliability_points(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """(mean predicted, observed rate) over equal-count bins of ``p``, lowest first."""
    y, p = np.asarray(y, dtype="float64"), np.asarray(p, dtype="float64")
    order = np.argsort(p, kind="stable")
    chunks = [c for c in np.array_split(order, min(bins, len(order))) if len(c)]
    return (
        np.array([p[c].mean() for c in chunks]),
        np.array([y[c].mean() for c in chunks]),
    )


def cumulative_gains(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of leads worked, share of conversions captured), best-scored leads first.

    Ties keep their input order (the ranking's tie-break), as in ``evaluation.lift_at``.
    Both arrays start at 0.
    """
    y = np.asarray(y, dtype="float64")
    order = np.argsort(-np.asarray(p, dtype="float64"), kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(y[order])])
    total = captured[-1]
    worked = np.arange(len(y) + 1) / max(len(y), 1)
    return worked, captured / total if total > 0 else np.full_like(captured, np.nan)


def calibration_curve_figure(
    y: np.ndarray, p_by_model: Mapping[str, np.ndarray], bins: int = 10
) -> Figure:
    """Reliability diagram (equal-count bins) above a histogram of the predictions."""
    figure, axes = _new_figure(2, 1, (6, 7), height_ratios=(3, 1))
    curve, hist = axes[0, 0], axes[1, 0]
    top = max([float(np.max(p)) for p in p_by_model.values() if len(p)] + [float(np.mean(y))])
    limit = min(1.0, top * 1.05) if top > 0 else 1.0
    curve.plot([0, limit], [0, limit], linestyle="--", color="grey", label="perfectly calibrated")
    edges = np.linspace(0.0, limit, 31)
    for name, p in p_by_model.items():
        predicted, observed = reliability_points(y, p, bins)
        curve.plot(predicted, observed, marker="o", label=name)
        hist.hist(np.asarray(p), bins=edges, histtype="step", label=name)
    curve.set(
        xlim=(0, limit),
        ylim=(0, limit),
        xlabel="mean predicted probability",
        ylabel="observed conversion rate",
        title=f"Calibration ({bins} equal-count bins)",
    )
    curve.legend(loc="upper left")
    hist.set(xlim=(0, limit), xlabel="predicted probability", ylabel="leads")
    return figure


def gains_lift_figure(y: np.ndarray, p_by_model: Mapping[str, np.ndarray]) -> Figure:
    """Cumulative gains (left) and lift (right) against the share of leads worked."""
    figure, axes = _new_figure(1, 2, (11, 4.5))
    gains, lift = axes[0, 0], axes[0, 1]
    y = np.asarray(y, dtype="float64")
    base = float(np.mean(y)) if len(y) else float("nan")
    gains.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    if base > 0:
        gains.plot([0, base, 1], [0, 1, 1], linestyle=":", color="black", label="perfect")
    lift.axhline(1.0, linestyle="--", color="grey", label="random")
    for name, p in p_by_model.items():
        worked, captured = cumulative_gains(y, p)
        gains.plot(worked, captured, label=name)
        # Lift over the first few leads is noise; start at 1% of the list.
        start = max(1, int(np.ceil(0.01 * len(y))))
        lift.plot(worked[start:], captured[start:] / worked[start:], label=name)
    gains.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="share of leads worked (best first)",
        ylabel="share of conversions captured",
        title="Cumulative gains",
    )
    lift.set(
        xlim=(0, 1),
        xlabel="share of leads worked (best first)",
        ylabel="lift (conversion rate / base rate)",
        title=f"Lift (base rate {base:.1%})",
    )
    gains.legend(loc="lower right")
    lift.legend(loc="upper right")
    return figure


def score_distribution_figure(y: np.ndarray, p: np.ndarray, bins: int = 40) -> Figure:
    """Histograms of the predicted probability for converted and not converted leads."""
    figure, axes = _new_figure(1, 1, (7, 4.5))
    ax = axes[0, 0]
    y, p = np.asarray(y).astype(int), np.asarray(p, dtype="float64")
    edges = np.linspace(0.0, max(float(p.max()) if len(p) else 1.0, 1e-9), bins + 1)
    for label, name in ((0, "not converted"), (1, "converted")):
        ax.hist(
            p[y == label],
            bins=edges,
            density=True,
            histtype="stepfilled",
            alpha=0.5,
            label=f"{name} (n={int(np.sum(y == label))})",
        )
    ax.set(
        xlabel="predicted probability",
        ylabel="density",
        title="Score distribution by outcome",
    )
    ax.legend()
    return figure


def feature_importance_figure(
    gain: pd.Series, mean_abs_contribution: pd.Series, top: int = 20
) -> Figure:
    """Horizontal bars: share of split gain (left) and mean |contribution| (right).

    Each panel shows its own ``top`` features, largest at the top; a feature that ranks high
    on gain but low on contribution is split on often but moves few predictions.
    """
    figure, axes = _new_figure(1, 2, (12, 0.3 * top + 1.5))
    total_gain = float(gain.sum())
    share = gain / total_gain if total_gain > 0 else gain * 0.0
    panels = (
        (axes[0, 0], share, "share of total split gain", "Split gain"),
        (axes[0, 1], mean_abs_contribution, "mean |contribution| (log-odds)", "Contribution"),
    )
    for ax, values, xlabel, title in panels:
        shown = values.sort_values(ascending=False, kind="stable").head(top)[::-1]
        ax.barh([str(i) for i in shown.index], shown.to_numpy())
        ax.set(xlabel=xlabel, title=f"{title} (top {len(shown)})")
        ax.tick_params(axis="y", labelsize=8)
    return figure


def gain_importance(model: Any) -> pd.Series:
    """Total split gain per feature of a fitted ``LGBMClassifier`` or ``Booster``."""
    booster = getattr(model, "booster_", model)
    return pd.Series(
        booster.feature_importance(importance_type="gain"),
        index=booster.feature_name(),
        name="gain",
    ).sort_values(ascending=False, kind="stable")


def contribution_rows(
    n_rows: int, max_rows: int = CONTRIBUTION_ROWS, seed: int = 0
) -> np.ndarray | None:
    """The sorted positions :func:`mean_abs_contributions` reads of ``n_rows`` rows (None:
    all of them); sample the inputs with them before transforming only those rows."""
    if n_rows <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_rows, max_rows, replace=False))


def mean_abs_contributions(
    model: Any, Xt: pd.DataFrame, max_rows: int = CONTRIBUTION_ROWS, seed: int = 0
) -> pd.Series:
    """Mean |SHAP contribution| (log-odds) per feature (exact TreeSHAP, ``pred_contrib``'s values).

    Args:
        model: fitted ``LGBMClassifier`` or ``lightgbm.Booster``.
        Xt: the transformed features (the pipeline's ``features`` step output).
        max_rows: rows sampled without replacement (seeded); ``pred_contrib`` costs
            milliseconds per row.
        seed: sampling seed.

    Returns:
        One value per column of ``Xt``, largest first.
    """
    booster = getattr(model, "booster_", model)
    rows = contribution_rows(len(Xt), max_rows, seed)
    if rows is not None:
        Xt = Xt.iloc[rows]
    contributions = tree_contributions(booster, Xt)
    # The last column is the expected value (bias), not a feature.
    values = np.abs(contributions[:, :-1]).mean(axis=0)
    return pd.Series(values, index=Xt.columns, name="mean_abs_contribution").sort_values(
        ascending=False, kind="stable"
    )
