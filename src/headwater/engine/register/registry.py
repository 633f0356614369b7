"""Registration: snapshot the code (content-addressed), version entities by content.

The snapshot of a module is its file, or, for a module inside a package, every ``.py`` file of
the top-level package. An entity's version is a hash of its interface, options and snapshot, so
the same code always gets the same version and any change gets a new one.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from headwater.definitions.entity import Entity
from headwater.errors import NotFoundError, UserInputError
from headwater.storage import code_snapshots, entities
from headwater.types import type_name

if TYPE_CHECKING:
    from headwater.instance import Instance

MAX_SNAPSHOT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    digest: str
    root: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class Registered:
    """A registered entity version."""

    name: str
    kind: str
    version: str
    project: str
    domain: str
    snapshot: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "project": self.project,
            "domain": self.domain,
            "snapshot": self.snapshot,
        }


def module_file(module_name: str) -> Path | None:
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    return Path(path).resolve() if path else None


def _package_root(path: Path) -> Path | None:
    root = None
    parent = path.parent
    while (parent / "__init__.py").exists():
        root = parent
        parent = parent.parent
    return root


def module_name_for(path: Path) -> tuple[Path, str]:
    """The folder to import a ``.py`` file from and its module name there (dotted from the
    top-level package that holds it)."""
    pkg = _package_root(path)
    base = pkg.parent if pkg else path.parent
    rel = path.relative_to(base).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return base, ".".join(parts)


def take_snapshot(path: Path) -> Snapshot:
    """Read the code a module needs: its file, or its whole top-level package."""
    pkg = _package_root(path)
    if pkg is None:
        files = {path.name: path.read_bytes()}
        root = str(path)
    else:
        files = {
            p.relative_to(pkg.parent).as_posix(): p.read_bytes()
            for p in sorted(pkg.rglob("*.py"))
            if "__pycache__" not in p.parts
        }
        root = str(pkg)
    size = sum(map(len, files.values()))
    if size > MAX_SNAPSHOT_BYTES:
        raise UserInputError(
            f"the code under {root} is {size} bytes; snapshots are limited to "
            f"{MAX_SNAPSHOT_BYTES} bytes of .py files"
        )
    return Snapshot(snapshot_digest(files), root, files)


def entity_spec(entity: Entity) -> dict[str, Any]:
    """The content that defines an entity version (apart from its code)."""
    iface = entity.interface
    return {
        "kind": entity.kind,
        "name": entity.name,
        "module": entity.module,
        "function": entity.short_name,
        "inputs": {
            n: {
                "type": type_name(s.type),
                "required": s.required,
                "query": repr(s.query) if s.query else None,
            }
            for n, s in iface.inputs.items()
        },
        "outputs": {
            n: {
                "type": type_name(s.type),
                "artifact": s.binding.artifact.name if s.binding else None,
            }
            for n, s in iface.outputs.items()
        },
        "options": entity.options.to_dict(),
    }


def store_snapshot(inst: Instance, snap: Snapshot) -> None:
    """Keep the snapshot's files in the blob store (once per digest) and record it."""
    with inst.db.read() as tx:
        if code_snapshots.get_snapshot(tx, digest=snap.digest) is not None:
            return
    bundle = json.dumps(
        {
            "root": snap.root,
            "files": {k: v.decode("utf-8", "replace") for k, v in snap.files.items()},
        },
        sort_keys=True,
    ).encode()
    blob_key = inst.blobs.put_bytes(bundle)
    with inst.db.transaction() as tx:
        code_snapshots.insert_snapshot(
            tx,
            digest=snap.digest,
            blob_key=blob_key,
            root=snap.root,
            files=len(snap.files),
            size=len(bundle),
            now=time.time(),
        )


def snapshot_digest(files: dict[str, bytes]) -> str:
    """The content address of a set of files (relative path -> bytes)."""
    h = hashlib.sha256()
    for rel, content in sorted(files.items()):
        h.update(rel.encode() + b"\0" + hashlib.sha256(content).digest())
    return h.hexdigest()


