"""The layout rules of leadscore, checked statically (``make check`` and the test suite).

Run ``python -m tests.check_layout``: it prints one line per violation and exits 1 if any.

Rules, over every module of ``pipelines``, ``models`` and ``scoring`` (imports inside
functions and under ``TYPE_CHECKING`` count too):

1. Imports go one way: ``scoring`` → ``models`` → ``pipelines``.
2. No import circles between modules (a package's ``__init__`` imports its modules).
3. No private name (``_name``) is imported from another module.
4. A module imports its siblings, modules of the packages above it, and the public face
   of any other package: ``from pipelines.features import build_feature_frame`` names
   something in ``pipelines/features/__init__.py``'s ``__all__``; a module inside
   another package is never reached into directly.
5. Every package has an ``__init__.py`` whose ``__all__`` lists names it defines.
6. No module is over :data:`MAX_MODULE_LINES` lines, no function over
   :data:`MAX_FUNCTION_LINES`.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "models", "scoring")
LAYERS = {"pipelines": 0, "models": 1, "scoring": 2}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


@dataclass
class Module:
    name: str  # dotted, e.g. pipelines.storage.duckdb; a package's __init__ is the package
    path: Path
    is_package: bool
    tree: ast.Module
    imports: list[tuple[str, list[str], int]] = field(default_factory=list)  # (module, names, line)

    @property
    def package(self) -> str:
        """The package this module's code lives in (itself for an ``__init__``)."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def discover(root: Path = ROOT) -> dict[str, Module]:
    """Every module of the three packages, parsed."""
    modules = {}
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            tree = ast.parse(path.read_text(), filename=str(path))
            modules[name] = Module(name, path, is_package, tree)
    for module in modules.values():
        module.imports = list(_imports(module, modules))
    return modules


def _imports(module: Module, modules: dict[str, Module]) -> list[tuple[str, list[str], int]]:
    """(target module, imported names, line) of every project import, submodules resolved."""
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            names = []
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, [], node.lineno))
                else:
                    names.append(alias.name)
            if names:
                found.append((node.module, names, node.lineno))
    return found


def exported(module: Module) -> list[str] | None:
    """The names in a module's ``__all__``, or None without one."""
    for node in module.tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = node.value  # type: ignore[union-attr]
            if isinstance(value, ast.List | ast.Tuple):
                return [e.value for e in value.elts if isinstance(e, ast.Constant)]
    return None


def defined(module: Module) -> set[str]:
    """Names bound at a module's top level (definitions, assignments, imports)."""
    names: set[str] = set()
    body = list(module.tree.body)
    for node in module.tree.body:  # names a lazy face imports for type checkers only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            body.extend(node.body)
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:  # a, b = ... binds each name
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _visible(importer: Module, target: str, modules: dict[str, Module]) -> bool:
    """Whether ``importer`` may import module ``target`` directly (rule 4)."""
    if modules[target].is_package:
        return True  # a face
    parent = target.rpartition(".")[0]
    own = importer.package
    return own == parent or own.startswith(parent + ".")  # a sibling, or a module above


def check_imports(modules: dict[str, Module]) -> list[str]:
    """Rules 1, 3 and 4."""
    problems = []
    for module in modules.values():
        where = f"{module.path.relative_to(ROOT)}"
        for target, names, line in module.imports:
            if target not in modules:
                problems.append(f"{where}:{line}: imports {target}, which does not exist")
                continue
            if LAYERS[target.split(".")[0]] > LAYERS[module.name.split(".")[0]]:
                problems.append(f"{where}:{line}: {module.name} may not import {target} (layers)")
            for name in names:
                if name.startswith("_"):
                    problems.append(f"{where}:{line}: imports private name {name} from {target}")
            if not _visible(module, target, modules):
                problems.append(
                    f"{where}:{line}: reaches into {target}; import from its package's face"
                )
            missing = [n for n in names if n not in defined(modules[target])]
            if missing and not modules[target].is_package:
                problems.append(f"{where}:{line}: {target} defines no {', '.join(missing)}")
            elif modules[target].is_package and not module.name.startswith(target + "."):
                public = exported(modules[target]) or []
                for name in names:
                    if name not in public:
                        problems.append(f"{where}:{line}: {name} is not in {target}.__all__")
    return problems


def check_cycles(modules: dict[str, Module]) -> list[str]:
    """Rule 2: strongly connected components of the import graph (Tarjan)."""
    graph = {
        name: sorted({t for t, _, _ in m.imports if t in modules}) for name, m in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return [f"import circle: {' <-> '.join(c)}" for c in cycles]


def check_faces(modules: dict[str, Module]) -> list[str]:
    """Rule 5."""
    problems = []
    for top in PACKAGES:
        for directory in sorted(p for p in (ROOT / top).rglob("*") if p.is_dir()):
            if directory.name == "__pycache__" or not any(directory.glob("*.py")):
                continue
            if not (directory / "__init__.py").exists():
                problems.append(f"{directory.relative_to(ROOT)}: no __init__.py")
    for module in modules.values():
        if not module.is_package:
            continue
        public = exported(module)
        where = module.path.relative_to(ROOT)
        if public is None:
            problems.append(f"{where}: no __all__")
            continue
        missing = sorted(set(public) - defined(module))
        if missing:
            problems.append(f"{where}: __all__ names undefined {', '.join(missing)}")
    return problems


def check_sizes(modules: dict[str, Module]) -> list[str]:
    """Rule 6."""
    problems = []
    for module in modules.values():
        where = module.path.relative_to(ROOT)
        lines = len(module.path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            problems.append(f"{where}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append(
                        f"{where}:{node.lineno}: function {node.name} is {length} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    return problems


def problems(root: Path = ROOT) -> list[str]:
    """Every violation of the layout rules."""
    modules = discover(root)
    return [
        *check_imports(modules),
        *check_cycles(modules),
        *check_faces(modules),
        *check_sizes(modules),
    ]


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    print(f"layout: {len(found)} problem(s)" if found else "layout: ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
