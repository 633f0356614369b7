"""Values to literals and back. The declared type picks the storage format (cached per
type); under ``Any`` the runtime value does. See :mod:`headwater.types` for the format."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

from headwater.errors import TypeMismatchError
from headwater.storage.blobs import BlobStore
from headwater.types import arrays, pickled, stored, tabular
from headwater.types.checking import check, matches
from headwater.types.files import Directory, File
from headwater.types.introspect import _cached, kind_of, type_name, union_members
from headwater.types.json_codec import dumps, encoder
from headwater.types.pickled import Unsupported
from headwater.types.preview import human_size, short_repr

_SCALARS = frozenset({int, float, bool, str})
INLINE_LIMIT = 4096  # JSON up to this many bytes is kept in the literal's "value", not a blob
FORMATS = (
    "json", "bytes", "parquet-pandas", "parquet-arrow", "npy", "file", "directory", "pickle", "none"
)  # fmt: skip
_DIRECT = {
    "none": "none",
    "bytes": "bytes",
    "dataframe": "parquet-pandas",
    "table": "parquet-arrow",
    "ndarray": "npy",
    "file": "file",
    "directory": "directory",
}
_JSON_KINDS = {
    "any", "none", "bool", "int", "float", "str", "bytes", "datetime", "date", "timedelta",
    "enum", "literal", "dataclass", "pydantic", "namedtuple", "typeddict", "strlike",
    "file", "directory",
}  # fmt: skip
_CONTAINERS = {"list", "set", "frozenset", "tuplevar", "tuple", "dict", "union"}
Literal = dict[str, Any]


@_cached
def family(tp: Any) -> str:
    """The storage format for values declared ``tp``; ``any`` and ``union`` are decided
    per value."""
    kind = kind_of(tp)
    if kind.name == "any":
        return "any"
    direct = _DIRECT.get(kind.name)
    if direct is not None:
        return direct
    if kind.name == "union":
        members, _ = union_members(kind.args)
        return "json" if all(family(m) == "json" for m in members) else "union"
    return "json" if _jsonable(tp) else "pickle"


def _jsonable(tp: Any) -> bool:
    kind = kind_of(tp)
    if kind.name in _CONTAINERS:
        return all(_jsonable(a) for a in kind.args)
    return kind.name in _JSON_KINDS


def runtime_family(value: Any) -> str:
    """The storage format for a value declared ``Any``."""
    t = type(value)
    if t is int or t is str or t is bool or t is list or t is dict:
        return "json"
    if t is float:
        return "json" if math.isfinite(value) else "pickle"
    if t is bytes:
        return "bytes"
    if isinstance(value, File):
        return "file"
    if isinstance(value, Directory):
        return "directory"
    for module, attr, fmt in _LIBRARY_TYPES:
        lib = sys.modules.get(module)
        if lib is not None and isinstance(value, getattr(lib, attr)):
            return fmt
    return "pickle"


_LIBRARY_TYPES = (
    ("pandas", "DataFrame", "parquet-pandas"),
    ("pyarrow", "Table", "parquet-arrow"),
    ("numpy", "ndarray", "npy"),
)


def _literal(fmt: str, key: str, type_text: str, size: int, preview: str) -> Literal:
    return {"format": fmt, "blob": key, "type": type_text, "size": size, "preview": preview}


# -- encoding ------------------------------------------------------------------------------
def encode_literal(value: Any, tp: Any, blobs: BlobStore, what: str) -> Literal:
    """Check ``value`` against ``tp``, store it, return its literal."""
    check(value, tp, what)
    fam = family(tp)
    if value is None:
        return {"format": "none", "type": type_name(tp), "size": 0, "preview": "None"}
    if fam == "union":
        members, _ = union_members(kind_of(tp).args)
        fam = next((family(m) for m in members if matches(value, m)), "pickle")
    if fam == "any":
        fam, tp = runtime_family(value), Any
        type_text = type_name(type(value))
    else:
        type_text = type_name(tp)
    return _WRITERS[fam](value, tp, type_text, blobs, what)


def _write_json(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
    try:
        if type(value) in _SCALARS:
            data = encoder(tp)(value)  # no stored files inside: skip the blob-store context
        else:
            with stored.using(blobs, what):
                data = encoder(tp)(value)
    except (Unsupported, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return _write_pickle(value, tp, type_text, blobs, what, reason=str(exc))
    raw = dumps(data)
    if len(raw) <= INLINE_LIMIT:
        # Small JSON lives in the literal itself (stored with the metadata): a blob file per
        # int or short string would cost more than everything else a run or a firing does.
        return {
            "format": "json",
            "type": type_text,
            "size": len(raw),
            "preview": short_repr(value),
            "value": data,
        }
    return _literal("json", blobs.put_bytes(raw), type_text, len(raw), short_repr(value))


def _write_pickle(
    value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str, reason: str = ""
) -> Literal:
    raw = pickled.dumps(value, what, type_text)
    lit = _literal("pickle", blobs.put_bytes(raw), type_text, len(raw), short_repr(value))
    lit["pickled"] = True
    lit["note"] = f"stored with cloudpickle: {type_text} has no dedicated transformer"
    if reason:
        lit["note"] += f" ({reason})"
    return lit


def _write_bytes(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
    raw = bytes(value)
    preview = f"{short_repr(raw, 120)} ({human_size(len(raw))})"
    return _literal("bytes", blobs.put_bytes(raw), type_text, len(raw), preview)


def _binary(
    fmt: str, to_bytes: Callable[[Any], bytes], preview: Callable[[Any], str]
) -> Callable[..., Literal]:
    def write(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        try:
            raw = to_bytes(value)
        except Unsupported as exc:
            return _write_pickle(value, tp, type_text, blobs, what, reason=str(exc))
        return _literal(fmt, blobs.put_bytes(raw), type_text, len(raw), preview(value))

    return write


def _write_file(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
    key, name, size = stored.upload_file(value, blobs, what)
    lit = _literal("file", key, type_text, size, f"File {name} ({human_size(size)})")
    lit["name"] = name
    return lit


def _write_directory(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
    key, name, size, count = stored.upload_tree(value, blobs, what)
    preview = f"Directory {name} ({count} files, {human_size(size)})"
    lit = _literal("directory", key, type_text, size, preview)
    lit["name"] = name
    return lit


def _write_none(value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
    raise TypeMismatchError(f"{what} expects None, got {type_name(type(value))}")


_WRITERS: dict[str, Callable[..., Literal]] = {
    "json": _write_json,
    "pickle": _write_pickle,
    "bytes": _write_bytes,
    "none": _write_none,
    "parquet-pandas": _binary(
        "parquet-pandas", tabular.dataframe_to_parquet, tabular.preview_frame
    ),
    "parquet-arrow": _binary("parquet-arrow", tabular.table_to_parquet, tabular.preview_table),
    "npy": _binary("npy", arrays.to_npy, arrays.preview_array),
    "file": _write_file,
    "directory": _write_directory,
}
