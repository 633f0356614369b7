"""Literals back to Python values. The literal's format names the family that wrote it; a
declared type whose family also reads that format (any tabular family reads any Parquet)
reads it instead. The declared type directs JSON decoding and is checked for the others."""

from __future__ import annotations

from typing import Any

from headwater.errors import UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types import families
from headwater.types.introspect import kind_of

Literal = dict[str, Any]


def decode_literal(literal: Literal, tp: Any, blobs: BlobStore) -> Any:
    """The Python value of ``literal``, read as ``tp`` (``None``/``Any``: by its format)."""
    fmt = literal.get("format") if isinstance(literal, dict) else None
    family = families.by_format(fmt)
    if family is None or not isinstance(fmt, str):
        raise UserInputError(
            f"not a Headwater literal (unknown format {fmt!r}): {str(literal)[:120]}"
        )
    declared = families.by_kind(kind_of(tp).name)
    if declared is not None and declared is not family and declared.reads(fmt):
        family = declared
    return family.read(literal, tp, blobs)
