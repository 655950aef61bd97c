"""What the health report reads: contract frames, the windows, and the drift samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines import FeaturesConfig, StageConfig
from pipelines.features import build_feature_frame, open_at, snapshots_at


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report reads: contract frames and the windows to use.

    ``lead_scores`` holds every run in the store (the report picks ``as_of`` and an earlier
    run); ``reference`` is a sample of training features and ``current_features`` the same
    columns for the leads open at ``as_of`` (both optional, for feature drift).
    """

    leads: pd.DataFrame
    activities: pd.DataFrame
    stage_history: pd.DataFrame | None
    lead_scores: pd.DataFrame | None
    as_of: pd.Timestamp
    stages: StageConfig = field(default_factory=StageConfig)
    horizon_days: int = 90
    window_days: int = 365
    dormant_days: int = 30
    disqualify_days: int = 90
    reference: pd.DataFrame | None = None
    current_features: pd.DataFrame | None = None
    max_rows: int = 200


def current_features(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    stage_history: pd.DataFrame | None,
    as_of: pd.Timestamp,
    cfg: FeaturesConfig,
    max_leads: int = 20_000,
) -> pd.DataFrame:
    """Feature frame of (up to ``max_leads``, sampled with a fixed seed) leads open at ``as_of``."""
    ids = leads.loc[open_at(leads, as_of), "lead_id"]
    if len(ids) > max_leads:
        ids = ids.sample(max_leads, random_state=0)
    return build_feature_frame(leads, activities, stage_history, snapshots_at(ids, as_of), cfg)
