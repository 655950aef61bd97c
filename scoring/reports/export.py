"""What reps read: each rep's ranked list, as CSV or as one self-contained, sortable HTML page.

The list joins one scoring run with the firmographics a rep needs to recognise a lead
(company, industry, source). Contact details (email, phone) are never read: only the
columns in :data:`LEAD_COLUMNS` are taken from ``leads``. Missing values show as "-".
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from scoring.reports.html import (
    NULL,
    Column,
    Markup,
    data_table,
    esc,
    fmt_money,
    fmt_num,
    grade_badge,
    is_missing,
    page,
    text,
)

LEAD_COLUMNS = ("company", "industry", "source")  # never email or phone
BANT_KEYS = ("need", "budget", "authority", "timing")
EXPORT_COLUMNS = (
    "owner_id",
    "rank_in_owner",
    "rank_overall",
    "lead_id",
    *LEAD_COLUMNS,
    "grade",
    "score",
    "qualification",
    *(f"bant_{k}" for k in BANT_KEYS),
    "top_reasons",
    "trend",
    "fit_score",
    "engagement_score",
    "expected_value",
)
UNASSIGNED = "(unassigned)"
TREND_MARKS = {"improving": "▲", "declining": "▼", "steady": "▶", "new": "●"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A reason's sign in a spreadsheet: a leading "+"/"-" would be read as a formula.
REASON_MARKS = {"+": "▲", "-": "▼", "−": "▼"}
FILTER_JS = """
(function(){var t=document.getElementById('leads'),o=document.getElementById('owner'),
q=document.getElementById('q'),n=document.getElementById('count');if(!t)return;
function apply(){var who=o?o.value:'',text=q.value.trim().toLowerCase(),shown=0;
Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
var hide=(who&&r.getAttribute('data-owner')!==who)||
(text&&r.textContent.toLowerCase().indexOf(text)<0);r.hidden=!!hide;if(!hide)shown++;});
n.textContent=shown.toLocaleString()+' of '+t.tBodies[0].rows.length.toLocaleString()+' leads';}
if(o)o.addEventListener('change',apply);q.addEventListener('input',apply);apply();})();
"""


def parse_bant(value: object) -> dict[str, bool | None]:
    """The BANT JSON object (e.g. ``{"need": true, "budget": null}``) as met/not met/unknown."""
    try:
        raw = json.loads(str(value)) if not is_missing(value) else {}
    except json.JSONDecodeError:
        raw = {}
    found = raw if isinstance(raw, dict) else {}
    return {k: found[k] if isinstance(found.get(k), bool) else None for k in BANT_KEYS}


def parse_reasons(value: object) -> list[str]:
    """The top-reasons JSON list of strings (a plain string is one reason)."""
    if is_missing(value):
        return []
    try:
        raw = json.loads(str(value))
    except json.JSONDecodeError:
        return [str(value)]
    return [str(r) for r in raw] if isinstance(raw, list) else [str(raw)]


def reasons_in_words(value: object) -> str | None:
    """Reasons for one spreadsheet cell: "▲ raises this | ▼ lowers this"; None for none.

    Takes the top-reasons JSON list (or a list of reasons); a reason without a sign is kept
    as it is.
    """
    reasons = value if isinstance(value, list) else parse_reasons(value)
    shown = []
    for reason in reasons:
        sign, _, words = reason.partition(" ")
        shown.append(f"{REASON_MARKS[sign]} {words}" if sign in REASON_MARKS else reason)
    return " | ".join(shown) or None


def export_frame(
    lead_scores: pd.DataFrame, leads: pd.DataFrame, owner: str | None = None
) -> pd.DataFrame:
    """One run's ranked list per rep, with company, industry and source; no contact details.

    Rows are ordered by owner (unassigned last), then ``rank_in_owner``; ``owner`` keeps one
    rep's leads. BANT becomes four columns (True, False or None) and ``top_reasons`` a list.

    Raises:
        ValueError: ``lead_scores`` holds more than one ``as_of``.
    """
    if lead_scores["as_of"].nunique() > 1:
        raise ValueError("expected the lead_scores of one as_of; filter the run first")
    scores = lead_scores if owner is None else lead_scores[lead_scores["owner_id"] == owner]
    frame = scores.merge(leads[["lead_id", *LEAD_COLUMNS]], on="lead_id", how="left")
    bant = frame["bant"].map(parse_bant)
    for key in BANT_KEYS:
        frame[f"bant_{key}"] = pd.Series([b[key] for b in bant], index=frame.index, dtype=object)
    frame["top_reasons"] = pd.Series(
        [parse_reasons(v) for v in frame["top_reasons"]], index=frame.index, dtype=object
    )
    unassigned = frame["owner_id"].isna()
    frame = frame.assign(_last=unassigned, _owner=frame["owner_id"].fillna(""))
    frame = frame.sort_values(["_last", "_owner", "rank_in_owner"], kind="mergesort")
    return frame[list(EXPORT_COLUMNS)].reset_index(drop=True)


def _csv_cell(value: Any) -> Any:
    """Text as a spreadsheet shows it: "-" when missing, formulas defused with a leading '.

    Reasons (a list) show their sign as ▲/▼, so they need no defusing.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = reasons_in_words(value)
    if is_missing(value):
        return NULL
    if isinstance(value, str) and value != NULL and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> str:
    """The export as CSV: BANT as yes/no/-, reasons as "▲ ... | ▼ ...", missing values as "-"."""
    out = frame.copy()
    for column in ("score", "fit_score", "engagement_score"):
        out[column] = out[column].round(1)
    out["expected_value"] = out["expected_value"].round(2)
    text = [c for c in out.columns if c not in ("rank_in_owner", "rank_overall")]
    for column in text:
        out[column] = pd.Series([_csv_cell(v) for v in out[column]], index=out.index, dtype=object)
    return out.to_csv(index=False, lineterminator="\n")


