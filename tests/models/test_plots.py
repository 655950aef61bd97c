"""Evaluation figures and the numbers behind them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.plots import (
    calibration_curve_figure,
    cumulative_gains,
    feature_importance_figure,
    gain_importance,
    gains_lift_figure,
    mean_abs_contributions,
    reliability_points,
    score_distribution_figure,
)
from tests.paths import REPO

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Labels drawn from ``p_true``: one calibrated model, one overconfident, one random."""
    rng = np.random.default_rng(0)
    p_true = rng.beta(1, 8, 4000)
    y = (rng.random(4000) < p_true).astype(int)
    return y, {
        "calibrated": p_true,
        "overconfident": np.clip(p_true * 2.0, 0, 1),
        "random": rng.random(4000) * 0.3,
    }


@pytest.fixture(scope="module")
def booster() -> tuple[LGBMClassifier, pd.DataFrame]:
    """A small LightGBM model where only ``signal`` (and the category) matter."""
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame(
        {
            "signal": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    logit = 2.0 * X["signal"] + np.where(X["kind"] == "a", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = LGBMClassifier(n_estimators=40, num_leaves=7, verbose=-1, random_state=0)
    return model.fit(X, y), X


def _saves_png(figure: Figure, path: Path) -> None:
    figure.savefig(path)
    assert path.read_bytes()[:8] == PNG_MAGIC


def _labels(ax: Axes) -> list[str]:
    return [str(line.get_label()) for line in ax.get_lines()]


def _xy(ax: Axes, index: int) -> tuple[np.ndarray, np.ndarray]:
    line = ax.get_lines()[index]
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def test_reliability_points_follow_equal_count_bins() -> None:
    y = np.array([0, 0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    predicted, observed = reliability_points(y, p, bins=3)
    np.testing.assert_allclose(predicted, [0.15, 0.45, 0.75])
    np.testing.assert_allclose(observed, [0.0, 0.5, 1.0])


def test_reliability_points_of_a_calibrated_model_lie_on_the_diagonal(scored) -> None:
    y, p_by_model = scored
    predicted, observed = reliability_points(y, p_by_model["calibrated"], bins=5)
    np.testing.assert_allclose(observed, predicted, atol=0.03)


def test_cumulative_gains_by_hand() -> None:
    worked, captured = cumulative_gains(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.2]))
    np.testing.assert_allclose(worked, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(captured, [0, 0.5, 1.0, 1.0, 1.0])


def test_cumulative_gains_break_ties_by_input_order() -> None:
    _, captured = cumulative_gains(np.array([0, 1]), np.array([0.5, 0.5]))
    np.testing.assert_allclose(captured, [0.0, 0.0, 1.0])


def test_calibration_figure(scored, tmp_path: Path) -> None:
    y, p_by_model = scored
    figure = calibration_curve_figure(y, p_by_model, bins=10)
    assert isinstance(figure, Figure)
    curve, hist = figure.axes
    assert _labels(curve) == ["perfectly calibrated", *p_by_model]
    assert len(_xy(curve, 1)[0]) == 10
    assert len(hist.patches) == len(p_by_model)
    assert curve.get_xlabel() == "mean predicted probability"
    _saves_png(figure, tmp_path / "calibration.png")


def test_gains_lift_figure(scored, tmp_path: Path) -> None:
    y, p_by_model = scored
    figure = gains_lift_figure(y, p_by_model)
    gains, lift = figure.axes
    assert _labels(gains) == ["random", "perfect", *p_by_model]
    assert _labels(lift) == ["random", *p_by_model]
    worked, calibrated = _xy(gains, 2)
    assert calibrated[-1] == pytest.approx(1.0)
    # The informative model captures more in the top 20% than the random one.
    top = np.searchsorted(worked, 0.2)
    assert calibrated[top] > _xy(gains, 4)[1][top] + 0.1
    assert abs(float(np.mean(_xy(lift, 3)[1])) - 1.0) < 0.2
    _saves_png(figure, tmp_path / "gains.png")


def test_score_distribution_figure(scored, tmp_path: Path) -> None:
    y, p_by_model = scored
    figure = score_distribution_figure(y, p_by_model["calibrated"])
    (ax,) = figure.axes
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [
        f"not converted (n={int(np.sum(y == 0))})",
        f"converted (n={int(np.sum(y == 1))})",
    ]
    assert len(ax.patches) == 2
    _saves_png(figure, tmp_path / "scores.png")


def test_feature_importance_figure_shows_the_top_features_largest_first(tmp_path: Path) -> None:
    names = [f"f{i:02d}" for i in range(30)]
    gain = pd.Series(np.arange(30, dtype=float), index=names)
    contribution = pd.Series(np.arange(30, dtype=float)[::-1], index=names)
    figure = feature_importance_figure(gain, contribution, top=5)
    left, right = figure.axes
    assert len(left.patches) == 5 and len(right.patches) == 5
    # barh draws bottom-up: the last tick label is the bar at the top.
    assert [t.get_text() for t in left.get_yticklabels()][-1] == "f29"
    assert [t.get_text() for t in right.get_yticklabels()][-1] == "f00"
    widths = [bar.get_width() for bar in left.patches if isinstance(bar, Rectangle)]
    assert len(widths) == 5
    assert widths == sorted(widths)
    assert widths[-1] == pytest.approx(29 / gain.sum())  # gain as a share of the total
    _saves_png(figure, tmp_path / "importance.png")


def test_mean_abs_contributions_rank_the_signal_first(booster) -> None:
    model, X = booster
    contributions = mean_abs_contributions(model, X)
    assert list(contributions.index) == ["signal", "kind", "noise"]
    full = model.predict(X, pred_contrib=True)
    np.testing.assert_allclose(contributions["signal"], np.abs(full[:, 0]).mean())
    # Contributions plus the bias add up to the raw score (log-odds).
    np.testing.assert_allclose(full.sum(axis=1), model.predict(X, raw_score=True), atol=1e-9)


def test_mean_abs_contributions_sample_is_seeded_and_accepts_a_booster(booster) -> None:
    model, X = booster
    first = mean_abs_contributions(model.booster_, X, max_rows=500, seed=3)
    again = mean_abs_contributions(model, X, max_rows=500, seed=3)
    pd.testing.assert_series_equal(first, again)
    assert first.index[0] == "signal"


def test_gain_importance(booster) -> None:
    model, _ = booster
    gain = gain_importance(model)
    assert set(gain.index) == {"signal", "noise", "kind"}
    assert gain.index[0] == "signal" and gain.is_monotonic_decreasing


def test_import_draws_nothing_and_plotting_is_headless() -> None:
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import models.plots as plots
        assert "matplotlib" not in sys.modules, "matplotlib imported at import time"
        plots.score_distribution_figure(np.array([0, 1]), np.array([0.2, 0.7]))
        import matplotlib
        assert matplotlib.get_backend().lower() == "agg", matplotlib.get_backend()
        assert "matplotlib.pyplot" not in sys.modules
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
