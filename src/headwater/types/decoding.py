"""Literals back to Python values. The literal's format names the family that wrote it; a
declared type whose family also reads that format (any tabular family reads any Parquet)
reads it instead. The declared type directs JSON decoding and is checked for the others."""

from __future__ import annotations

from typing import Any

from headwater.errors import UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types import families
from headwater.types.families import Family
from headwater.types.introspect import kind_of, union_members

Literal = dict[str, Any]


def decode_literal(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    """The Python value of ``literal``, read as ``tp`` (``None``/``Any``: by its format)."""
    fmt = literal.get("format") if isinstance(literal, dict) else None
    family = families.by_format(fmt)
    if family is None or not isinstance(fmt, str):
        raise UserInputError(
            f"not a Headwater literal (unknown format {fmt!r}): {str(literal)[:120]}"
        )
    return _reader(tp, fmt, family).read(literal, tp, blobs)


def _reader(tp: Any, fmt: str, writer: Family) -> Family:
    """The family that reads a ``fmt`` literal as ``tp``: the one that wrote it, unless the
    declared type (or a member of a declared union) belongs to another family that reads
    ``fmt`` too."""
    kind = kind_of(tp)
    if kind.name == "any":
        return writer
    members = union_members(kind.args)[0] if kind.name == "union" else (tp,)
    declared = [families.by_kind(kind_of(m).name) for m in members]
    if writer in declared:
        return writer
    return next((f for f in declared if f is not None and f.reads(fmt)), writer)
