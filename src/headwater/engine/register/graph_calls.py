"""Which registered tasks and workflows a workflow calls, read from its code snapshot.

A workflow is plain Python: the tasks it runs are the ones its function calls. The
meta-workflow graph needs that to say which artifacts a workflow produces (its tasks declare
them), without running anything, so the workflow function's source in the registered snapshot
is parsed (never imported) and its calls resolved against the module's imports:
``f(...)`` is ``module.f`` (or what ``from x import f`` made it), ``mod.f(...)`` is ``x.f``
after ``import x as mod``. A call that cannot be resolved this way is not counted.
"""

from __future__ import annotations

import ast
import json
import threading
from typing import TYPE_CHECKING

from headwater.errors import HeadwaterError
from headwater.storage import code_snapshots

if TYPE_CHECKING:
    from headwater.instance import Instance

Call = tuple[str, str]  # (module, function name)

_lock = threading.Lock()
_cache: dict[tuple[str, str, str], frozenset[Call]] = {}  # snapshots never change
_CACHE_MAX = 4096


def _source(files: dict[str, str], module: str) -> str | None:
    path = module.replace(".", "/")
    for rel in (f"{path}.py", f"{path}/__init__.py"):
        if rel in files:
            return files[rel]
    if len(files) == 1:  # a single-file snapshot is keyed by its file name
        return next(iter(files.values()))
    tail = module.rsplit(".", 1)[-1] + ".py"
    found = [text for rel, text in files.items() if rel.rsplit("/", 1)[-1] == tail]
    return found[0] if len(found) == 1 else None


def _absolute(module: str, level: int, name: str | None) -> str:
    """The module a ``from ... import`` names, relative ones resolved against ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".")[:-level]
    return ".".join([*base, *([name] if name else [])])


def calls_in(source: str, module: str, function: str) -> frozenset[Call]:
    """The (module, name) pairs the function ``function`` (a qualified name inside
    ``module``) calls, resolved through the module's imports."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    modules: dict[str, str] = {}  # local alias -> module
    names: dict[str, Call] = {}  # local name -> (module, name) imported
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    modules[a.asname] = a.name
                else:
                    modules[a.name.split(".")[0]] = a.name.split(".")[0]
                    modules[a.name] = a.name
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(module, node.level, node.module)
            for a in node.names:
                local = a.asname or a.name
                names[local] = (origin, a.name)
                modules.setdefault(local, f"{origin}.{a.name}")
    short = function.rsplit(".", 1)[-1]
    bodies = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == short
    ]
    found: set[Call] = set()
    for body in bodies:
        for node in ast.walk(body):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                found.add(names.get(func.id, (module, func.id)))
            elif isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value)
                if owner in modules:
                    found.add((modules[owner], func.attr))
    return frozenset(found)


def calls_of(
    inst: Instance,
    snapshot: str,
    module: str,
    function: str,
    bundles: dict[str, dict[str, str] | None] | None = None,
) -> frozenset[Call]:
    """What the function calls, read from snapshot ``snapshot`` (nothing when the snapshot or
    its source cannot be read). ``bundles``: snapshot files already read (digest -> files),
    so that one graph reads each snapshot once."""
    key = (snapshot, module, function)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    bundles = {} if bundles is None else bundles
    if snapshot not in bundles:
        bundles[snapshot] = _files(inst, snapshot)
    files = bundles[snapshot]
    source = None if files is None else _source(files, module)
    found = frozenset() if source is None else calls_in(source, module, function)
    if files is None:  # perhaps only for now (a blob store outage): read it again next time
        return found
    with _lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = found
    return found


def _files(inst: Instance, snapshot: str) -> dict[str, str] | None:
    with inst.db.read() as tx:
        snap = code_snapshots.get_snapshot(tx, digest=snapshot)
    if snap is None:
        return None
    try:
        files = json.loads(inst.blobs.get_bytes(snap.blob_key))["files"]
    except (HeadwaterError, ValueError, KeyError, TypeError):
        return None  # a missing or malformed bundle: the graph shows no calls for it
    return files if isinstance(files, dict) else None