def _bant_cell(values: dict[str, bool | None]) -> str:
    pills = []
    for key in BANT_KEYS:
        met = values.get(key)
        css, word = (
            ("unk", "unknown") if met is None else ("yes", "met") if met else ("no", "not met")
        )
        pills.append(f'<span class="pill {css}" title="{key}: {word}">{key[0].upper()}</span>')
    return Markup("".join(pills))


def _reasons_cell(reasons: list[str]) -> str:
    if not reasons:
        return NULL
    items = []
    for reason in reasons:
        css = "plus" if reason.startswith("+") else "minus" if reason[:1] in "-−" else ""
        items.append(f'<li class="{css}">{esc(reason)}</li>')
    return Markup(f'<ul class="reasons">{"".join(items)}</ul>')


def _trend_cell(value: object) -> str:
    if is_missing(value):
        return NULL
    css = {"improving": "plus", "declining": "minus"}.get(str(value), "")
    mark = TREND_MARKS.get(str(value), "")
    return Markup(f'<span class="{css}">{mark} {esc(value)}</span>')


def _company_cell(row: pd.Series) -> Markup:
    context = " · ".join(text(row[c]) for c in ("industry", "source"))
    return Markup(f'{esc(row["company"])}<div class="note">{esc(context)}</div>')


def _html_table(frame: pd.DataFrame, one_owner: bool) -> str:
    rows = [r for _, r in frame.iterrows()]
    shown = frame.assign(
        bant=pd.Series([{k: r[f"bant_{k}"] for k in BANT_KEYS} for r in rows], dtype=object),
        who=pd.Series([_company_cell(r) for r in rows], dtype=object),
    )
    columns = [] if one_owner else [Column("owner_id", "rep")]
    columns += [
        Column("rank_in_owner", "rank", str, True),
        Column("lead_id", "lead", css="nowrap"),
        Column("who", "company", css="who"),
        Column("grade", "grade", grade_badge),
        Column("score", "score", fmt_num, True),
        Column("trend", "trend", _trend_cell, css="nowrap"),
        Column("qualification", "qualification", lambda v: text(v).replace("_", " ")),
        Column("bant", "BANT", _bant_cell, css="nowrap"),
        Column("fit_score", "fit", fmt_num, True),
        Column("engagement_score", "engagement", fmt_num, True),
        Column("expected_value", "exp. value", fmt_money, True),
        Column("top_reasons", "top reasons", _reasons_cell, css="reasons-col"),
    ]
    owner_of = (lambda r: {"data-owner": str(r["owner_id"])}) if not one_owner else None
    return data_table(shown, columns, row_attrs=owner_of, table_id="leads")


def render_export_html(
    frame: pd.DataFrame, as_of: pd.Timestamp, owner: str | None = None, model: str = ""
) -> str:
    """The export as one self-contained HTML page: filter by rep, search, click to sort."""
    title = f"Ranked leads {as_of.date()}" + (f" for {owner}" if owner else "")
    owners = sorted(frame["owner_id"].dropna().unique())
    picker = ""
    if owner is None:
        options = "".join(f'<option value="{esc(o)}">{esc(o)}</option>' for o in owners)
        picker = f'<label>Rep <select id="owner"><option value="">all reps</option>{options}</select></label>'
    controls = (
        f'<div class="controls">{picker}<label>Search <input id="q" type="search" '
        'placeholder="company, lead, reason…"></label><span id="count" class="note"></span></div>'
    )
    legend = (
        "BANT: N need, B budget, A authority, T timing — "
        '<span class="pill yes">met</span> <span class="pill no">not met</span> '
        '<span class="pill unk">unknown</span>. Score: the probability of converting in the '
        "horizon, in percent. Expected value: probability × expected deal value."
    )
    sub = " · ".join(p for p in (f"as of {as_of.date()}", model, owner or "all reps") if p)
    body = (
        f'<header class="top"><h1>{esc(title)}</h1><div class="sub">{esc(sub)}</div></header>'
        f'<main class="full"><section>{controls}<p class="lead">{legend}</p><div class="card">'
        f'<div class="wide">{_html_table(frame, owner is not None)}</div></div></section>'
        "<footer>Generated by <code>leadscore export</code>. Self-contained; needs no network. "
        "Contains no contact details.</footer></main>"
    )
    return page(title, Markup(body), FILTER_JS)
