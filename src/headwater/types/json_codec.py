"""Type-directed JSON encoding (decoding is in json_decode): the declared type says how each value is written and read back.

datetime -> ISO 8601 text with its offset (plus ``[Zone/Name]`` for a ZoneInfo zone);
date -> ISO text; timedelta -> seconds; Enum -> its value; bytes -> base64; tuple/set ->
list; dataclass, pydantic model, NamedTuple -> object; NaN/inf floats -> "NaN",
"Infinity", "-Infinity" (the blob and the literal stay strict JSON). Dict keys are JSON
strings: ``str``-like keys (str, bytes, date, datetime, UUID, Enum of str) as their text,
other key types (int, tuple, ...) as the JSON text of the key. Under ``Any`` only plain JSON
(None, bool, int, finite float, str, list, dict with str keys) is accepted.

Encoders raise :class:`Unsupported` for what JSON cannot hold (the engine then pickles the
whole value); decoders raise :class:`Shape` for data that does not fit the type.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from headwater.types.checking import checker
from headwater.types.introspect import Kind, _cached, field_types, kind_of, type_name, union_members
from headwater.types.json_decode import UNION_TAG, Shape, _lazy, _same, decoder, string_keys
from headwater.types.pickled import Unsupported

__all__ = ["UNION_TAG", "Shape", "decoder", "dumps", "encoder", "plain"]

Codec = Callable[[Any], Any]


def dumps(data: Any) -> bytes:
    """Compact, strict (no NaN), ASCII JSON bytes."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode("ascii")


