"""Tests for pipelines.features.titles: job title -> (seniority, department)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.features import titles
from pipelines.features.titles import (
    DEPARTMENTS,
    SENIORITIES,
    parse_job_title,
    parse_job_titles,
    seniority_rank,
)

TITLE_CASES = [
    # word order and VP spellings
    ("VP of Sales", "vp", "sales"),
    ("Sales VP", "vp", "sales"),
    ("vp sales", "vp", "sales"),
    ("Vice President, Marketing", "vp", "marketing"),
    ("V.P. Engineering", "vp", "it_engineering"),
    ("SVP, Revenue", "vp", "sales"),
    ("EVP Operations", "vp", "operations"),
    ("AVP Finance", "vp", "finance"),
    ("Senior Vice President of Global Sales", "vp", "sales"),
    # abbreviations and modifiers
    ("Dir. of IT", "director", "it_engineering"),
    ("Sr. mgr, marketing", "manager", "marketing"),
    ("Mktg Mgr", "manager", "marketing"),
    ("Jr. Developer", "individual", "it_engineering"),
    ("Head of IT", "head", "it_engineering"),
    ("Head of People", "head", "hr"),
    ("Head of Growth", "head", "marketing"),
    ("Lead Engineer", "individual", "it_engineering"),
    ("Principal Consultant", "individual", "other"),
    ("Principal Software Engineer", "individual", "it_engineering"),
    ("Senior Director, Business Development", "director", "sales"),
    ("Assistant Director of Marketing", "director", "marketing"),
    ("Team Lead, Customer Support", "manager", "other"),
    # C-suite, founders and owners
    ("CEO", "c_level", "executive"),
    ("CTO", "c_level", "it_engineering"),
    ("CFO", "c_level", "finance"),
    ("COO", "c_level", "operations"),
    ("CMO", "c_level", "marketing"),
    ("CIO", "c_level", "it_engineering"),
    ("CRO", "c_level", "sales"),
    ("CISO", "c_level", "it_engineering"),
    ("Chief Executive Officer", "c_level", "executive"),
    ("Chief Revenue Officer", "c_level", "sales"),
    ("Chief Marketing Officer", "c_level", "marketing"),
    ("Chief Information Security Officer", "c_level", "it_engineering"),
    ("Chief People Officer", "c_level", "hr"),
    ("Founder", "c_level", "executive"),
    ("Co-founder and CEO", "c_level", "executive"),
    ("Founder & CTO", "c_level", "it_engineering"),
    ("Owner", "c_level", "executive"),
    ("President & CEO", "c_level", "executive"),
    ("Managing Director", "c_level", "executive"),
    ("Managing Partner", "c_level", "executive"),
    ("General Manager", "vp", "executive"),
    ("Executive Director", "director", "executive"),
    # partner/owner as a job noun, not a rank
    ("Partner Marketing Manager", "manager", "marketing"),
    ("HR Business Partner", "individual", "hr"),
    ("Talent Acquisition Partner", "individual", "hr"),
    ("Product Owner", "individual", "other"),
    # typos
    ("Maneger", "manager", "other"),
    ("Sales Manger", "manager", "sales"),
    ("Direcor of Operations", "director", "operations"),
    ("Vice Presdient, Sales", "vp", "sales"),
    ("Software Enginer", "individual", "it_engineering"),
    ("Markting Coordinator", "individual", "marketing"),
    # assistants are not the boss
    ("Executive Assistant", "individual", "other"),
    ("Assistant to the CEO", "individual", "executive"),
    ("EA to the CEO", "individual", "executive"),
    ("Assistant Manager", "manager", "other"),
    # students and interns
    ("Intern", "student_intern", "other"),
    ("Marketing Intern", "student_intern", "marketing"),
    ("student", "student_intern", "other"),
    ("Graduate student", "student_intern", "other"),
    ("Intern, Office of the CEO", "student_intern", "executive"),
    # individual contributors
    ("Software Engineer", "individual", "it_engineering"),
    ("Developer", "individual", "it_engineering"),
    ("Analyst", "individual", "other"),
    ("Data Analyst", "individual", "it_engineering"),
    ("Account Executive", "individual", "sales"),
    ("Account Manager", "individual", "sales"),
    ("SDR", "individual", "sales"),
    ("Business Development Representative", "individual", "sales"),
    ("Sales Engineer", "individual", "sales"),
    ("Consultant", "individual", "other"),
    ("Technical Recruiter", "individual", "hr"),
    ("Senior Accountant", "individual", "finance"),
    ("Supply Chain Analyst", "individual", "operations"),
    # departments from keywords
    ("Demand Gen Manager", "manager", "marketing"),
    ("Brand Manager", "manager", "marketing"),
    ("Director of Human Resources", "director", "hr"),
    ("People Ops Manager", "manager", "hr"),
    ("Financial Controller", "manager", "finance"),
    ("Logistics Coordinator", "individual", "operations"),
    ("Engineering Manager", "manager", "it_engineering"),
    ("Manager, Information Technology", "manager", "it_engineering"),
    ("Office Manager", "manager", "other"),
    # not parseable
    ("Gerente de ventas", "unknown", "other"),
    ("Resident Physician", "unknown", "other"),
    ("Marketing", "unknown", "marketing"),
]


@pytest.mark.parametrize(("title", "seniority", "department"), TITLE_CASES, ids=lambda v: v)
def test_parse_job_title_table(title: str, seniority: str, department: str) -> None:
    assert parse_job_title(title) == (seniority, department)


@pytest.mark.parametrize(
    "variant",
    [str.upper, str.lower, lambda t: f"  {t}\t", lambda t: "  ".join(t.split()), lambda t: t + "."],
    ids=["upper", "lower", "outer-space", "inner-space", "trailing-dot"],
)
def test_case_spacing_and_punctuation_do_not_matter(variant) -> None:
    for title, seniority, department in TITLE_CASES:
        assert parse_job_title(variant(title)) == (seniority, department), title


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, "", "   ", "-/-"])
def test_missing_or_blank_title_is_unknown(missing) -> None:
    assert parse_job_title(missing) == ("unknown", "other")


@given(st.text(max_size=60))
def test_any_text_parses_to_known_labels(title: str) -> None:
    seniority, department = parse_job_title(title)
    assert seniority in SENIORITIES
    assert department in DEPARTMENTS


def test_parse_job_titles_preserves_index_and_matches_scalar() -> None:
    values = [case[0] for case in TITLE_CASES] + [None, np.nan, ""]
    index = pd.Index([f"lead-{i:03d}" for i in range(len(values))][::-1], name="lead_id")
    series = pd.Series(values, index=index, name="job_title", dtype=object)
    before = series.copy()

    parsed = parse_job_titles(series)

    assert list(parsed.columns) == ["seniority", "department"]
    assert parsed.index.equals(index)
    expected = [parse_job_title(v) for v in values]
    assert list(zip(parsed["seniority"], parsed["department"], strict=True)) == expected
    assert list(parsed["seniority"].cat.categories) == list(SENIORITIES)
    assert list(parsed["department"].cat.categories) == list(DEPARTMENTS)
    pd.testing.assert_series_equal(series, before)


def test_parse_job_titles_handles_string_dtype_and_empty_input() -> None:
    series = pd.Series(["VP of Sales", None, "vp sales"], index=[7, 3, 5], dtype="string")
    parsed = parse_job_titles(series)
    assert parsed.loc[3].tolist() == ["unknown", "other"]
    assert parsed.loc[[7, 5], "seniority"].tolist() == ["vp", "vp"]
    assert parse_job_titles(pd.Series([], dtype=object)).shape == (0, 2)


def test_parse_job_titles_parses_each_distinct_title_once(monkeypatch) -> None:
    calls: list[object] = []

    def counting_parse(title):
        calls.append(title)
        return parse_job_title(title)

    monkeypatch.setattr(titles, "parse_job_title", counting_parse)
    series = pd.Series(["CTO", "Intern", "CTO", None, "Intern", "CTO"] * 1000)
    parsed = parse_job_titles(series)
    assert sorted(calls) == ["CTO", "Intern"]
    assert parsed["seniority"].value_counts()["c_level"] == 3000


def _distinct_titles(count: int) -> list[str]:
    modifiers = ["", "Senior ", "Sr. ", "Lead ", "Principal ", "Jr. ", "Global ", "Regional "]
    roles = ["VP", "Director", "Head", "Manager", "Mgr", "Engineer", "Analyst", "Intern",
             "Specialist", "Coordinatr"]  # fmt: skip
    fields = ["Sales", "Markting", "IT", "Finance", "Operations", "HR", "Data", "Brand"]
    combos = itertools.product(modifiers, roles, fields)
    return [f"{m}{r} of {f}" for m, r, f in itertools.islice(combos, count)]


def test_parse_job_titles_is_fast_on_a_million_rows() -> None:
    distinct = _distinct_titles(500)
    assert len(set(distinct)) == 500
    rng = np.random.default_rng(0)
    series = pd.Series(np.asarray(distinct, dtype=object)[rng.integers(0, 500, 1_000_000)])
    titles._correct_token.cache_clear()  # time the fuzzy matching too, not a warm cache

    start = time.perf_counter()
    parsed = parse_job_titles(series)
    elapsed = time.perf_counter() - start

    assert elapsed < 2.0, f"parsing 1M rows took {elapsed:.2f}s"
    assert len(parsed) == 1_000_000
    assert parsed["seniority"].iloc[0] == parse_job_title(series.iloc[0])[0]


def test_seniority_rank_orders_levels() -> None:
    ranks = [seniority_rank(s) for s in SENIORITIES[:-1]]
    assert ranks == [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    assert math.isnan(seniority_rank("unknown"))
    with pytest.raises(ValueError, match="seniority"):
        seniority_rank("boss")
