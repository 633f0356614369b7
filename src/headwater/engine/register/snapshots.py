"""Load a registered workflow from its code snapshot, not from whatever is on disk now.

A snapshot (a JSON bundle ``{"root": ..., "files": {relpath: text}}`` in the blob store) is
written once per process host into ``<HEADWATER_HOME>/code/<digest>/`` (to a temporary folder,
then renamed, so a half-written snapshot is never seen) and its module is imported from there.

One process can hold one copy of a module name. When an execution needs a module whose name
is already imported from another snapshot (or from elsewhere), :class:`SnapshotConflict` is
raised instead of mixing the two: a worker then hands the execution to a fresh process.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING

from headwater.definitions.entity import Entity
from headwater.errors import NotFoundError, SnapshotConflict, SnapshotError, StorageError
from headwater.storage import code_snapshots, entities

if TYPE_CHECKING:
    from headwater.instance import Instance


_lock = threading.Lock()
_loaded: dict[tuple[str, str], ModuleType] = {}  # (digest, module name) -> module
_owner: dict[str, str] = {}  # top-level module name -> digest it was imported from
_entities: dict[tuple[str, str, str, str, str], Entity] = {}  # versions never change


def code_dir(inst: Instance) -> Path:
    return Path(inst.settings.home) / "code"


def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel or rel.startswith("~"):
        raise SnapshotError(f"refusing the snapshot path {rel!r}: it must stay inside the snapshot")
    return p


def materialize(inst: Instance, digest: str) -> Path:
    """``<home>/code/<digest>/`` holding the snapshot's files (written once, atomically)."""
    if not digest or not all(c in "0123456789abcdef" for c in digest):
        raise SnapshotError(f"{digest!r} is not a snapshot digest")
    target = code_dir(inst) / digest
    if target.is_dir():
        return target
    with inst.db.read() as tx:
        snap = code_snapshots.get_snapshot(tx, digest=digest)
    if snap is None:
        raise SnapshotError(f"code snapshot {digest} is not registered")
    try:
        bundle = json.loads(inst.blobs.get_bytes(snap.blob_key))
        files = bundle["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not a mapping")
    except StorageError as exc:
        raise SnapshotError(f"code snapshot {digest}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"code snapshot {digest} is malformed: {exc}") from None
    checked = {_safe_rel(rel): text for rel, text in files.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".tmp-{digest[:12]}-"))
    try:
        for rel, text in checked.items():
            path = tmp.joinpath(*rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # lost a race to another process: theirs is the same
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _module_name(spec: dict[str, object], files: list[str]) -> str:
    module = str(spec.get("module") or "")
    if module == "__main__":
        # Registered from a script run as __main__: its name is the file's stem.
        py = [f for f in files if f.endswith(".py") and "/" not in f]
        if len(py) == 1:
            return py[0][:-3]
    return module


def _check_conflict(module: str, digest: str, folder: Path) -> None:
    top = module.split(".", 1)[0]
    owner = _owner.get(top)
    if owner is not None and owner != digest:
        raise SnapshotConflict(
            f"module {top!r} is already imported in this process from snapshot {owner[:12]}; "
            f"snapshot {digest[:12]} needs a fresh process"
        )
    if owner is None:
        for name in (top, module):
            existing = sys.modules.get(name)
            if existing is None:
                continue
            where = getattr(existing, "__file__", None)
            if where and Path(where).resolve().is_relative_to(folder.resolve()):
                continue
            if where and Path(where).resolve().is_relative_to(folder.parent.resolve()):
                raise SnapshotConflict(
                    f"module {name!r} is already imported in this process from {where}; "
                    f"snapshot {digest[:12]} needs a fresh process"
                )
            # Not from a snapshot (the standard library, an installed package, Headwater
            # itself): a fresh process would have it too, so this cannot be retried.
            raise SnapshotError(
                f"the module name {name!r} is taken by {where or 'a built-in module'} in the "
                f"worker, so snapshot {digest[:12]} cannot be imported under it; rename the "
                "module (or its package) and register it again"
            )


def import_snapshot(inst: Instance, digest: str, module: str) -> ModuleType:
    """Import ``module`` from snapshot ``digest`` (cached per process)."""
    with _lock:
        found = _loaded.get((digest, module))
        if found is not None:
            return found
        same = _imported_with_digest(module, digest)
        if same is not None:  # already imported from files whose content is the snapshot's
            _loaded[(digest, module)] = same
            return same
        folder = materialize(inst, digest)
        _check_conflict(module, digest, folder)
        top = module.split(".", 1)[0]
        entry = str(folder)
        sys.path.insert(0, entry)
        importlib.invalidate_caches()
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
                raise SnapshotError(
                    f"snapshot {digest[:12]} has no module {module!r} "
                    f"(it holds: {', '.join(sorted(_files(folder))) or 'nothing'})"
                ) from None
            raise
        finally:
            # Package submodules imported later resolve through the package's __path__, so
            # the folder is not needed on sys.path after the import.
            try:
                sys.path.remove(entry)
            except ValueError:
                pass
        where = getattr(mod, "__file__", None)
        if not where or not Path(where).resolve().is_relative_to(folder.resolve()):
            raise SnapshotError(
                f"module {module!r} was imported from {where or 'a built-in location'}, "
                f"not from snapshot {digest[:12]}; rename the module and register it again"
            )
        _owner[top] = digest
        _loaded[(digest, module)] = mod
        return mod


def _imported_with_digest(module: str, digest: str) -> ModuleType | None:
    """The module as imported in this process, if its code is exactly the snapshot's."""
    from headwater.engine.register.registry import take_snapshot

    found = sys.modules.get(module)
    where = getattr(found, "__file__", None)
    if found is None or not where or not where.endswith(".py"):
        return None
    try:
        return found if take_snapshot(Path(where).resolve()).digest == digest else None
    except OSError:
        return None


def _files(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*.py")]


def load_entity(
    inst: Instance, project: str, domain: str, workflow_name: str, workflow_version: str
) -> Entity:
    """The registered task or workflow ``workflow_name`` at ``workflow_version``, imported
    from its code snapshot. Raises NotFoundError when that version is not registered,
    SnapshotConflict when this process already holds other code under the module's name,
    SnapshotError when the snapshot cannot be used; an exception raised by the user's module
    while it is imported propagates as it is."""
    key = (inst.settings.database_url, project, domain, workflow_name, workflow_version)
    cached = _entities.get(key)
    if cached is not None:
        return cached
    with inst.db.read() as tx:
        row = entities.get_entity(
            tx, project=project, domain=domain, name=workflow_name, version=workflow_version
        )
    if row is None:
        raise NotFoundError(
            f"{workflow_name!r} version {workflow_version} is not registered in {project}/{domain}"
        )
    spec = json.loads(row.spec)
    digest = row.snapshot
    folder = materialize(inst, digest)
    module_name = _module_name(spec, _files(folder))
    if not module_name or module_name.startswith("<"):
        raise SnapshotError(
            f"{workflow_name!r} was defined interactively (module {module_name!r}); "
            "only code from a file can run on a worker"
        )
    module = import_snapshot(inst, digest, module_name)
    attr = str(spec.get("function") or "")
    obj: object = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, Entity):
        raise SnapshotError(
            f"snapshot {digest[:12]} module {module_name!r} has no task or workflow {attr!r}"
        )
    if obj.name != workflow_name:
        raise SnapshotError(
            f"snapshot {digest[:12]}: {module_name}.{attr} is named {obj.name!r}, "
            f"not {workflow_name!r}"
        )
    _entities[key] = obj
    return obj


def forget() -> None:
    """Forget the cache (tests); modules stay imported."""
    with _lock:
        _loaded.clear()
        _owner.clear()
        _entities.clear()
