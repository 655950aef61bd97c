"""Pipelines: the data contract, configs, validated inputs and the subpackages below.

- ``pipelines.storage``: stores behind one URI (DuckDB, Parquet/CSV, PostgreSQL);
- ``pipelines.features``: point-in-time snapshots and features;
- ``pipelines.ingest``: CRM exports through a mapping;
- ``pipelines.synthetic``: a synthetic CRM;
- ``pipelines.spark``: the Spark engine's inputs and features (optional).

``pipelines`` never imports ``models`` or ``scoring``.
"""

from pipelines.config import (
    ACTIVITY_TYPES,
    STAGES,
    ConfigError,
    EngagementConfig,
    FeaturesConfig,
    Frozen,
    StageConfig,
    config_dir,
    load_config,
)
from pipelines.contracts import (
    BOOLEAN_COLUMNS,
    GRADES,
    INPUT_TABLES,
    PII_COLUMNS,
    QUALIFICATIONS,
    SCHEMAS,
    TIME_COLUMNS,
    TIMEFRAMES,
    TRENDS,
    ContractError,
    LeadScores,
    Quarantine,
    ScoringRuns,
    empty_table,
    quarantine_rows,
    split_valid,
    to_boolean,
    to_utc,
    validate_table,
)
from pipelines.fill_rates import (
    FAMILY_OF_COLUMN,
    fill_rate_report,
    fill_rate_report_flat,
    fill_rates_by_status,
    leaking_columns,
)
from pipelines.inputs import (
    CrmTables,
    TrainingTables,
    member_of,
    positions_in,
    read_inputs,
    read_open_inputs,
    stored_data_end,
    validate_inputs,
    write_inputs,
)
from pipelines.memory import release_unused_memory
from pipelines.timestamps import utc, utc_times

__all__ = [
    "release_unused_memory",
    "FAMILY_OF_COLUMN",
    "fill_rate_report",
    "fill_rate_report_flat",
    "fill_rates_by_status",
    "leaking_columns",
    "ACTIVITY_TYPES",
    "BOOLEAN_COLUMNS",
    "ConfigError",
    "ContractError",
    "CrmTables",
    "EngagementConfig",
    "FeaturesConfig",
    "Frozen",
    "GRADES",
    "INPUT_TABLES",
    "LeadScores",
    "PII_COLUMNS",
    "QUALIFICATIONS",
    "Quarantine",
    "SCHEMAS",
    "STAGES",
    "ScoringRuns",
    "StageConfig",
    "TIMEFRAMES",
    "TIME_COLUMNS",
    "TRENDS",
    "TrainingTables",
    "config_dir",
    "empty_table",
    "load_config",
    "member_of",
    "positions_in",
    "quarantine_rows",
    "read_inputs",
    "read_open_inputs",
    "stored_data_end",
    "split_valid",
    "to_boolean",
    "to_utc",
    "utc",
    "utc_times",
    "validate_inputs",
    "validate_table",
    "write_inputs",
]
