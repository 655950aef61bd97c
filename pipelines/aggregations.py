"""Event aggregations behind the engagement and stage features, defined once as SQL.

The SQL is generated from :class:`~pipelines.config.FeaturesConfig` and runs on DuckDB over
three relations: ``snapshots`` (lead_id, snapshot_at), ``activities`` and ``stage_history``.
Every event is filtered with ``event_time < snapshot_at``: nothing at or after T is seen.
"""

from __future__ import annotations

import math

from pipelines.config import EngagementConfig, StageConfig


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _type_list(types: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(t) for t in types) + ")"


def engagement_columns(cfg: EngagementConfig) -> list[tuple[str, str]]:
    """(column name, SQL aggregate over ``ev``) for every engagement feature."""
    cols: list[tuple[str, str]] = []
    kinds = [(t, f"ev.type = {_quote(t)}") for t in cfg.activity_types]
    kinds.append(("other", f"ev.type NOT IN {_type_list(cfg.activity_types)}"))
    kinds.append(("total", "TRUE"))
    for name, cond in kinds:
        cols.append((f"eng_{name}_count", f"count(*) FILTER (WHERE {cond})"))
        for days in cfg.windows_days:
            cols.append(
                (f"eng_{name}_{days}d", f"count(*) FILTER (WHERE {cond} AND ev.age_days <= {days})")
            )
    for half_life in cfg.half_lives_days:
        rate = math.log(2) / half_life
        label = f"{half_life:g}".replace(".", "_")
        cols.append(
            (f"eng_total_decay_{label}d", f"coalesce(sum(exp(-{rate!r} * ev.age_days)), 0)")
        )
        high = f"ev.type IN {_type_list(cfg.high_intent_types)}"
        cols.append(
            (
                f"eng_high_intent_decay_{label}d",
                f"coalesce(sum(exp(-{rate!r} * ev.age_days)) FILTER (WHERE {high}), 0)",
            )
        )
    high = f"ev.type IN {_type_list(cfg.high_intent_types)}"
    negative = f"ev.type IN {_type_list(cfg.negative_types)}"
    trend = cfg.trend_days
    cols += [
        ("eng_days_since_last", "min(ev.age_days)"),
        ("eng_days_since_high_intent", f"min(ev.age_days) FILTER (WHERE {high})"),
        ("eng_days_since_first", "max(ev.age_days)"),
        ("eng_active_days_90d", "count(DISTINCT ev.day) FILTER (WHERE ev.age_days <= 90)"),
        ("eng_recent_count", f"count(*) FILTER (WHERE ev.age_days <= {trend})"),
        (
            "eng_prior_count",
            f"count(*) FILTER (WHERE ev.age_days > {trend} AND ev.age_days <= {2 * trend})",
        ),
        ("eng_negative_count", f"count(*) FILTER (WHERE {negative})"),
        ("eng_value_sum", "coalesce(sum(ev.value), 0)"),
    ]
    return cols


def engagement_sql(cfg: EngagementConfig) -> str:
    """One row per snapshot with every engagement feature (zero counts for silent leads)."""
    columns = engagement_columns(cfg)
    aggregates = ",\n    ".join(f"{expr} AS {name}" for name, expr in columns)
    # Counts and sums of a lead with no event before T are 0; "days since" stays missing.
    outputs = ", ".join(
        f"agg.{name}" if name.startswith("eng_days_since") else f"coalesce(agg.{name}, 0) AS {name}"
        for name, _ in columns
    )
    # day = UTC day number from the epoch: independent of the session's time zone.
    return f"""
WITH ev AS (
    SELECT s.lead_id, s.snapshot_at, a.type, a.value,
           CAST(floor(epoch(a.occurred_at) / 86400) AS BIGINT) AS day,
           (epoch(s.snapshot_at) - epoch(a.occurred_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN activities a ON a.lead_id = s.lead_id AND a.occurred_at < s.snapshot_at
),
agg AS (
    SELECT ev.lead_id, ev.snapshot_at,
    {aggregates}
    FROM ev GROUP BY ev.lead_id, ev.snapshot_at
)
SELECT s.lead_id, s.snapshot_at, {outputs}
FROM snapshots s LEFT JOIN agg USING (lead_id, snapshot_at)
"""


def stage_sql(cfg: StageConfig) -> str:
    """Stage at T, days in it, and backward moves before T, one row per snapshot."""
    order = "[" + ", ".join(_quote(s) for s in cfg.order) + "]"
    return f"""
WITH sh AS (
    SELECT s.lead_id, s.snapshot_at, h.stage, h.entered_at,
           list_position({order}, h.stage) AS pos
    FROM snapshots s
    JOIN stage_history h ON h.lead_id = s.lead_id AND h.entered_at < s.snapshot_at
),
moves AS (
    SELECT *, pos < lag(pos) OVER (PARTITION BY lead_id, snapshot_at ORDER BY entered_at, pos)
              AS backward
    FROM sh
),
agg AS (
    SELECT lead_id, snapshot_at,
           arg_max(stage, entered_at) AS stage_current,
           (epoch(any_value(snapshot_at)) - epoch(max(entered_at))) / 86400.0 AS stage_days_in_stage,
           count(*) FILTER (WHERE backward) AS stage_backward_moves,
           count(DISTINCT stage) AS stage_distinct_stages
    FROM moves GROUP BY lead_id, snapshot_at
)
SELECT s.lead_id, s.snapshot_at, agg.* EXCLUDE (lead_id, snapshot_at)
FROM snapshots s LEFT JOIN agg USING (lead_id, snapshot_at)
"""
