"""Flat-mode reasons follow the nightly rule: words per case and sign, or no reason."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from models.flat import FlatConfig
from scoring.flat import as_csv, flat_reasons
from tests.scoring.explain.reason_checks import absences_as_plus

COLUMNS = {
    "Email": "email",
    "Phone": "pii",
    "Lead Source": "category",
    "Time on Site": "numeric",
    "Notes": "text",
}


class FittedFeatures:
    """What ``flat_reasons`` reads of a fitted ``FlatFeatures``: kinds and sources."""

    kinds_ = COLUMNS

    def settings(self) -> FlatConfig:
        return FlatConfig()

    def sources(self) -> dict[str, str]:
        return {"email_free": "Email", "email_given": "Email", **{c: c for c in COLUMNS}}


def reasons(values: dict[str, object], contributions: dict[str, float]) -> list[str]:
    """One row's reasons: each column's contribution given (split over Email's two features)."""
    contrib = {"email_free": contributions.get("Email", 0.0) / 2}
    contrib["email_given"] = contributions.get("Email", 0.0) / 2
    contrib.update({c: contributions.get(c, 0.0) for c in COLUMNS if c != "Email"})
    frame = pd.DataFrame([{**contrib, "bias": -1.0}])
    raw = pd.DataFrame([{c: values.get(c) for c in COLUMNS}])
    return json.loads(flat_reasons(frame, FittedFeatures(), raw)[0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "contributions", "expected"),
    [
        ({"Email": "jo@gmail.com"}, {"Email": -0.4}, ["- Email: a free-mail address"]),
        ({"Email": "jo@gmail.com"}, {"Email": 0.4}, []),
        ({"Email": "jo@acme.com"}, {"Email": 0.4}, ["+ Email: a company address"]),
        ({"Email": "jo@acme.com"}, {"Email": -0.4}, []),
        ({}, {"Email": -0.4}, ["- Email not given"]),
        ({}, {"Email": 0.4}, ["+ Email not given: leads that give one convert less"]),
        ({"Phone": "+1 555 0100"}, {"Phone": 0.2}, ["+ Phone given"]),
        ({"Phone": "+1 555 0100"}, {"Phone": -0.2}, []),
        ({"Lead Source": "Google"}, {"Lead Source": -0.3}, ["- Lead Source: Google"]),
        ({"Lead Source": "Select"}, {"Lead Source": -0.3}, ["- Lead Source not given"]),
        ({"Time on Site": "1859"}, {"Time on Site": 0.9}, ["+ Time on Site: 1,859"]),
        (
            {"Notes": "wants a demo of the reporting module next quarter please"},
            {"Notes": 0.2},
            ['+ Notes: "wants a demo of the reporting module ..."'],
        ),
        # Strongest first; a column with no words for its sign gives its place to the next.
        (
            {"Email": "jo@gmail.com", "Lead Source": "Google", "Time on Site": "12"},
            {"Email": 0.9, "Lead Source": 0.5, "Time on Site": -0.7},
            ["- Time on Site: 12", "+ Lead Source: Google"],
        ),
    ],
)
def test_flat_reasons_agree_with_their_sign(
    values: dict[str, object], contributions: dict[str, float], expected: list[str]
) -> None:
    got = reasons(values, contributions)
    assert got == expected
    assert not absences_as_plus(got) and "jo@" not in json.dumps(got) and "555" not in str(got)


def test_flat_csv_shows_reasons_in_words() -> None:
    scores = pd.DataFrame(
        {"lead_id": ["a", "b"], "top_reasons": [json.dumps(["+ X: 1", "- Y: 2"]), "[]"]}
    )
    shown = as_csv(scores)
    assert shown["top_reasons"].iloc[0] == "▲ X: 1 | ▼ Y: 2"
    assert pd.isna(shown["top_reasons"].iloc[1])  # no reasons: an empty cell
    assert scores["top_reasons"].iloc[0].startswith("[")  # the frame itself is left as it is
