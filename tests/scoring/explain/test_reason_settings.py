"""The reasons' words come from configs/scoring.yaml; a typo there is an error naming it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.config import ConfigError, load_config
from scoring.config import ScoringConfig
from scoring.explain import top_reasons
from tests.scoring.explain.lead_rows import FEATURES, NAN, frames, lead


def load(tmp_path: Path, reasons_yaml: str) -> ScoringConfig:
    (tmp_path / "scoring.yaml").write_text("reasons:\n" + reasons_yaml)
    return load_config(ScoringConfig, "scoring", tmp_path)


@pytest.mark.parametrize(
    ("reasons_yaml", "message"),
    [
        (
            "  phrases:\n    need:\n      mising: {raises: null, lowers: No need}\n",
            r"reasons.phrases.need.mising: Extra inputs are not permitted",
        ),
        ("  wording: {}\n", r"reasons.wording: Extra inputs are not permitted"),
        (
            "  phrases:\n    need:\n      missing: {lowers: No need}\n",
            r"reasons.phrases.need.missing.raises: Field required",
        ),
        (
            "  phrases:\n    budget:\n      stated: {raises: 'Budget {amount}', lowers: null}\n",
            r"reasons.phrases.budget: .*stated: unknown field \{amount\} \(use \{budget\}\)",
        ),
        (
            "  phrases:\n    budget:\n      stated: {raises: 'Budget {budget:,}', lowers: null}\n",
            r"write plain \{field\} names",
        ),
        ("  words:\n    units:\n      day: [a day, days]\n", r"reasons.words.units.day"),
        (
            "  words:\n    revenue_bands: [[1000000, big], [0, small]]\n",
            r"reasons.words.revenue_bands: .*must rise",
        ),
        ("  words:\n    later_timeframes: [someday]\n", r"someday.*not in timeframes"),
    ],
)
def test_a_typo_in_the_reasons_section_is_an_error_naming_it(
    tmp_path: Path, reasons_yaml: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, reasons_yaml)


def test_words_come_from_the_config(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        "  phrases:\n"
        "    budget:\n"
        "      missing: {raises: 'No budget yet: leads stating a small one convert less',"
        " lowers: null}\n"
        "  words:\n"
        "    currency: '€'\n",
    )
    Xt, X = frames([lead(bant_budget=NAN), lead(bant_budget=1200.0)])
    contrib = pd.DataFrame(np.zeros((2, len(FEATURES))), columns=FEATURES).assign(bias=-1.0)
    contrib["bant_budget"] = [0.5, -0.5]
    reasons = [json.loads(r) for r in top_reasons(contrib, Xt, X, cfg.reasons)]
    assert reasons == [
        ["+ No budget yet: leads stating a small one convert less"],
        ["- Budget of €1,200"],
    ]
    # With the shipped words, a missing budget never raises the score: no reason at all.
    assert json.loads(top_reasons(contrib, Xt, X)[0]) == []
