"""The code stays the shape docs/architecture.md describes: a few packages by layer whose imports
point one way (its rules table), small modules each named in its Layout, no import cycle, and an
engine that imports neither Flask nor the database."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from service.config import PROJECT_ROOT

SERVICE = PROJECT_ROOT / "service"
ARCHITECTURE = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
MAX_ENTRIES = 12
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


def test_the_documented_layout_has_a_line_for_every_module_and_no_other():
    layout = ARCHITECTURE.split("## Layout", 1)[1].split("\n## ", 1)[0]
    listed = {line.split()[0] for line in layout.splitlines() if line.startswith("service/") and ".py" in line}
    assert {str(path.relative_to(PROJECT_ROOT)) for path in MODULES.values()} == listed


# -- the layers -----------------------------------------------------------------------------------

def layer_rules() -> dict[str, set[str]]:
    """docs/architecture.md's table: package -> the packages it may import."""
    table = ARCHITECTURE.split("## The layer rules", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for row in table.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            may = set(re.findall(r"`(\w+)`", cells[1])) if "every package" not in cells[1] else {"*"}
            rules[cells[0].strip("`")] = may
    return rules


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "service"


def test_service_holds_a_few_packages_by_layer_each_saying_what_it_may_import():
    entries = {path.name.removesuffix(".py") for path in SERVICE.iterdir()
               if path.name not in ("__init__.py", "static", "templates", "__pycache__")}
    assert len(entries) <= MAX_ENTRIES, sorted(entries)
    rules = layer_rules()
    assert entries | {"service"} == set(rules), "every entry of service/ has a row in docs/architecture.md"
    for package in entries - {"config"}:
        doc = ast.get_docstring(ast.parse((SERVICE / package / "__init__.py").read_text())) or ""
        says = "may import" in doc.lower() or "imports nothing" in doc.lower()
        assert says, f"service/{package}/__init__.py does not say what it may import"


def test_every_import_points_down_the_layers():
    rules = layer_rules()
    wrong = sorted(f"{name} imports {target}" for name, targets in GRAPH.items() for target in targets
                   if layer_of(target) != layer_of(name) and "*" not in rules[layer_of(name)]
                   and layer_of(target) not in rules[layer_of(name)])
    assert wrong == [], "against docs/architecture.md's layer rules"


def test_the_layer_rules_themselves_have_no_cycle():
    rules = {package: may - {"*"} for package, may in layer_rules().items()}
    done: set[str] = set()

    def below(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, " -> ".join((*path, package))
        if package not in done:
            for lower in rules[package]:
                below(lower, (*path, package))
            done.add(package)

    for package in rules:
        below(package, ())
