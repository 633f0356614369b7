"""Uploading File and Directory values, at the top of a literal or inside JSON.

Inside a JSON value (``list[File]``, a dataclass with a ``Directory`` field) a file is the
object ``{"file": <blob key>, "name": ..., "size": ...}`` and a directory
``{"directory": <manifest key>, "name": ..., "size": ...}``. The JSON codecs reach the blob
store through :data:`current_store`, which the engine sets while it encodes or decodes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from headwater.errors import UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types.files import Directory, File
from headwater.types.pickled import Unsupported

current_store: ContextVar[tuple[BlobStore, str] | None] = ContextVar(
    "headwater_types_store", default=None
)


@contextlib.contextmanager
def using(blobs: BlobStore, what: str) -> Iterator[None]:
    """Let the JSON codecs store and read files in ``blobs`` during the block."""
    token = current_store.set((blobs, what))
    try:
        yield
    finally:
        current_store.reset(token)


def _store() -> tuple[BlobStore, str]:
    found = current_store.get()
    if found is None:
        raise Unsupported("a File or Directory inside JSON needs a blob store")
    return found


def name_of(value: Any) -> str:
    if isinstance(value, File | Directory):
        return value.name
    return os.path.basename(os.path.abspath(os.fspath(value))) or "root"


def _reuse(value: Any, blobs: BlobStore) -> tuple[str, int] | None:
    """Key and size of a stored File/Directory that is already in this store."""
    if not isinstance(value, File | Directory) or value._store is None:
        return None
    if value._blob and value._size is not None and value._store.url == blobs.url:
        return value._blob, value._size
    return None


def upload_file(value: Any, blobs: BlobStore, what: str) -> tuple[str, str, int]:
    """``(key, name, size)`` of a File (or path) stored in ``blobs``."""
    name, known = name_of(value), _reuse(value, blobs)
    if known is not None:
        return known[0], name, known[1]
    path = os.fspath(value)
    if not os.path.isfile(path):
        raise UserInputError(f"{what}: {path} is not a file; a File must name an existing file")
    return blobs.put_file(path), name, os.path.getsize(path)


def upload_tree(value: Any, blobs: BlobStore, what: str) -> tuple[str, str, int, int]:
    """``(manifest key, name, total size, file count)`` of a Directory stored in ``blobs``."""
    name, known = name_of(value), _reuse(value, blobs)
    if known is not None:
        return known[0], name, known[1], len(blobs.tree_manifest(known[0]))
    path = os.fspath(value)
    if not os.path.isdir(path):
        raise UserInputError(f"{what}: {path} is not a directory")
    files = [p for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    return blobs.put_tree(path), name, size, len(files)


def file_to_json(value: Any) -> dict[str, Any]:
    blobs, what = _store()
    key, name, size = upload_file(value, blobs, what)
    return {"file": key, "name": name, "size": size}


def directory_to_json(value: Any) -> dict[str, Any]:
    blobs, what = _store()
    key, name, size, _ = upload_tree(value, blobs, what)
    return {"directory": key, "name": name, "size": size}


def from_json(data: Any, tag: str) -> File | Directory | None:
    """The File (tag ``file``) or Directory in ``data``; None when it is not one."""
    if type(data) is not dict or type(data.get(tag)) is not str or "name" not in data:
        return None
    found = current_store.get()
    if found is None:
        return None
    cls = File if tag == "file" else Directory
    return cls._from_blob(found[0], data[tag], data["name"], data.get("size"))
