"""A Spark run keeps stderr for what matters: no log4j chatter, progress bars or pandas warnings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.spark import java_executable
from pipelines.spark.session import PANDAS_WARNING, QUIET_LOG4J, quiet_settings
from tests.paths import REPO

# A job that makes Spark talk: a Python worker that imports pandas (pyspark's version
# warning), a window without a partition (a WARN), a few stages (progress bars).
JOB = textwrap.dedent(
    """
    import warnings

    # The driver's own import of pyspark.pandas (through pandera), as the CLI's main() does.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    from pyspark.sql import Window, functions as F
    from pipelines.spark import spark_session

    spark = spark_session("local[2]", {
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m",
    })
    frame = spark.range(20_000).withColumn("r", F.row_number().over(Window.orderBy("id")))
    out = frame.mapInPandas(lambda batches: (b.assign(r=b["r"] * 2) for b in batches), frame.schema)
    print("rows", out.groupBy((F.col("id") % 7).alias("k")).count().count())
    spark.stop()
    """
)
NOISE = ("log4j", "WARN", "[Stage", "FutureWarning", "setLogLevel")


def test_quiet_settings_keep_what_the_user_set() -> None:
    conf, env = quiet_settings({})
    assert conf["spark.ui.showConsoleProgress"] == "false"
    assert env["SPARK_SUBMIT_OPTS"] == f"-Dlog4j2.configurationFile={QUIET_LOG4J.as_uri()}"
    assert env["PYTHONWARNINGS"] == PANDAS_WARNING == conf["spark.executorEnv.PYTHONWARNINGS"]
    assert QUIET_LOG4J.is_file()
    theirs = {"SPARK_SUBMIT_OPTS": "-Dlog4j2.configurationFile=mine.xml", "PYTHONWARNINGS": "once"}
    conf, env = quiet_settings(theirs)
    assert "SPARK_SUBMIT_OPTS" not in env  # their logging configuration wins
    assert env["PYTHONWARNINGS"] == f"once,{PANDAS_WARNING}"
    assert "PYTHONWARNINGS" not in quiet_settings({"PYTHONWARNINGS": PANDAS_WARNING})[1]


def test_a_spark_job_leaves_stderr_empty(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if java_executable() is None:
        if os.environ.get("CI"):
            pytest.fail("the Spark tests must run in CI: no Java runtime")
        pytest.skip("no Java runtime for Spark")
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "PYTHONWARNINGS")}
    env |= {"PYTHONPATH": str(REPO), "LEADSCORE_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-c", JOB],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rows 7" in done.stdout
    # Java itself prints one line before Spark starts, for a module Spark adds: not ours.
    lines = [line for line in done.stderr.splitlines() if "Using incubator modules" not in line]
    noise = [line for line in lines if any(n in line for n in NOISE)]
    assert noise == [], "\n".join(noise[:10])
