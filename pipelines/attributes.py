"""Custom lead attributes: the optional ``lead_attributes`` table and its model-input columns.

A CRM often holds fields the contract has no column for (a product, a landing page, a
region). Such a field is one row per (lead, name) in ``lead_attributes``: ``value`` as text
and ``kind`` one of ``category``, ``number`` or ``text``. Like every ``leads`` column it is
taken as known from the lead's ``created_at`` on. :func:`split_attributes` checks the rows
(a bad name or kind, a number that does not parse, a name twice for one lead) and drops
rows of leads that do not exist; :func:`with_attributes` adds one column per name to the
leads: ``attr_<name>`` (a category as text, a number as float) or, for text,
``attr_<name>_words`` (its word count: the text itself never reaches the model). The
``attributes`` feature family (:class:`pipelines.features.AttributeFeatures`) reads them.
"""

from __future__ import annotations

import pandas as pd

from pipelines.contracts import split_valid

ATTRIBUTE_PREFIX = "attr_"


def _failures(frame: pd.DataFrame, bad: pd.Series, column: str, check: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": column,
            "check": check,
            "failure_case": frame.loc[bad, column].astype(str).to_numpy(),
            "row_index": frame.index[bad].to_numpy(dtype="int64"),
        }
    )


def split_attributes(raw: pd.DataFrame, lead_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid ``lead_attributes`` rows of known leads, and rejected rows with their reasons.

    Rows of leads not in ``lead_ids`` are left out without a reason: an attribute table
    outlives the leads it described (a regenerated or re-imported CRM).

    Raises:
        ContractError: a column is missing.
    """
    valid, rejected = split_valid("lead_attributes", raw)
    number = valid["kind"].eq("number")
    parsed = pd.to_numeric(valid["value"].where(number), errors="coerce")
    not_number = number & valid["value"].notna() & parsed.isna()
    twice = valid.duplicated(subset=["lead_id", "name"], keep="first")
    more = [
        _failures(valid, not_number, "value", "parse_number"),
        _failures(valid, twice, "name", "unique_per_lead"),
    ]
    rejected = pd.concat([rejected, *(f for f in more if len(f))], ignore_index=True)
    known = valid["lead_id"].isin(lead_ids.astype(str))
    keep = known & ~valid.index.isin(rejected["row_index"])
    return valid[keep].reset_index(drop=True), rejected.reset_index(drop=True)


def _kinds(attributes: pd.DataFrame) -> dict[str, str]:
    """Each name's kind: the kind most of its rows give (ties: the first in sort order)."""
    counts = attributes.groupby(["name", "kind"]).size().reset_index(name="n")
    counts = counts.sort_values(["name", "n", "kind"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("name")[["name", "kind"]].itertuples(index=False))


def attribute_columns(attributes: pd.DataFrame) -> pd.DataFrame:
    """One row per lead with attributes, one column per name (see the module docstring)."""
    kinds = _kinds(attributes)
    out = pd.DataFrame(index=pd.Index(sorted(attributes["lead_id"].unique()), name="lead_id"))
    for name, kind in kinds.items():
        rows = attributes[attributes["name"].eq(name) & attributes["kind"].eq(kind)]
        values = rows.set_index("lead_id")["value"]
        column = f"{ATTRIBUTE_PREFIX}{name}" + ("_words" if kind == "text" else "")
        if column in out.columns:  # a category "x_words" and a text "x": the first wins
            continue
        if kind == "number":
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif kind == "text":
            words = values.fillna("").astype(str).str.split().str.len().astype("float64")
            out[column] = words.where(values.notna())
        else:
            out[column] = values.astype("object")
    return out


def with_attributes(leads: pd.DataFrame, attributes: pd.DataFrame | None) -> pd.DataFrame:
    """``leads`` (same rows and order) with the ``attr_`` columns of ``attributes``."""
    if attributes is None or attributes.empty:
        return leads
    wide = attribute_columns(attributes)
    out = leads.drop(columns=[c for c in wide.columns if c in leads.columns])
    out = out.merge(wide, left_on="lead_id", right_index=True, how="left", validate="one_to_one")
    for column in wide.columns:
        if wide[column].dtype == object:
            out[column] = out[column].astype("object").where(out[column].notna(), None)
    out.index = leads.index
    return out


def attribute_names(columns: pd.Index | list[str]) -> list[str]:
    """The ``attr_`` columns among ``columns``, in order."""
    return [str(c) for c in columns if str(c).startswith(ATTRIBUTE_PREFIX)]
