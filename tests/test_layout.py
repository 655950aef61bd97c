"""The layout rules hold (tests/check_layout.py), and the checker can fail."""

from __future__ import annotations

import ast

import scoring
from tests import check_layout


def test_the_tree_follows_the_layout_rules() -> None:
    assert check_layout.problems() == []


def test_the_checker_finds_a_private_import_a_reach_in_and_a_circle() -> None:
    modules = check_layout.discover()
    mod = modules["scoring.ranking"]
    mod.imports = [
        *mod.imports,
        ("pipelines.storage.base", ["_private"], 1),
        ("scoring.nightly.rows", [], 2),
    ]
    modules["scoring.nightly.rows"].imports.append(("scoring.ranking", [], 3))
    found = check_layout.check_imports(modules) + check_layout.check_cycles(modules)
    assert any("private name _private" in p for p in found)
    assert any("reaches into scoring.nightly.rows" in p for p in found)
    assert any("import circle" in p and "scoring.ranking" in p for p in found)


def test_the_checker_finds_layering_and_missing_faces() -> None:
    modules = check_layout.discover()
    modules["models.grades"].imports.append(("scoring.config", [], 1))
    face = modules["pipelines.storage"]
    face.tree = ast.parse("from pipelines.storage.base import Store\n")
    found = check_layout.check_imports(modules) + check_layout.check_faces(modules)
    assert any("may not import scoring.config (layers)" in p for p in found)
    assert any("pipelines/storage/__init__.py: no __all__" in p for p in found)


def test_the_lazy_scoring_face_resolves_every_name() -> None:
    for name in scoring.__all__:
        assert getattr(scoring, name) is not None
