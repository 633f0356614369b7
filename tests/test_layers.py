"""Imports point down the layers, and private names stay inside their package.

The layers, lowest first, are drawn in docs/design.md ("Layers"); this test is the check.
A module may import from its own package and from packages of a strictly lower rank.
Imports under ``if TYPE_CHECKING:`` are only for annotations and may point anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "headwater"

RANK = {
    "errors": 0,
    "definitions": 1,
    "storage": 1,
    "settings": 2,
    "types": 2,
    "instance": 3,
    "engine": 4,  # the engine's shared modules (event names, outage handling, child processes)
    "handles": 4,
    "schemas": 1,  # the wire form of handles (pydantic only; imported only where serialized)
    "engine.kinds": 5,  # trigger kinds: what each kind of trigger listens to, matches and binds
    "engine.register": 6,
    "engine.publish": 7,
    "engine.execute": 8,
    "engine.react": 9,
    "engine.retention": 10,  # gc: resolves launch plans' queries as the reactor does
    "client": 10,
    "headwater": 11,  # the public surface, headwater/__init__.py
    "flows": 11,
    "api": 12,
    "ui": 12,  # the web UI: pages over the client functions, served by the API app
    "integrations": 12,  # OpenLineage export: over storage and the engine; daemon and cli use it
    "daemon": 13,
    "cli": 14,
}

# (importing module, imported package): why the upward import is right.
ALLOWED_UP = {
    ("headwater.daemon.worker", "cli"): "`python -m` entry point delegates to the click command",
    ("headwater.daemon.reactor_process", "cli"): "`python -m` entry point delegates to click",
    ("headwater.engine.register.register_process", "cli"): "`python -m` entry point: click",
    ("headwater.engine.execute.relaunch_process", "cli"): "`python -m` entry point: click",
    ("headwater.api.app", "ui"): "the API app serves the web UI (same app, port and auth)",
    ("headwater.ui.session", "api"): "browser sessions apply the API's auth rules (one copy)",
}


def _package(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "headwater"
    if parts[1] == "engine" and len(parts) > 2 and (ROOT / "engine" / parts[2]).is_dir():
        return f"engine.{parts[2]}"
    return parts[1]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _target(node: ast.ImportFrom, alias: ast.alias) -> str:
    assert node.module is not None
    sub = SRC.joinpath(*node.module.split("."), alias.name)
    if sub.is_dir() or sub.with_suffix(".py").exists():
        return f"{node.module}.{alias.name}"
    return node.module


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree except those under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return out


def _imports(path: Path) -> list[tuple[str, str]]:
    """(imported module, imported name or '') for every headwater import in the file that
    runs (not those only for type checking)."""
    found: list[tuple[str, str]] = []
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "headwater":
                found += [(_target(node, a), a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "headwater"]
    return found


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_package_has_a_rank() -> None:
    packages = {_package(_module_name(p)) for p in MODULES}
    packages -= {"__main__", "py"}  # headwater/__main__.py, if any, is an entry point
    assert packages <= set(RANK), f"give these packages a rank: {sorted(packages - set(RANK))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_imports_point_down(path: Path) -> None:
    here = _module_name(path)
    mine = _package(here)
    wrong = []
    for target, _name in _imports(path):
        theirs = _package(target)
        if theirs == mine or (here, theirs) in ALLOWED_UP:
            continue
        if RANK.get(theirs, -1) >= RANK.get(mine, 99):
            wrong.append(f"{target} ({theirs}, rank {RANK.get(theirs)})")
    assert not wrong, f"{here} ({mine}, rank {RANK.get(mine)}) imports upward: {wrong}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_private_names_stay_in_their_package(path: Path) -> None:
    here = _module_name(path)
    mine = _package(here)
    wrong = []
    for target, name in _imports(path):
        if _package(target) == mine:
            continue
        private_module = any(part.startswith("_") for part in target.split(".")[1:])
        private_name = name.startswith("_") and name != "__version__"
        if private_module or private_name:
            wrong.append(f"{target}:{name}" if name else target)
    assert not wrong, f"{here} imports private names of another package: {wrong}"
