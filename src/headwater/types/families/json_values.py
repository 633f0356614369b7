"""Scalars and structured values (the JSON family): bool/int/float/str, datetimes, Enums,
Literal, UUID/Decimal/paths, containers, dataclasses, pydantic models, NamedTuples and
TypedDicts of those, stored as type-directed JSON (:mod:`headwater.types.json_codec`).

Small JSON is held in the literal itself; a value JSON cannot hold exactly is pickled. Type
checks and command-line text for these kinds live in :mod:`headwater.types.checking` and
:mod:`headwater.types.coerce`, which walk the structure and hand the other families' values
(a ``list[File]``, a dataclass with a ``bytes`` field) to their family.
"""

from __future__ import annotations

import json
import math
from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types import families, stored
from headwater.types.families.base import Family, Literal, blob_of, expect, make_literal, mismatch
from headwater.types.families.pickled import write_pickle
from headwater.types.families.summaries import (
    PARSE_LIMIT,
    TEXT_LIMIT,
    Summary,
    blob_key,
    clip_text,
    decoded_text,
    head,
)
from headwater.types.introspect import _cached, kind_of
from headwater.types.json_codec import Shape, decoder, dumps, encoder
from headwater.types.pickled import Unsupported
from headwater.types.preview import human_size, short_repr

INLINE_LIMIT = 4096  # JSON up to this many bytes is kept in the literal's "value", not a blob
_SCALARS = frozenset({int, float, bool, str})
_PLAIN = frozenset({int, str, bool, list, dict})
_KINDS = frozenset(
    {"any", "none", "bool", "int", "float", "str", "datetime", "date", "timedelta", "enum",
     "literal", "dataclass", "pydantic", "namedtuple", "typeddict", "strlike"}
)  # fmt: skip
_CONTAINERS = frozenset({"list", "set", "frozenset", "tuplevar", "tuple", "dict", "union"})


@_cached
def jsonable(tp: Any) -> bool:
    """Whether values declared ``tp`` are stored as JSON (its parts all fit in JSON)."""
    kind = kind_of(tp)
    if kind.name in _CONTAINERS:
        return all(jsonable(a) for a in kind.args)
    if kind.name in _KINDS:
        return True
    family = families.by_kind(kind.name)
    return family is not None and family.nests_in_json


class JsonValues(Family):
    name = "json"
    formats = ("json", "none")
    suffix = ".json"

    def owns_value(self, value: Any) -> bool:
        t = type(value)
        if t in _PLAIN:
            return True
        return t is float and math.isfinite(value)

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        try:
            if type(value) in _SCALARS:
                data = encoder(tp)(value)  # no stored files inside: skip the blob-store context
            else:
                with stored.using(blobs, what):
                    data = encoder(tp)(value)
        except (Unsupported, TypeError, ValueError, AttributeError, RecursionError) as exc:
            return write_pickle(value, type_text, blobs, what, reason=str(exc))
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
        return make_literal("json", blobs.put_bytes(raw), type_text, len(raw), short_repr(value))

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        if literal["format"] == "none":
            return expect(None, literal, tp)
        data = literal["value"] if "value" in literal else json.loads(blob_of(literal, blobs))
        try:
            with stored.using(blobs, "stored value"):
                return decoder(tp)(data)
        except Shape as exc:
            raise mismatch(literal, tp, str(exc)) from None

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """Pretty JSON (a ``str`` value: its text), cut to ``TEXT_LIMIT`` characters; JSON
        over ``PARSE_LIMIT`` bytes is shown as its first raw characters, not parsed."""
        if literal["format"] == "none":
            return Summary("none", text="None")
        if "value" in literal:
            data = literal["value"]
        else:
            key = blob_key(literal)
            if key is None:
                return Summary("opaque", note="the JSON literal has neither a value nor a blob")
            raw = head(blobs, key, PARSE_LIMIT + 1)
            if len(raw) > PARSE_LIMIT:
                summary = Summary("json", truncated=True)
                summary.text = decoded_text(raw[:TEXT_LIMIT]) or ""
                size = human_size(int(literal.get("size") or blobs.size(key)))
                summary.note = f"{size} of JSON: the start is shown as stored, not parsed"
                return summary
            data = json.loads(raw)
        if isinstance(data, str) and literal.get("type") == "str":
            summary = Summary("text", facts={"Length": f"{len(data):,} characters"})
            summary.text = clip_text(data, summary)
            return summary
        summary = Summary("json")
        if isinstance(data, list):
            summary.facts["Items"] = f"{len(data):,}"
        elif isinstance(data, dict):
            summary.facts["Keys"] = f"{len(data):,}"
        summary.text = clip_text(json.dumps(data, indent=2, ensure_ascii=False), summary)
        return summary


JSON = JsonValues()
