"""Self-contained HTML pages: one file, inline CSS and JS, no network (a CSP forbids it).

Shared by the rep export and the health report. Values are escaped unless wrapped in
:class:`Markup`; missing values render as "-".
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

NULL = "-"
# Nothing may load from anywhere but the page itself: images are data: URIs.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root{--ink:#0f172a;--text:#1e293b;--muted:#64748b;--line:#e2e8f0;--bg:#f1f5f9;
--accent:#4338ca;--good:#15803d;--warn:#b45309;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",
Arial,sans-serif;color:var(--text);background:var(--bg)}
header.top{background:var(--ink);color:#fff;padding:22px 32px 18px}
header.top h1{margin:0;font-size:22px;font-weight:650;letter-spacing:-.01em}
header.top .sub{color:#cbd5e1;font-size:13px;margin-top:4px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);
padding:8px 32px;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:13px}
nav a{color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
main{max-width:1280px;margin:0 auto;padding:8px 32px 48px}
section{margin-top:28px}
h2{font-size:18px;margin:0 0 2px;color:var(--ink)}
h3{font-size:14px;margin:0 0 8px;color:var(--ink)}
p.lead{color:var(--muted);margin:0 0 14px;max-width:80em}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px}
.kpi{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.kpi .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.kpi .value{font-size:24px;font-weight:650;color:var(--ink);margin-top:2px}
.kpi .note{font-size:12px;color:var(--muted)}
.kpi .value.unknown{font-size:17px;color:var(--muted);font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px;
min-width:0}
.card img{width:100%;height:auto;display:block}
.span{grid-column:1/-1}
.wide{overflow-x:auto}
.stack>*+*{margin-top:16px}
.kpis.two{grid-template-columns:repeat(2,minmax(0,1fr));align-content:start}
table{border-collapse:collapse;width:100%;font-size:13px;background:#fff}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f8fafc;font-weight:600;color:#334155;position:sticky;top:0;z-index:1;
white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:#f8fafc}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{color:var(--accent)}
th[data-dir=asc]::after{content:" \\25B2";font-size:10px}
th[data-dir=desc]::after{content:" \\25BC";font-size:10px}
.scroll{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:8px}
.scroll table{border:0}
.scroll.short{max-height:300px;margin-top:10px}
.badge{display:inline-block;min-width:22px;text-align:center;border-radius:4px;padding:0 6px;
font-weight:650;color:#fff;font-size:12px}
.grade-A{background:#15803d}.grade-B{background:#65a30d}.grade-C{background:#d97706}
.grade-D{background:#94a3b8}
.pill{display:inline-block;border-radius:3px;padding:0 4px;margin-right:2px;font-size:11px;
font-weight:600;border:1px solid}
.yes{color:#166534;background:#dcfce7;border-color:#86efac}
.no{color:#991b1b;background:#fee2e2;border-color:#fca5a5}
.unk{color:#64748b;background:#f1f5f9;border-color:#cbd5e1}
ul.reasons{margin:0;padding-left:0;list-style:none}
.plus{color:var(--good)}.minus{color:var(--bad)}
.flag{color:var(--bad);font-weight:650}
.ok{color:var(--good);font-weight:650}
.empty{color:var(--muted);font-style:italic;padding:12px 14px;border:1px dashed #cbd5e1;
border-radius:8px;background:#fff}
.formula{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:0 0 12px}
.controls input,.controls select{font:inherit;padding:4px 8px;border:1px solid #cbd5e1;
border-radius:6px;background:#fff}
footer{color:var(--muted);font-size:12px;margin-top:40px}
main.full{max-width:none;padding:8px 16px 40px}
.nowrap{white-space:nowrap}
.reasons-col{min-width:230px}
#leads th,#leads td{padding:6px 8px}
#leads th{white-space:normal}
td .note{color:var(--muted);font-size:12px}
.who{min-width:170px}
"""

# Counts script errors and blocked loads on <body>, so a headless browser can check the page.
WATCH_JS = """
(function(){function bump(k){var b=document.body||document.documentElement;
b.setAttribute(k,String(Number(b.getAttribute(k)||0)+1));}
window.addEventListener('error',function(){bump('data-js-errors');});
document.addEventListener('securitypolicyviolation',function(){bump('data-csp-violations');});
})();
"""

