"""The interaction family (``ix_*``): products of intent with the funnel stage, size, age."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.features import FAMILIES


def test_interactions_multiply_recent_intent_by_stage_size_and_age() -> None:
    X = pd.DataFrame(
        {
            "eng_high_intent_decay_7d": [2.0, np.nan, 1.0],
            "eng_high_intent_decay_30d": [9.0, 9.0, 9.0],
            "eng_recent_count": [4.0, 0.0, 1.0],
            "stage_current": ["demo", "new", None],
            "lead_age_days": [3.0, 10.0, 0.0],
            "employees": [np.e - 1, 5.0, np.nan],
        }
    )
    family = FAMILIES["interactions"]().fit(X)
    out = family.transform(X)
    assert list(out.columns) == list(family.get_feature_names_out())
    # demo is the 4th stage (index 3): 2 x 4; no intent: 0; the shortest half-life is read
    np.testing.assert_allclose(out["ix_intent_x_stage"].to_numpy()[:2], [8.0, 0.0])
    assert np.isnan(out["ix_intent_x_stage"].iloc[2])  # no stage: unknown, not zero
    np.testing.assert_allclose(out["ix_intent_x_size"].to_numpy()[:2], [2.0, 0.0])
    np.testing.assert_allclose(out["ix_recent_per_age"].to_numpy(), [1.0, 0.0, 1.0])
