"""Generated CRMs shared by the synthetic-CRM tests (do not mutate)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.synthetic import generate_crm

BIG_LEADS = 20_000  # enough for rates by segment and month to be measured, 0.6 s to draw


@pytest.fixture(scope="session")
def big_crm() -> dict[str, pd.DataFrame]:
    """20,000 leads over two years, with the latent frame."""
    return generate_crm(BIG_LEADS, seed=7, with_latent=True)


@pytest.fixture(scope="session")
def options_crm() -> dict[str, pd.DataFrame]:
    """20,000 leads with every option on, with the latent frame."""
    return generate_crm(
        BIG_LEADS,
        seed=8,
        with_latent=True,
        fill_on_close=("industry", "employees", "annual_revenue"),
        period_shift=True,
        segment_drivers=True,
    )
