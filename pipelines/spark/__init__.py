"""The Spark engine's share of the pipelines: the session, the inputs validated on Spark and
the event features in Spark SQL. pyspark is optional and imported only inside functions.
"""

from pipelines.spark.checks import contract_schema, spark_type
from pipelines.spark.features import (
    build_feature_frame_spark,
    event_features_spark,
    to_pandas_events,
)
from pipelines.spark.inputs import (
    SparkCrmTables,
    SparkEventTables,
    read_inputs_spark,
    read_table_spark,
    training_tables_spark,
    validate_inputs_spark,
)
from pipelines.spark.session import (
    INSTALL_HINT,
    SparkUnavailable,
    java_executable,
    spark_session,
    to_spark,
)

__all__ = [
    "INSTALL_HINT",
    "SparkCrmTables",
    "SparkEventTables",
    "SparkUnavailable",
    "build_feature_frame_spark",
    "contract_schema",
    "event_features_spark",
    "java_executable",
    "read_inputs_spark",
    "read_table_spark",
    "spark_session",
    "spark_type",
    "to_pandas_events",
    "to_spark",
    "training_tables_spark",
    "validate_inputs_spark",
]
