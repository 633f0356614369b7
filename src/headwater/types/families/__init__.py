"""The value-type families, in the order their detection is tried.

Under ``Any`` a value is stored by the first family whose ``owns_value`` says yes (the pickle
fallback, last, says yes to everything); an annotation belongs to the family whose ``name``
is its :class:`~headwater.types.introspect.Kind`. To add a family, write a module with a
:class:`~headwater.types.families.base.Family` subclass and add its instance to
``FAMILIES``: storage, reading, type checks, previews, summaries (:func:`summarize`),
command-line text and downloads then follow from it.
"""

from __future__ import annotations

from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types.families.arrow_tables import ARROW
from headwater.types.families.base import Family
from headwater.types.families.files import DIRECTORIES, FILES
from headwater.types.families.json_values import JSON
from headwater.types.families.numpy_arrays import NUMPY
from headwater.types.families.pandas_frames import PANDAS
from headwater.types.families.pickled import PICKLED
from headwater.types.families.polars_frames import POLARS
from headwater.types.families.raw_bytes import BYTES
from headwater.types.families.summaries import Summary, opaque

__all__ = [
    "FAMILIES",
    "Family",
    "Summary",
    "by_format",
    "by_kind",
    "for_class",
    "for_value",
    "summarize",
]

FAMILIES: tuple[Family, ...] = (
    JSON,
    BYTES,
    FILES,
    DIRECTORIES,
    PANDAS,
    ARROW,
    POLARS,
    NUMPY,
    PICKLED,
)

_BY_KIND = {f.name: f for f in FAMILIES if f is not JSON and f is not PICKLED}
_BY_FORMAT = {fmt: f for f in FAMILIES for fmt in f.formats}
_CLASS_OWNERS = tuple(f for f in FAMILIES if type(f).owns_class is not Family.owns_class)
LIBRARIES = frozenset(f.library for f in FAMILIES if f.library)


def by_kind(kind_name: str) -> Family | None:
    """The family of annotations of this Kind name (``"dataframe"``), if one owns it."""
    return _BY_KIND.get(kind_name)


def by_format(fmt: Any) -> Family | None:
    """The family that wrote literals of format ``fmt``."""
    return _BY_FORMAT.get(fmt) if isinstance(fmt, str) else None


def for_class(cls: type) -> Family | None:
    """The family that owns annotations of class ``cls`` (File, pandas.DataFrame, ...)."""
    for family in _CLASS_OWNERS:
        if family.owns_class(cls):
            return family
    return None


def for_value(value: Any) -> Family:
    """The family that stores ``value`` when it is declared ``Any``."""
    for family in FAMILIES:
        if family.owns_value(value):
            return family
    return PICKLED


def summarize(literal: dict[str, Any], blobs: BlobStore) -> Summary:
    """A bounded description of the value a literal stores (schema and first rows, pretty
    JSON, shape and dtype, a file listing...), by the family that wrote it."""
    family = by_format(literal.get("format"))
    if family is None:
        return opaque(literal, f"no preview: unknown format {literal.get('format')!r}")
    return family.summarize(literal, blobs)
