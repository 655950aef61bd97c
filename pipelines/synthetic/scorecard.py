"""How close a model comes to the oracle on a generated CRM, at one snapshot time.

The oracle's AUC and top-decile lift are the ceiling any model of the observable data can
reach on average (it knows the latent state a model can only infer). A model's ratios to
them say how much of the attainable ranking it recovers; a ratio above 1 beyond noise
points at a leak (e.g. ``fill_on_close``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from pipelines.synthetic.oracle import oracle_T, utc_midnight

TOP_SHARE = 0.1


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with one class."""
    labels = np.asarray(labels, dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def top_lift(
    labels: np.ndarray, scores: np.ndarray, ids: np.ndarray, share: float = TOP_SHARE
) -> float:
    """Conversion rate of the top ``share`` by score (ties broken by id) over the overall rate."""
    labels = np.asarray(labels, dtype=float)
    if labels.mean() == 0:
        return float("nan")
    order = np.lexsort((ids, -np.asarray(scores)))
    top = max(1, int(np.ceil(share * len(labels))))
    return float(labels[order[:top]].mean() / labels.mean())


def _labels(
    leads: pd.DataFrame, lead_ids: pd.Series, at: pd.Timestamp, horizon_days: int
) -> np.ndarray:
    converted = leads.set_index("lead_id")["converted_at"].reindex(lead_ids.to_numpy())
    window = (converted > at) & (converted <= at + pd.Timedelta(days=horizon_days))
    return window.fillna(False).to_numpy(dtype=bool)


def oracle_report(
    crm: dict[str, pd.DataFrame],
    latent: pd.DataFrame,
    T: pd.Timestamp | str,
    model_probabilities: pd.Series | None = None,
    horizon_days: int = 90,
) -> dict[str, float]:
    """The oracle's ranking quality at ``T`` and, given a model's, the model's against it.

    The outcomes are the generated ones, so ``T + horizon_days`` should not pass the
    export's ``end`` (later conversions are censored and count as none).

    Args:
        crm: the tables of :func:`pipelines.synthetic.generate_crm` (``leads`` is used).
        latent: its ``latent`` frame.
        T: the snapshot time, a UTC midnight.
        model_probabilities: a model's probabilities indexed by lead_id, for at least
            every lead open at ``T``.
        horizon_days: the label window.

    Returns:
        ``open_leads``, ``conversions``, ``base_rate``, ``oracle_auc``,
        ``oracle_top_decile_lift``, ``oracle_brier`` and ``oracle_mean_p``; with model
        probabilities also ``model_auc``, ``model_top_decile_lift``, ``model_brier``,
        ``spearman`` (model vs oracle probabilities), ``auc_ratio`` and ``lift_ratio``
        (model over oracle), and ``auc_skill_ratio`` ((AUC - 0.5) of the model over the
        oracle's).

    Raises:
        ValueError: If ``model_probabilities`` lacks leads open at ``T``.
    """
    oracle = oracle_T(latent, crm["leads"], T, horizon_days)
    at = utc_midnight(T)
    y = _labels(crm["leads"], oracle["lead_id"], at, horizon_days)
    ids, p = oracle["lead_id"].to_numpy(), oracle["p_true"].to_numpy()
    report = {
        "open_leads": float(len(y)),
        "conversions": float(y.sum()),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "oracle_auc": roc_auc(y, p),
        "oracle_top_decile_lift": top_lift(y, p, ids),
        "oracle_brier": float(np.mean((p - y) ** 2)),
        "oracle_mean_p": float(p.mean()),
    }
    if model_probabilities is None:
        return report
    model = model_probabilities.reindex(ids)
    if model.isna().any():
        absent = ids[model.isna().to_numpy()][:5].tolist()
        raise ValueError(f"model_probabilities lacks leads open at {at}, e.g. {absent}")
    q = model.to_numpy(dtype=float)
    report |= {
        "model_auc": roc_auc(y, q),
        "model_top_decile_lift": top_lift(y, q, ids),
        "model_brier": float(np.mean((q - y) ** 2)),
        "spearman": float(spearmanr(q, p).statistic),
    }
    report["auc_ratio"] = report["model_auc"] / report["oracle_auc"]
    report["auc_skill_ratio"] = (report["model_auc"] - 0.5) / (report["oracle_auc"] - 0.5)
    report["lift_ratio"] = report["model_top_decile_lift"] / report["oracle_top_decile_lift"]
    return report
