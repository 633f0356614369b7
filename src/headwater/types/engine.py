"""Values to literals. The declared type picks the value-type family (cached per type);
under ``Any`` the runtime value does. See :mod:`headwater.types` for the literal format and
:mod:`headwater.types.families` for the families."""

from __future__ import annotations

from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types import families
from headwater.types.checking import check, matches
from headwater.types.families import Family
from headwater.types.families.json_values import JSON, jsonable
from headwater.types.families.pickled import PICKLED
from headwater.types.introspect import _cached, kind_of, type_name, union_members

FORMATS = tuple(fmt for family in families.FAMILIES for fmt in family.formats)
ANY = "any"  # decided per value, by the runtime type
UNION = "union"  # decided per value, by the first member it matches
Literal = dict[str, Any]


@_cached
def family(tp: Any) -> Family | str:
    """The family storing values declared ``tp``, or ANY / UNION to decide per value."""
    kind = kind_of(tp)
    if kind.name == "any":
        return ANY
    owner = families.by_kind(kind.name)
    if owner is not None:
        return owner
    if kind.name == "union":
        members, _ = union_members(kind.args)
        return JSON if all(family(m) is JSON for m in members) else UNION
    return JSON if jsonable(tp) else PICKLED


def encode_literal(value: Any, tp: Any, blobs: BlobStore, what: str) -> Literal:
    """Check ``value`` against ``tp``, store it, return its literal."""
    check(value, tp, what)
    if value is None:
        return {"format": "none", "type": type_name(tp), "size": 0, "preview": "None"}
    fam = family(tp)
    if fam is UNION:
        members, _ = union_members(kind_of(tp).args)
        fam = next((family(m) for m in members if matches(value, m)), PICKLED)
    if isinstance(fam, str):  # ANY, or a union member declared Any
        fam, tp = families.for_value(value), Any
        type_text = type_name(type(value))
    else:
        type_text = type_name(tp)
    return fam.write(value, tp, type_text, blobs, what)
