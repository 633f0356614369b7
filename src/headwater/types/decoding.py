"""Literals back to Python values. The literal's format says how its bytes are written;
the declared type directs JSON decoding and is checked for the other formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from headwater.errors import TypeMismatchError, UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types import arrays, pickled, stored, tabular
from headwater.types.checking import matches
from headwater.types.files import Directory, File
from headwater.types.introspect import kind_of, type_name
from headwater.types.json_codec import Shape, decoder

Literal = dict[str, Any]


def decode_literal(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    """The Python value of ``literal``, read as ``tp`` (``None``/``Any``: by its format)."""
    fmt = literal.get("format") if isinstance(literal, dict) else None
    reader = _READERS.get(fmt) if isinstance(fmt, str) else None
    if reader is None:
        raise UserInputError(
            f"not a Headwater literal (unknown format {fmt!r}): {str(literal)[:120]}"
        )
    return reader(literal, tp, blobs)


def _blob(literal: Literal, blobs: BlobStore) -> bytes:
    key = literal.get("blob")
    if not isinstance(key, str):
        raise UserInputError(f"the {literal['format']} literal has no blob key")
    return blobs.get_bytes(key)


def _mismatch(literal: Literal, tp: Any, detail: str = "") -> TypeMismatchError:
    stored = literal.get("type", literal["format"])
    message = f"the stored {stored} value cannot be read as {type_name(tp)}"
    return TypeMismatchError(f"{message}: {detail}" if detail else message)


def _expect(value: Any, literal: Literal, tp: Any) -> Any:
    if not matches(value, tp):
        raise _mismatch(literal, tp, f"it is a {type_name(type(value))}")
    return value


def _read_none(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    return _expect(None, literal, tp)


def _read_json(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    data = literal["value"] if "value" in literal else json.loads(_blob(literal, blobs))
    try:
        with stored.using(blobs, "stored value"):
            return decoder(tp)(data)
    except Shape as exc:
        raise _mismatch(literal, tp, str(exc)) from None


def _read_bytes(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    return _expect(_blob(literal, blobs), literal, tp)


def _read_parquet(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    wanted = kind_of(tp).name
    if wanted not in ("dataframe", "table"):
        wanted = "dataframe" if literal["format"] == "parquet-pandas" else "table"
    data = _blob(literal, blobs)
    if wanted == "dataframe":
        value = tabular.parquet_to_dataframe(data)
    else:
        value = tabular.parquet_to_table(data)
    return _expect(value, literal, tp)


def _read_npy(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    return _expect(arrays.from_npy(_blob(literal, blobs)), literal, tp)


def _stored(cls: type[File] | type[Directory]) -> Callable[[Literal, Any, BlobStore], Any]:
    def read(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        size = literal.get("size")
        value = cls._from_blob(blobs, literal.get("blob", ""), literal.get("name"), size)
        return _expect(value, literal, tp)

    return read


def _read_pickle(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    return _expect(pickled.loads(_blob(literal, blobs)), literal, tp)


_READERS: dict[str, Callable[[Literal, Any, BlobStore], Any]] = {
    "none": _read_none,
    "json": _read_json,
    "bytes": _read_bytes,
    "parquet-pandas": _read_parquet,
    "parquet-arrow": _read_parquet,
    "npy": _read_npy,
    "file": _stored(File),
    "directory": _stored(Directory),
    "pickle": _read_pickle,
}
