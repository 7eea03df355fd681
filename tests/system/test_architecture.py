"""The architecture we hold to, read from the source with `ast` (no module is imported):

(a) no import cycle between modules of gandrange_desk;
(b) no `from X import _private` across modules;
(c) nothing under gandrange_desk/ui imports sqlalchemy;
(d) cli.py and commands/ reach neither gandrange_desk.ui nor PySide6;
(e) nothing under services/ or models/ imports PySide6 (or the ui, which would bring it).

An import inside a function counts like one at the top of the module: deferring it hides a
loop from the interpreter, not from the reader, and the two modules still need each other. Only
imports under `if TYPE_CHECKING:` are left out, because they never run.

A package's own `__init__` is not counted as imported by `from package.sub import x`: Python runs
it first, but it is one of the package's files, not a module the importer chose to depend on.
`from package import name` is an edge to the submodule `package.name` when there is one, else
to the package.

ALLOWLISTS hold today's known offenders, each in an area someone else is rewriting right now.
The test fails on any new offender, and on an allowlisted one that no longer offends (remove it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "gandrange_desk"

# --- Today's known offenders. The integrator empties these lists. --------------------------------

# (a) Import cycles, each as the exact set of modules in it (a cycle that grows is a new one).
KNOWN_CYCLES: list[set[str]] = []

# (b) (importing module, module the name comes from, private name).
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str, str]] = set()

# (c) ui modules that still import sqlalchemy (the ui/services split is being finished).
KNOWN_UI_SQLALCHEMY: set[str] = set()

# (d) (cli or command module, what it imports from the ui or PySide6) — start-up is being moved.
KNOWN_COMMAND_UI_IMPORTS: set[tuple[str, str]] = set()


# --- Reading the package -------------------------------------------------------------------------


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    # (target module or external top-level name, imported names) per import statement.
    imports: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def read_package(root: Path, package: str) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for node in _import_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append((alias.name, ()))
            else:
                base = node.module or ""
                if node.level:
                    here = module.name.split(".")
                    if not module.is_package:
                        here = here[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join(here + ([node.module] if node.module else []))
                module.imports.append((base, tuple(alias.name for alias in node.names)))
    return modules


def _owner(modules: dict[str, Module], dotted: str) -> str | None:
    """The package module that `dotted` names, or its nearest enclosing one."""
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def edges(modules: dict[str, Module], package: str = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module in modules.values():
        for target, names in module.imports:
            if not target.split(".")[0] == package:
                continue
            if names and all(f"{target}.{n}" in modules for n in names):
                found = {f"{target}.{n}" for n in names}
            else:
                found = {_owner(modules, target)} | {f"{target}.{n}" for n in names if f"{target}.{n}" in modules}
            graph[module.name] |= {f for f in found if f and f != module.name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def private_imports(modules: dict[str, Module], package: str = PACKAGE) -> set[tuple[str, str, str]]:
    found = set()
    for module in modules.values():
        for target, names in module.imports:
            if target.split(".")[0] != package:
                continue
            for name in names:
                private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
                if private and f"{target}.{name}" not in modules:
                    found.add((module.name, _owner(modules, target) or target, name))
    return found


def _external(module: Module, top: str) -> bool:
    return any(target == top or target.startswith(top + ".") for target, _ in module.imports)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def ui_sqlalchemy(modules: dict[str, Module], package: str = PACKAGE) -> set[str]:
    return {m.name for m in modules.values() if _under(m.name, f"{package}.ui") and _external(m, "sqlalchemy")}


def command_ui_imports(modules: dict[str, Module], allowed: set[tuple[str, str]],
                       package: str = PACKAGE) -> set[tuple[str, str]]:
    """(cli or command module, the ui module or "PySide6 (in module)" it reaches), through any
    chain of imports of the package; allowed edges are not followed: what lies behind is not counted."""
    graph = edges(modules, package)
    starts = [n for n in modules if n == f"{package}.cli" or _under(n, f"{package}.commands")]
    found = set()
    for start in starts:
        seen, todo = {start}, [start]
        while todo:
            name = todo.pop()
            if _external(modules[name], "PySide6"):
                found.add((start, f"PySide6 (in {name})"))
            for target in graph[name]:
                if (start, target) in allowed or (name, target) in allowed:
                    continue
                if _under(target, f"{package}.ui"):
                    found.add((start, target))
                    continue
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
    return found


def core_qt_imports(modules: dict[str, Module], package: str = PACKAGE) -> set[tuple[str, str]]:
    found = set()
    graph = edges(modules, package)
    for m in modules.values():
        if not (_under(m.name, f"{package}.services") or _under(m.name, f"{package}.models")):
            continue
        if _external(m, "PySide6"):
            found.add((m.name, "PySide6"))
        found |= {(m.name, t) for t in graph[m.name] if _under(t, f"{package}.ui")}
    return found


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return read_package(ROOT, PACKAGE)


# --- The rules, on gandrange_desk --------------------------------------------------------------


def test_a_no_import_cycle(modules):
    new = [sorted(c) for c in cycles(edges(modules)) if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"


def test_b_no_private_name_imported_across_modules(modules):
    new = sorted(private_imports(modules) - KNOWN_PRIVATE_IMPORTS)
    assert not new, "private names imported from another module (make them public or move them): " + \
        "; ".join(f"{importer} imports {name} from {source}" for importer, source, name in new)


def test_c_the_ui_never_imports_sqlalchemy(modules):
    new = sorted(ui_sqlalchemy(modules) - KNOWN_UI_SQLALCHEMY)
    assert not new, f"ui modules importing sqlalchemy (call a service instead): {new}"


def test_d_the_command_line_never_reaches_the_ui_or_qt(modules):
    new = sorted(command_ui_imports(modules, KNOWN_COMMAND_UI_IMPORTS) - KNOWN_COMMAND_UI_IMPORTS)
    assert not new, f"cli/commands reaching the ui or PySide6: {new}"


def test_e_services_and_models_never_import_qt(modules):
    found = sorted(core_qt_imports(modules))
    assert not found, f"services/models importing PySide6 or the ui: {found}"


def test_the_allowlists_hold_only_todays_offenders(modules):
    """An offender fixed must leave its list, so the lists only shrink."""
    graph = edges(modules)
    actual_cycles = cycles(graph)
    stale = [sorted(c) for c in KNOWN_CYCLES if c not in actual_cycles]
    stale += sorted(KNOWN_PRIVATE_IMPORTS - private_imports(modules))
    stale += sorted(KNOWN_UI_SQLALCHEMY - ui_sqlalchemy(modules))
    stale += sorted(edge for edge in KNOWN_COMMAND_UI_IMPORTS if edge[1] not in graph.get(edge[0], ()))
    assert not stale, f"no longer offending, remove from the allowlist: {stale}"


# --- The checks can fail: a small package with one offender of each kind -----------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_each_check_finds_its_offender(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/models/__init__.py": "",
        "pkg/models/base.py": "def helper():\n    from PySide6.QtCore import Qt\n",
        "pkg/services/__init__.py": "",
        "pkg/services/a.py": "from pkg.services.b import _secret\n",
        "pkg/services/b.py": "_secret = 1\n\ndef later():\n    from . import a\n",
        "pkg/services/ok.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.ui import view\n"
                              "from pkg.models import base\n",
        "pkg/ui/__init__.py": "",
        "pkg/ui/view.py": "import sqlalchemy.orm\nfrom PySide6.QtWidgets import QWidget\n",
        "pkg/commands/__init__.py": "",
        "pkg/commands/run.py": "from pkg.services import ok\n\ndef main():\n    from pkg.ui.view import QWidget\n",
        "pkg/cli.py": "import pkg.commands.run\n",
    })
    found = read_package(tmp_path, "pkg")
    assert cycles(edges(found, "pkg")) == [{"pkg.services.a", "pkg.services.b"}]
    assert private_imports(found, "pkg") == {("pkg.services.a", "pkg.services.b", "_secret")}
    assert ui_sqlalchemy(found, "pkg") == {"pkg.ui.view"}
    # run.py reaches the ui directly, and models.base's Qt through services.ok; the cli through run.
    assert command_ui_imports(found, set(), "pkg") == {
        ("pkg.commands.run", "pkg.ui.view"), ("pkg.commands.run", "PySide6 (in pkg.models.base)"),
        ("pkg.cli", "pkg.ui.view"), ("pkg.cli", "PySide6 (in pkg.models.base)")}
    # An allowed edge is not followed, from anywhere: only the Qt behind services.ok is left.
    assert command_ui_imports(found, {("pkg.commands.run", "pkg.ui.view")}, "pkg") == {
        ("pkg.commands.run", "PySide6 (in pkg.models.base)"), ("pkg.cli", "PySide6 (in pkg.models.base)")}
    # The TYPE_CHECKING import of the ui by services.ok does not count.
    assert core_qt_imports(found, "pkg") == {("pkg.models.base", "PySide6")}