SORT_JS = """
function lsKey(c){var v=c.getAttribute('data-v');if(v===null)v=c.textContent.trim();
if(v===''||v==='-')return null;var n=Number(v);return isNaN(n)?v.toLowerCase():n;}
document.querySelectorAll('table.sortable').forEach(function(t){
var hs=t.tHead.rows[0].cells;
Array.prototype.forEach.call(hs,function(th,i){th.title='Click to sort';
th.addEventListener('click',function(){
var dir=th.getAttribute('data-dir')==='asc'?'desc':'asc';
Array.prototype.forEach.call(hs,function(h){h.removeAttribute('data-dir');});
th.setAttribute('data-dir',dir);
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),s=dir==='asc'?1:-1;
rows.sort(function(x,y){var a=lsKey(x.cells[i]),c=lsKey(y.cells[i]);
if(a===null||c===null)return a===c?0:(a===null?1:-1);
if(typeof a!==typeof c){a=String(a);c=String(c);}
return a<c?-s:(a>c?s:0);});
rows.forEach(function(r){b.appendChild(r);});});});});
"""


class Markup(str):
    """HTML that is already safe: inserted as is."""


def esc(value: object) -> str:
    """Escapes text for HTML; :class:`Markup` passes through; missing values become "-"."""
    if isinstance(value, Markup):
        return value
    return NULL if is_missing(value) else html.escape(str(value), quote=True)


def text(value: object) -> str:
    """A value as display text ("-" when missing); :class:`Markup` is kept as is."""
    if isinstance(value, Markup):
        return value
    return NULL if is_missing(value) else str(value)


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def fmt_int(value: object) -> str:
    return NULL if is_missing(value) else f"{int(value):,}"  # type: ignore[call-overload]


def fmt_num(value: object, digits: int = 1) -> str:
    return NULL if is_missing(value) else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_pct(value: object, digits: int = 1) -> str:
    return NULL if is_missing(value) else f"{100 * float(value):.{digits}f}%"  # type: ignore[arg-type]


def fmt_money(value: object) -> str:
    """Compact amounts (currency units as in the CRM): 950, 12.3k, 4.56M."""
    if is_missing(value):
        return NULL
    amount = float(value)  # type: ignore[arg-type]
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            scaled = amount / size
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:,.{digits}f}{suffix}"
    return f"{amount:,.0f}"


def grade_badge(value: object) -> str:
    """A grade (A..D) as a coloured badge."""
    if is_missing(value) or str(value) not in "ABCD":
        return NULL
    return Markup(f'<span class="badge grade-{value}">{value}</span>')


@dataclass(frozen=True)
class Column:
    """A table column: frame key, header, formatter; numeric columns align right and sort by value."""

    key: str
    label: str
    fmt: Callable[[Any], str] = text
    numeric: bool = False
    css: str = ""


def data_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    sortable: bool = True,
    row_attrs: Callable[[pd.Series], dict[str, str]] | None = None,
    table_id: str | None = None,
) -> Markup:
    """Renders ``frame`` as an HTML table; numeric cells carry their raw value for sorting."""
    classes = [" ".join(filter(None, ("num" if c.numeric else "", c.css))) for c in columns]
    head = "".join(
        f'<th class="{css}">{esc(c.label)}</th>' for c, css in zip(columns, classes, strict=True)
    )
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for c, css in zip(columns, classes, strict=True):
            value = row[c.key]
            shown = esc(c.fmt(value))
            if c.numeric:
                raw = "" if is_missing(value) else repr(float(value))
                cells.append(f'<td class="{css}" data-v="{raw}">{shown}</td>')
            else:
                cells.append(f'<td class="{css}">{shown}</td>' if css else f"<td>{shown}</td>")
        attrs = "".join(
            f' {k}="{esc(v)}"' for k, v in (row_attrs(row) if row_attrs else {}).items()
        )
        rows.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    table_class = "sortable" if sortable else ""
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return Markup(
        f'<table class="{table_class}"{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def kpi(label: str, value: str, note: str = "") -> str:
    """A headline number card."""
    return (
        f'<div class="kpi"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div><div class="note">{esc(note)}</div></div>'
    )


def chart_card(uri: str, alt: str, below: str = "") -> str:
    """A chart (a ``data:`` URI) in a card, with ``below`` (HTML) under it."""
    return f'<div class="card"><img class="chart" src="{uri}" alt="{esc(alt)}">{below}</div>'


def empty_note(text: str) -> str:
    """What stands in place of a chart or table when its data is missing."""
    return f'<p class="empty">{esc(text)}</p>'


def page(title: str, body: str, script: str = "") -> str:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style><script>{WATCH_JS}</script></head>\n"
        f"<body>{body}\n<script>{SORT_JS}{script}</script></body></html>\n"
    )
