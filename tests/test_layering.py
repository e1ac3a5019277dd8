"""Imports go one way: survey -> analysis -> questionnaires; inside survey, web/commands -> reporting/transfer
-> domain -> models/db; one web package never imports another; no import circle anywhere.

Every import counts, at the top of a module or inside a function: a circle closed by a late import is
still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("survey", "analysis", "questionnaires")
FORBIDDEN = {
    "analysis": {"flask", "flask_babel", "flask_wtf", "sqlalchemy", "survey", "matplotlib.pyplot"},
    "questionnaires": {"flask", "sqlalchemy", "survey", "analysis", "pandas", "matplotlib"},
    "survey.domain": {"survey.reporting", "survey.transfer", "survey.web", "survey.commands", "flask_wtf"},
    "survey.reporting": {"survey.web", "survey.commands"},
    "survey.transfer": {"survey.web", "survey.commands"},
    "survey.web": {"survey.commands"},
    "survey.commands": {"survey.web"},
    "survey.models": {"survey", "flask"},
    "survey.config": {"survey"},
    "survey.db": {"survey.domain", "survey.reporting", "survey.transfer", "survey.web", "survey.commands"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


MODULES = project_modules()


def imported_modules(path: Path, resolve: bool = False) -> set[str]:
    """Every module a file imports, as dotted names; `from a import b` names a.b as well.

    resolve: only what is really imported from the project, `from a import b` naming a.b alone when b
    is a module of the project and a alone when b is a name defined in a.
    """
    names = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            full = {f"{base}.{alias.name}" for alias in node.names}
            if resolve:
                names.update(n if n in MODULES else base for n in full)
            else:
                names.update({base, *full})
    return names


def project_edges(name: str) -> set[str]:
    """The project modules a module imports."""
    edges = set()
    for imported in imported_modules(MODULES[name], resolve=True):
        while imported and imported not in MODULES:
            imported = imported.rpartition(".")[0]
        if imported and imported != name:
            edges.add(imported)
    return edges


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upward(package):
    offenders = []
    for name, path in MODULES.items():
        if not within(name, package):
            continue
        for imported in imported_modules(path):
            if any(within(imported, bad) for bad in FORBIDDEN[package] if not within(bad, package)):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not offenders, offenders


def web_audience(name: str) -> str | None:
    """The audience package of a module under survey.web (None for the shared helpers and survey.web itself)."""
    parts = name.split(".")
    if len(parts) < 3 or parts[:2] != ["survey", "web"]:
        return None
    return parts[2] if (ROOT / "survey" / "web" / parts[2]).is_dir() else None


def test_one_web_package_never_imports_another():
    offenders = []
    for name in MODULES:
        if not within(name, "survey.web") or name == "survey.web":  # survey.web registers every audience
            continue
        mine = web_audience(name)
        for imported in project_edges(name):
            theirs = web_audience(imported)
            if theirs is not None and theirs != mine:
                offenders.append(f"{name} ({mine or 'shared'}) imports {imported} ({theirs})")
    assert not offenders, offenders


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, as the list of modules along it, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_find_cycle_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_anywhere():
    graph = {name: project_edges(name) for name in MODULES}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