def plain(value: Any) -> Any:
    """A copy of a plain JSON value; Unsupported for anything else."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if math.isfinite(value):
            return value
        raise Unsupported("a non-finite float under Any")
    if t is list:
        return [plain(x) for x in value]
    if t is dict:
        out = {}
        for k, x in value.items():
            if type(k) is not str:
                raise Unsupported(f"a {type_name(type(k))} dict key under Any")
            out[k] = plain(x)
        return out
    raise Unsupported(f"a {type_name(t)} under Any")


# -- encoders ------------------------------------------------------------------------------
def _enc_int(v: Any) -> int:
    return v if type(v) is int else int(v)


def _enc_float(v: Any) -> Any:
    f = float(v)
    if math.isfinite(f):
        return f
    return "NaN" if f != f else ("Infinity" if f > 0 else "-Infinity")


def _enc_str(v: Any) -> str:
    return v if type(v) is str else str.__str__(v)


def _enc_datetime(v: dt.datetime) -> str:
    text = v.isoformat()
    zone = v.tzinfo
    if zone is not None and type(zone).__module__ == "zoneinfo" and getattr(zone, "key", None):
        text += f"[{zone.key}]"  # type: ignore[attr-defined]
    return text


def _enc_timedelta(v: dt.timedelta) -> Any:
    if not v.microseconds:
        return v.days * 86400 + v.seconds
    seconds = v.total_seconds()
    if dt.timedelta(seconds=seconds) == v:
        return seconds
    return {"days": v.days, "seconds": v.seconds, "microseconds": v.microseconds}


def _enc_enum(v: Any) -> Any:
    return plain(v.value)


_SIMPLE_ENC: dict[str, Codec] = {
    "any": plain,
    "none": _same,
    "bool": bool,
    "int": _enc_int,
    "float": _enc_float,
    "str": _enc_str,
    "bytes": lambda v: base64.b64encode(v).decode("ascii"),
    "datetime": _enc_datetime,
    "date": lambda v: v.isoformat(),
    "timedelta": _enc_timedelta,
    "enum": _enc_enum,
    "strlike": str,
}


@_cached
def encoder(tp: Any) -> Codec:
    """The compiled JSON encoder of an annotation (cached)."""
    kind = kind_of(tp)
    simple = _SIMPLE_ENC.get(kind.name)
    if simple is not None:
        return simple
    build = _ENC_BUILDERS.get(kind.name)
    if build is not None:
        return build(tp, kind)
    from headwater.types import families  # imported here: the families import this module

    family = families.by_kind(kind.name)
    if family is not None and family.json_encode is not None:
        return family.json_encode

    def refuse(value: Any) -> Any:
        raise Unsupported(f"JSON cannot hold a {type_name(tp)}")

    return refuse


def _enc_literal(tp: Any, kind: Kind) -> Codec:
    return lambda v: plain(v.value) if hasattr(v, "_value_") else plain(v)


def _enc_sequence(tp: Any, kind: Kind) -> Codec:
    item = _lazy(encoder, kind.args[0])
    if kind.name in ("set", "frozenset"):

        def run_set(v: Any) -> list[Any]:
            items = [item(x) for x in v]
            try:
                return sorted(items)  # equal sets -> equal bytes -> one blob
            except TypeError:
                return sorted(items, key=dumps)

        return run_set
    return lambda v: [item(x) for x in v]


def _enc_tuple(tp: Any, kind: Kind) -> Codec:
    items = [_lazy(encoder, a) for a in kind.args]
    return lambda v: [enc(x) for enc, x in zip(items, v, strict=True)]


def _key_encoder(tp: Any) -> Codec:
    if kind_of(tp).name == "any":

        def any_key(k: Any) -> str:
            if type(k) is not str:
                raise Unsupported(f"a {type_name(type(k))} dict key under Any")
            return k

        return any_key
    enc = _lazy(encoder, tp)
    if string_keys(tp):
        return enc
    return lambda k: dumps(enc(k)).decode("ascii")


def _enc_dict(tp: Any, kind: Kind) -> Codec:
    key = _key_encoder(kind.args[0])
    val = _lazy(encoder, kind.args[1])
    return lambda v: {key(k): val(x) for k, x in v.items()}


def _enc_fields(tp: Any, kind: Kind) -> Codec:
    """Dataclasses, pydantic models, NamedTuples: an object of their fields."""
    fields = [(name, _lazy(encoder, ftp)) for name, ftp, _ in field_types(kind.cls)]

    def run(v: Any) -> dict[str, Any]:
        out = {name: enc(getattr(v, name)) for name, enc in fields}
        extra = getattr(v, "__pydantic_extra__", None)
        if extra:
            out.update((k, plain(x)) for k, x in extra.items())
        return out

    return run


def _enc_typeddict(tp: Any, kind: Kind) -> Codec:
    fields = {name: _lazy(encoder, ftp) for name, ftp, _ in field_types(kind.cls)}
    return lambda v: {k: fields.get(k, plain)(x) for k, x in v.items()}


def _enc_union(tp: Any, kind: Kind) -> Codec:
    members, optional = union_members(kind.args)
    checks = [checker(m) for m in members]
    encs = [_lazy(encoder, m) for m in members]
    names = [type_name(m) for m in members]
    int_at = next((i for i, m in enumerate(members) if kind_of(m).name == "int"), None)
    resolve = _union_resolver(members)

    def run(v: Any) -> Any:
        if v is None and optional:
            return None
        at = int_at if type(v) is int and int_at is not None else None
        if at is None:
            at = next((i for i, c in enumerate(checks) if c(v) is None), None)
        if at is None:
            raise Unsupported(f"a {type_name(type(v))} is not a {type_name(tp)}")
        data = encs[at](v)
        if len(members) > 1 and resolve(data) != at:  # ambiguous in JSON: say which member
            return {UNION_TAG: names[at], "value": data}
        return data

    return run


def _union_resolver(members: tuple[Any, ...]) -> Callable[[Any], int | None]:
    decs = [_lazy(decoder, m) for m in members]

    def resolve(data: Any) -> int | None:
        for i, dec in enumerate(decs):
            try:
                dec(data)
            except Shape:
                continue
            return i
        return None

    return resolve


_ENC_BUILDERS: dict[str, Callable[[Any, Kind], Codec]] = {
    "literal": _enc_literal,
    "list": _enc_sequence,
    "tuplevar": _enc_sequence,
    "set": _enc_sequence,
    "frozenset": _enc_sequence,
    "tuple": _enc_tuple,
    "dict": _enc_dict,
    "dataclass": _enc_fields,
    "pydantic": _enc_fields,
    "namedtuple": _enc_fields,
    "typeddict": _enc_typeddict,
    "union": _enc_union,
}
