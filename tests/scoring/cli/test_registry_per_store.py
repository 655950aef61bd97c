"""One registry per CRM: each store gets its own MLflow registry by default, every version
says which store and data it was trained on, and a champion from another store is never
used silently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import configure, version_tags
from pipelines.inputs import write_inputs
from pipelines.storage import open_store, public_uri, registry_file, store_id
from scoring.cli import EXIT_BAD_INPUT, EXIT_NO_CHAMPION, app
from scoring.provenance import (
    FINGERPRINT_TAG,
    STORE_ID_TAG,
    STORE_URI_TAG,
)

runner = CliRunner()
AS_OF = "2026-10-15"


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _error_line(result) -> str:  # noqa: ANN001
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture(scope="module")
def folder(
    tmp_path_factory: pytest.TempPathFactory, small_crm: dict[str, pd.DataFrame]
) -> dict[str, object]:
    """Two stores side by side in one folder; `leadscore train` ran on the first only,
    with the default registry."""
    root = tmp_path_factory.mktemp("two-stores")
    a, b = f"duckdb:///{root / 'a.duckdb'}", f"duckdb:///{root / 'b.duckdb'}"
    write_inputs(open_store(a), dict(small_crm))
    write_inputs(open_store(b), dict(small_crm))
    return {"root": root, "a": a, "b": b, "train": _ok("train", "--store", a)}


def test_each_store_has_its_own_registry_beside_it(folder: dict[str, object]) -> None:
    root = Path(str(folder["root"]))
    assert f"MLflow: sqlite:///{root / 'a.mlflow.db'}" in str(folder["train"])
    assert (root / "a.mlflow.db").is_file() and (root / "a.mlartifacts").is_dir()
    assert not (root / "mlflow.db").exists() and not (root / "b.mlflow.db").exists()
    assert registry_file(open_store(str(folder["b"]))) == root / "b.mlflow.db"


def test_two_stores_in_one_folder_never_share_a_champion(folder: dict[str, object]) -> None:
    root = Path(str(folder["root"]))
    _ok("score", "--as-of", AS_OF, "--store", str(folder["a"]))
    result = runner.invoke(app, ["score", "--as-of", AS_OF, "--store", str(folder["b"])])
    assert result.exit_code == EXIT_NO_CHAMPION
    assert f"no model registry at {root / 'b.mlflow.db'}" in _error_line(result)
    assert not (root / "b.mlflow.db").exists()  # scoring does not create one


def test_a_champion_of_another_store_is_refused_unless_named(folder: dict[str, object]) -> None:
    a, b = str(folder["a"]), str(folder["b"])
    shared = f"sqlite:///{Path(str(folder['root'])) / 'a.mlflow.db'}"
    args = ["score", "--as-of", AS_OF, "--store", b, "--tracking-uri", shared]
    refused = runner.invoke(app, args)
    assert refused.exit_code == EXIT_NO_CHAMPION
    line = _error_line(refused)
    id_a = store_id(open_store(a), create=False)
    assert id_a and f"trained on store {id_a} ({a})" in line and f"not on {b}" in line
    assert "--model lead-conversion@champion" in line
    assert not open_store(b).exists("lead_scores")

    named = _ok(*args, "--model", "lead-conversion@champion")
    assert "with lead-conversion v1" in named
    assert _ok(*args, "--model", "lead-conversion/1")
    missing = runner.invoke(app, [*args, "--model", "lead-conversion/99"])
    assert missing.exit_code == EXIT_NO_CHAMPION and "has no version 99" in _error_line(missing)
    bad = runner.invoke(app, [*args, "--model", "lead-conversion"])
    assert bad.exit_code == EXIT_BAD_INPUT and "NAME@ALIAS" in _error_line(bad)


def test_versions_say_which_store_and_data_they_were_trained_on(
    folder: dict[str, object],
) -> None:
    a = str(folder["a"])
    id_a = store_id(open_store(a), create=False)
    rows = [line.split("\t") for line in _ok("models", "--store", a, "--plain").splitlines()]
    header, first = rows[0], rows[1]
    assert first[header.index("store")] == id_a
    assert first[header.index("store uri")] == a
    assert first[header.index("data")].startswith("3,000 leads to 2026-10-31 #")
    configure(f"sqlite:///{Path(str(folder['root'])) / 'a.mlflow.db'}")
    from models import get_version

    tags = version_tags(get_version("lead-conversion", "1"))
    assert tags[STORE_ID_TAG] == id_a and tags[STORE_URI_TAG] == a
    assert tags[FINGERPRINT_TAG].startswith("3,000 leads to 2026-10-31 #")


def test_an_untagged_champion_is_used_with_a_warning(
    store_copy: str, trained: dict[str, str]
) -> None:
    # The session's `trained` registry was filled by the library, before stores were tagged.
    out = _ok(
        "score", "--as-of", AS_OF, "--store", store_copy, "--tracking-uri", trained["tracking"]
    )
    assert "does not say which store it was trained on" in " ".join(out.split())


def test_store_uris_in_tags_and_registry_names_carry_no_password() -> None:
    uri = "postgresql+psycopg://u:s3cret@db.example:5432/crm?schema=sales&password=x2"
    assert "s3cret" not in public_uri(uri) and "x2" not in public_uri(uri)
    first = registry_file(open_store(uri))
    other = registry_file(open_store("postgresql://u:other@db.example:5432/crm?schema=sales"))
    assert first == other and first.parent == Path("data")
    assert first.name.startswith("postgres-sales-") and first.name.endswith(".mlflow.db")
    assert "s3cret" not in str(first)
    elsewhere = registry_file(open_store("postgresql://u@db.example:5432/crm?schema=other"))
    assert elsewhere != first
