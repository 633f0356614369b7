"""Code uploaded for registration over HTTP: prepared by the client, checked by the server.

The client snapshots what it registers exactly as local registration does (the module's file,
or every ``.py`` file of its top-level package) and sends ``{"module", "root", "files":
{relative path: source text}}``. The server checks every path (relative, inside the snapshot,
no ``..``, NUL, backslash or drive, ``.py`` only; JSON cannot carry a symlink) and the size,
stores the snapshot by content, and never imports it in its own process.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from headwater.engine.register.registry import (
    MAX_SNAPSHOT_BYTES,
    Snapshot,
    module_name_for,
    snapshot_digest,
    take_snapshot,
)
from headwater.errors import NotFoundError, UploadTooLarge, UserInputError

MAX_FILES = 10_000
MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _source_file(path_or_module: Any) -> Path:
    if isinstance(path_or_module, ModuleType):
        where = getattr(path_or_module, "__file__", None)
        if not where:
            raise UserInputError(f"module {path_or_module.__name__!r} has no source file to upload")
        return Path(where).resolve()
    text = str(path_or_module)
    path = Path(text)
    if isinstance(path_or_module, Path) or text.endswith(".py") or path.exists():
        if not path.is_file() or path.suffix != ".py":
            raise NotFoundError(
                f"{text!r} is not a Python file; give a path like pipelines/train.py or a "
                "module name like pipelines.train"
            )
        return path.resolve()
    if not MODULE_NAME.fullmatch(text):
        raise NotFoundError(
            f"{text[:80]!r} is neither a Python file nor a module name; give a path like "
            "pipelines/train.py or a name like pipelines.train"
        )
    try:
        spec = importlib.util.find_spec(text)
    except (ImportError, ValueError) as exc:
        raise NotFoundError(f"cannot find module {text!r}: {exc}") from None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise NotFoundError(
            f"cannot find the source of module {text!r} here; give its .py file's path"
        )
    return Path(spec.origin).resolve()


def prepare_upload(path_or_module: Any) -> dict[str, Any]:
    """The upload for registering a file, a module name or a module, read on this machine."""
    source = _source_file(path_or_module)
    snap = take_snapshot(source)
    files = {}
    for rel, content in snap.files.items():
        try:
            files[rel] = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserInputError(
                f"{Path(snap.root).parent / rel if rel != source.name else source}: not "
                f"UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8 to register it"
            ) from None
    return {"module": module_name_for(source)[1], "root": snap.root, "files": files}


def _check_path(rel: Any) -> str:
    problem = None
    if not isinstance(rel, str) or not rel:
        problem = "it is empty"
    elif any(ord(c) < 32 or c in "\\:" for c in rel):
        problem = "it holds NUL, a control character, a backslash or a colon"
    elif rel.startswith(("/", "~")):
        problem = "it is absolute"
    elif any(part in ("", ".", "..") for part in rel.split("/")):
        problem = "it has an empty, '.' or '..' part"
    elif not rel.endswith(".py"):
        problem = "only .py files are uploaded"
    if problem:
        raise UserInputError(
            f"refusing the uploaded file name {str(rel)[:120]!r}: {problem}; file names are "
            "relative POSIX paths inside the snapshot, like pkg/module.py"
        )
    return str(PurePosixPath(rel))


def check_upload(module: str, root: str, files: dict[str, str]) -> Snapshot:
    """The snapshot an upload describes, or a UserInputError saying what is wrong with it."""
    if not MODULE_NAME.fullmatch(module) or len(module) > 500:
        raise UserInputError(
            f"{module[:120]!r} is not a module name; give the dotted name of the module to "
            "register (e.g. pipelines.train)"
        )
    if not files:
        raise UserInputError("the upload holds no files; send the module's .py files")
    if len(files) > MAX_FILES:
        raise UploadTooLarge(f"the upload holds {len(files)} files; the limit is {MAX_FILES}")
    data: dict[str, bytes] = {}
    for rel, text in files.items():
        if not isinstance(text, str):
            raise UserInputError(f"the uploaded file {rel!r} must be source text")
        try:
            data[_check_path(rel)] = text.encode("utf-8")
        except UnicodeEncodeError:
            raise UserInputError(
                f"the uploaded file {rel!r} is not valid Unicode (a lone surrogate)"
            ) from None
    size = sum(map(len, data.values()))
    if size > MAX_SNAPSHOT_BYTES:
        raise UploadTooLarge(
            f"the uploaded code is {size} bytes; snapshots are limited to "
            f"{MAX_SNAPSHOT_BYTES} bytes of .py files"
        )
    stem = module.replace(".", "/")
    if f"{stem}.py" not in data and f"{stem}/__init__.py" not in data:
        raise UserInputError(
            f"module {module!r} is not in the upload (expected {stem}.py or "
            f"{stem}/__init__.py among {len(data)} file(s))"
        )
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top == "headwater":
        raise UserInputError(
            f"module {module!r} has the name of a standard or Headwater module; rename it"
        )
    shown_root = root if isinstance(root, str) and "\0" not in root else ""
    return Snapshot(snapshot_digest(data), shown_root[:1000] or "<upload>", data)
