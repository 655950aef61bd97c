"""What reps and managers read: the ranked lists (CSV/HTML) and the pipeline health report.

- ``lists``: the ranked list of a run, read back from the store, and ``top``'s view of it;
- ``export``: a rep's list as CSV or one sortable HTML page;
- ``health`` and ``metrics``: funnel, velocity, scores-vs-outcomes and drift metrics;
- ``render``, ``sections``, ``charts``, ``html``: the report page, its sections and charts.
"""

from scoring.reports.export import (
    export_frame,
    parse_bant,
    parse_reasons,
    reasons_in_words,
    render_export_html,
    to_csv,
)
from scoring.reports.inputs import ReportInputs, current_features
from scoring.reports.lists import TOP_COLUMNS, TOP_NUMBERS, read_lead_scores, top_list
from scoring.reports.render import render_report

__all__ = [
    "TOP_COLUMNS",
    "TOP_NUMBERS",
    "ReportInputs",
    "current_features",
    "export_frame",
    "parse_bant",
    "parse_reasons",
    "read_lead_scores",
    "reasons_in_words",
    "render_export_html",
    "render_report",
    "to_csv",
    "top_list",
]
