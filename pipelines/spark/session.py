"""The Spark session leadscore runs in, and pandas frames handed to it with the contract's types.

pyspark is optional (``pip install 'leadscore[spark]'``) and imported only by the functions
here, so the rest of the package works without it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

INSTALL_HINT = "pip install 'leadscore[spark]'"
SESSION_DEFAULTS = {
    "spark.app.name": "leadscore",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    # Rows per Arrow batch handed to pandas (mapInPandas, the model's UDF): Spark's 10,000
    # spends much of a run on per-batch overhead (contract checks, model calls).
    "spark.sql.execution.arrow.maxRecordsPerBatch": "50000",
}
# Spark's 200 shuffle partitions suit a cluster; on one machine they are mostly overhead.
LOCAL_DEFAULTS = {"spark.sql.shuffle.partitions": "16"}
QUIET_LOG4J = Path(__file__).with_name("log4j2-quiet.properties")
# pyspark warns in every Python worker that pandas 3 is "not fully supported" (it works).
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
# Column → Spark SQL type of the relations the generated SQL reads.


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark is not installed, or no Java runtime starts."""


def _pyspark_sql() -> Any:
    try:
        import pyspark.sql
    except ImportError:
        raise SparkUnavailable(f"pyspark is not installed: {INSTALL_HINT}") from None
    return pyspark.sql


def java_executable() -> str | None:
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = os.path.join(home, "bin", "java")
        return java if os.access(java, os.X_OK) else None
    return shutil.which("java")


def _is_local(master: str | None) -> bool:
    """Whether the session will run on this machine; unknown under spark-submit."""
    launched_by_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    resolved = master or os.environ.get("MASTER") or ("" if launched_by_submit else "local")
    return resolved.startswith("local")


def quiet_settings(environ: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """What keeps a run's stderr to what matters: ``(spark conf, environment variables)``.

    No progress bars; the driver JVM logs errors only (:data:`QUIET_LOG4J`, through
    ``SPARK_SUBMIT_OPTS``) unless a log4j2 configuration is already given (in
    ``SPARK_SUBMIT_OPTS`` or ``$SPARK_CONF_DIR/log4j2.properties``); Python workers, which
    inherit the environment, ignore pyspark's pandas-version warning. ``environ`` is
    read, not changed: the variables returned are the new values to set.
    """
    conf = {"spark.ui.showConsoleProgress": "false"}
    env = {}
    submit = environ.get("SPARK_SUBMIT_OPTS", "")
    conf_dir = environ.get("SPARK_CONF_DIR")
    own = conf_dir is not None and Path(conf_dir, "log4j2.properties").exists()
    if "log4j2.configurationFile" not in submit and not own:
        env["SPARK_SUBMIT_OPTS"] = f"{submit} -Dlog4j2.configurationFile={QUIET_LOG4J.as_uri()}"
        env["SPARK_SUBMIT_OPTS"] = env["SPARK_SUBMIT_OPTS"].strip()
    warnings = environ.get("PYTHONWARNINGS", "")
    if PANDAS_WARNING not in warnings:
        env["PYTHONWARNINGS"] = ",".join(filter(None, [warnings, PANDAS_WARNING]))
    conf["spark.executorEnv.PYTHONWARNINGS"] = env.get("PYTHONWARNINGS", warnings)
    return conf, env


def spark_session(
    master: str | None = None, conf: dict[str, str] | None = None, quiet: bool | None = None
) -> SparkSession:
    """The Spark session the engine runs in: gets the active one or starts one.

    Settings: session time zone UTC, Arrow for pandas conversions, no web UI and, on a
    local master, 16 shuffle partitions and Python workers on this interpreter; ``conf``
    overrides any of them. An active session (a notebook's, spark-submit's) is used as it
    is, with only ``conf`` set on it.

    Args:
        master: Spark master URL; default ``$SPARK_MASTER``, else what spark-submit,
            ``spark-defaults.conf`` or ``$MASTER`` say, else ``local[*]``.
        conf: further Spark settings, applied over the defaults.
        quiet: no progress bars, Spark logs errors only, no pandas-version warnings
            (:func:`quiet_settings`); default: unless this package logs at DEBUG
            (``LEADSCORE_LOG_LEVEL=DEBUG``).

    Raises:
        SparkUnavailable: pyspark is not installed, or Java is missing or fails to start.
    """
    sql = _pyspark_sql()
    active = sql.SparkSession.getActiveSession()
    if active is not None:  # the caller's session, as it was set up: only ``conf`` changes it
        for key, value in (conf or {}).items():
            active.conf.set(key, value)
        return active
    if java_executable() is None:
        raise SparkUnavailable(
            "no Java runtime found: Spark needs Java 17 or later (set JAVA_HOME or put java on PATH)"
        )
    builder = sql.SparkSession.builder
    master = master or os.environ.get("SPARK_MASTER")
    if master:
        builder = builder.master(master)
    local = _is_local(master)
    if local:
        # SparkContext starts Python workers with $PYSPARK_PYTHON, else `python3` on PATH,
        # which may lack pandas and leadscore: default to this interpreter.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {**SESSION_DEFAULTS, **(LOCAL_DEFAULTS if local else {})}
    if quiet is None:
        quiet = not logging.getLogger(__name__).isEnabledFor(logging.DEBUG)
    if quiet:  # before the JVM starts: it and its Python workers read the environment
        quiet_conf, env = quiet_settings(dict(os.environ))
        os.environ.update(env)
        settings |= quiet_conf
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except RuntimeError as err:
        condition = getattr(err, "getCondition", lambda: None)()
        if condition != "JAVA_GATEWAY_EXITED":
            raise
        raise SparkUnavailable(
            f"Java exited before Spark started: check that {java_executable()} is Java 17 or later"
        ) from err


def _arrow_column(values: pd.Series) -> pa.Array:
    """One column with the contract's Arrow type; raises rather than drop sub-µs digits."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        # Naive times are read as UTC (contract); Arrow gets UTC wall times without a zone.
        utc = values.dt.tz_convert(None) if isinstance(dtype, pd.DatetimeTZDtype) else values
        return pa.array(utc.to_numpy(), type=pa.timestamp("us", tz="UTC"), from_pandas=True)
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(values, type=pa.bool_(), from_pandas=True)
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(values, type=pa.int64(), from_pandas=True)
    if pd.api.types.is_float_dtype(dtype):  # NaN is pandas' missing value: NULL in Spark
        return pa.array(values, type=pa.float64(), from_pandas=True)
    return pa.array(values.astype("object").where(values.notna(), None), type=pa.string())


def to_spark(spark: SparkSession, frame: pd.DataFrame) -> SparkFrame:
    """A pandas frame as a Spark DataFrame with the contract's types, through Arrow.

    Timestamps become ``TIMESTAMP`` at microsecond precision (tz-aware ones converted to
    UTC, naive ones read as UTC), numbers ``DOUBLE``/``BIGINT``/``BOOLEAN`` with NaN and NA
    as NULL, everything else ``STRING``.

    Raises:
        pyarrow.ArrowInvalid: a timestamp has digits below the microsecond.
    """
    columns = [str(c) for c in frame.columns]
    arrays = [_arrow_column(frame[c]) for c in frame.columns]
    return spark.createDataFrame(pa.Table.from_arrays(arrays, names=columns))
