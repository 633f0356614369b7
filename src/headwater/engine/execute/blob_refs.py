"""Which blobs a stored value references: what lets a blob read be scoped to a project.

A literal references its own ``blob``; a ``directory`` literal also the files of its manifest;
a ``json`` value (inline, or in its blob) also every stored ``File``/``Directory`` inside it
(``{"file": key, "name": ...}`` / ``{"directory": key, "name": ...}``, as the type engine
writes them), and those directories' files. Nothing is decoded: only JSON is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from headwater.errors import HeadwaterError
from headwater.storage.blobs import BlobStore, check_key


def _key(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return check_key(value)
    except HeadwaterError:
        return None


def _nested(data: Any) -> Iterator[tuple[str, str]]:
    """(kind, key) of every File/Directory object inside a JSON value."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for tag in ("file", "directory"):
                key = _key(item.get(tag))
                if key is not None and "name" in item:
                    yield tag, key
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def references(literals: Iterable[Any], key: str, blobs: BlobStore) -> bool:
    """True when one of ``literals`` (stored literal dicts) references blob ``key``."""
    # Direct keys first: the common case (an artifact's own blob) reads nothing.
    pending: list[tuple[str, str]] = []  # (what the blob holds, key) still to open
    json_values: list[Any] = []
    for literal in literals:
        if not isinstance(literal, dict):
            continue
        own = _key(literal.get("blob"))
        if own == key:
            return True
        fmt = literal.get("format")
        if fmt == "json":
            if "value" in literal:
                json_values.append(literal["value"])
            elif own is not None:
                pending.append(("json", own))
        elif fmt == "directory" and own is not None:
            pending.append(("directory", own))
    for value in json_values:
        for kind, found in _nested(value):
            if found == key:
                return True
            if kind == "directory":
                pending.append(("directory", found))
    seen: set[str] = set()
    while pending:
        kind, holder = pending.pop()
        if holder in seen:
            continue
        seen.add(holder)
        try:
            data = json.loads(blobs.get_bytes(holder))
        except (HeadwaterError, ValueError):
            continue
        if kind == "directory":
            manifest = data.get("manifest") if isinstance(data, dict) else None
            if isinstance(manifest, dict) and key in manifest.values():
                return True
            continue
        for inner, found in _nested(data):
            if found == key:
                return True
            if inner == "directory":
                pending.append(("directory", found))
    return False
