"""Point-in-time features: snapshots (the rule for who is open at T), the event SQL, the frame,
the feature families and the job-title parser.

Every feature at T sees only what happened before T.
"""

from pipelines.features.families import (
    EMPLOYEE_BANDS,
    FAMILIES,
    REVENUE_BANDS,
    TIMEFRAME_MONTHS,
    Family,
    StageFeatures,
)
from pipelines.features.frame import (
    KEY_COLUMNS,
    NON_FEATURE_COLUMNS,
    STAGE_COLUMNS,
    TEXT_COLUMNS,
    FeatureBuilder,
    assemble_feature_frame,
    build_feature_frame,
    event_features,
    event_keys,
    feature_columns,
    lead_attributes,
    model_input,
)
from pipelines.features.snapshots import (
    build_snapshots,
    cap_per_lead,
    open_at,
    open_at_sql,
    sample_negatives,
    snapshot_dates,
    snapshots_at,
)
from pipelines.features.sql import (
    DUCKDB,
    SPARK,
    Dialect,
    engagement_feature_names,
    engagement_sql,
    stage_sql,
)
from pipelines.features.titles import (
    DEPARTMENTS,
    SENIORITIES,
    parse_job_title,
    parse_job_titles,
    seniority_rank,
)

__all__ = [
    "DEPARTMENTS",
    "DUCKDB",
    "Dialect",
    "EMPLOYEE_BANDS",
    "FAMILIES",
    "FeatureBuilder",
    "Family",
    "KEY_COLUMNS",
    "NON_FEATURE_COLUMNS",
    "REVENUE_BANDS",
    "SENIORITIES",
    "SPARK",
    "STAGE_COLUMNS",
    "StageFeatures",
    "TEXT_COLUMNS",
    "TIMEFRAME_MONTHS",
    "assemble_feature_frame",
    "build_feature_frame",
    "build_snapshots",
    "cap_per_lead",
    "engagement_feature_names",
    "engagement_sql",
    "event_features",
    "event_keys",
    "feature_columns",
    "lead_attributes",
    "model_input",
    "open_at",
    "open_at_sql",
    "parse_job_title",
    "parse_job_titles",
    "sample_negatives",
    "seniority_rank",
    "snapshot_dates",
    "snapshots_at",
    "stage_sql",
]
