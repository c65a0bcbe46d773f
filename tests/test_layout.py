"""The code stays the shape the README describes: small modules, each named in the Layout section,
no import cycle, and an engine that imports neither Flask nor the database."""
from __future__ import annotations

import ast
from pathlib import Path

from service.config import PROJECT_ROOT

SERVICE = PROJECT_ROOT / "service"
README = (PROJECT_ROOT / "README.md").read_text()
MAX_LINES = 400
# The engine's answers must not depend on the web or the database: it may not import these.
NOT_IN_THE_ENGINE = {"flask", "werkzeug", "sqlalchemy", "alembic", "twilio", "requests"}


def modules() -> dict[str, Path]:
    """Every module of the line (migrations aside) by its dotted name."""
    found = {}
    for path in sorted(SERVICE.rglob("*.py")):
        if "migrations" in path.relative_to(SERVICE).parts:
            continue
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING"


def imports(name: str) -> tuple[set[str], set[str]]:
    """The line's modules that ``name`` imports (anywhere in it), and the other top-level packages.
    ``from . import x`` counts as importing the submodule x, not its package."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    ours, theirs = set(), set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "service":
                while target not in MODULES:
                    target = target.rpartition(".")[0]
                if target != name:
                    ours.add(target)
            else:
                theirs.add(target.split(".")[0])
    return ours, theirs


GRAPH = {name: imports(name)[0] for name in MODULES}


def test_no_module_is_over_400_lines():
    long = {name: lines for name, path in MODULES.items() if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle():
    def cycle_from(start: str) -> list[str] | None:
        path, seen = [start], set()

        def visit(name: str) -> list[str] | None:
            for target in sorted(GRAPH[name]):
                if target == start:
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    path.append(target)
                    found = visit(target)
                    if found:
                        return found
                    path.pop()
            return None

        return visit(start)

    cycles = [found for name in MODULES if (found := cycle_from(name))]
    assert cycles == []


def test_the_engine_imports_no_web_and_no_database():
    reached, third_party, pending = set(), set(), [name for name in MODULES if name.startswith("service.engine")]
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        ours, theirs = imports(name)
        third_party |= theirs
        pending.extend(ours)
    assert "service.engine.calls" in reached and "service.content.model" in reached
    assert third_party & NOT_IN_THE_ENGINE == set(), sorted(reached)


def test_the_readme_layout_has_a_line_for_every_module_and_no_other():
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    listed = {line.split()[0] for line in layout.splitlines() if line.startswith("service/") and ".py" in line}
    assert {str(path.relative_to(PROJECT_ROOT)) for path in MODULES.values()} == listed