def ensure_registered(
    inst: Instance, entity: Entity, project: str | None = None, domain: str | None = None
) -> Registered:
    """Register ``entity`` unless this process already did for the same file state."""
    project, domain = project or inst.project, domain or inst.domain
    # The code that runs is the code imported into this process: editing the file without
    # re-importing does not change what runs, so one registration per entity object is right.
    memo_key = (id(entity), project, domain)
    found = inst.registered.get(memo_key)
    if found is not None and found[0] is entity:
        return found[1]
    path = module_file(entity.module)
    if path is not None and path.suffix == ".py":
        snap = take_snapshot(path)
    else:  # defined interactively: the snapshot is the function's source, if it has one
        import inspect

        try:
            src = inspect.getsource(entity.fn).encode()
        except (OSError, TypeError):
            src = entity.name.encode()
        snap = Snapshot(hashlib.sha256(src).hexdigest(), "<interactive>", {"source.py": src})
    spec = entity_spec(entity)
    version = hashlib.sha256(
        json.dumps(spec, sort_keys=True).encode() + snap.digest.encode()
    ).hexdigest()[:20]
    with inst.db.read() as tx:
        exists = entities.get_entity(
            tx, project=project, domain=domain, name=entity.name, version=version
        )
    if exists is None:
        store_snapshot(inst, snap)
        with inst.db.transaction() as tx:
            entities.insert_entity(
                tx,
                project=project,
                domain=domain,
                name=entity.name,
                version=version,
                kind=entity.kind,
                snapshot=snap.digest,
                spec=spec,
                now=time.time(),
            )
    reg = Registered(entity.name, entity.kind, version, project, domain, snap.digest)
    inst.registered[memo_key] = (entity, reg)
    return reg


def load_module(path_or_module: str | Path) -> ModuleType:
    """Import a Python file (its folder goes on sys.path, as for a script) or a module name."""
    text = str(path_or_module)
    if not text or len(text) > 4096 or "\0" in text:
        raise NotFoundError("give a Python file path or an importable module name")
    path = Path(text)
    try:
        path.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise NotFoundError(f"{text[:80]!r}... is not a usable path: {exc.strerror}") from None
    if path.suffix == ".py" or path.exists():
        if not path.is_file() or path.suffix != ".py":
            raise NotFoundError(
                f"{text!r} is not a Python file; give a path like "
                "pipelines/train.py or a module name like pipelines.train"
            )
        path = path.resolve()
        base, name = module_name_for(path)
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        existing = sys.modules.get(name)
        existing_file = getattr(existing, "__file__", None)
        if existing is not None and existing_file and Path(existing_file).resolve() == path:
            return existing
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", text):
        raise NotFoundError(
            f"{text[:80]!r} is neither a Python file nor a module name; give a "
            "path like pipelines/train.py or a name like pipelines.train"
        )
    try:
        return importlib.import_module(text)
    except ModuleNotFoundError as exc:
        raise NotFoundError(
            f"cannot import {text!r}: {exc}. Give a file path or an importable module name"
        ) from None


def entities_of(module: ModuleType) -> dict[str, Entity]:
    """Tasks and workflows defined in ``module`` (not the ones it imports), by short name."""
    found = {}
    for attr, value in vars(module).items():
        if isinstance(value, Entity) and value.module == module.__name__:
            found[attr] = value
        # A class that compiles into a workflow (a FlowSpec) carries it as this attribute.
        inner = getattr(value, "_headwater_workflow", None) if isinstance(value, type) else None
        if isinstance(inner, Entity) and value.__module__ == module.__name__:
            found[attr] = inner
    return found


def find_entity(module: ModuleType, name: str) -> Entity:
    """An entity of the module by attribute name or full registered name."""
    defined = entities_of(module)
    for attr, entity in defined.items():
        if name in (attr, entity.name, entity.short_name):
            return entity
    known = ", ".join(sorted(defined)) or "none"
    raise NotFoundError(
        f"{module.__name__} has no task or workflow named {name!r} (it defines: {known})"
    )


def register(
    inst: Instance,
    path_or_module: str | Path,
    project: str | None = None,
    domain: str | None = None,
) -> list[Registered]:
    """Register every task and workflow a file or module defines."""
    module = load_module(path_or_module)
    return [ensure_registered(inst, e, project, domain) for e in entities_of(module).values()]
