"""Type-directed JSON decoding: the reverse of :mod:`headwater.types.json_codec`.

Decoders are strict about the JSON shape (an int is not a bool, a str is not a number), so
a union can tell its members apart; they raise :class:`Shape` when the data does not fit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import math
from collections.abc import Callable
from typing import Any

from headwater.types.introspect import Kind, _cached, field_types, kind_of, type_name, union_members
from headwater.types.preview import short_repr

Codec = Callable[[Any], Any]
UNION_TAG = "__union__"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_STRING_KEYS = {"str", "bytes", "datetime", "date", "strlike"}


class Shape(Exception):
    """Stored JSON data does not fit the type it is read as."""


def _lazy(factory: Callable[[Any], Codec], tp: Any) -> Codec:
    """A codec compiled on first call (lets recursive types compile)."""
    slot: list[Codec] = []

    def run(value: Any) -> Any:
        if not slot:
            slot.append(factory(tp))
        return slot[0](value)

    return run


def _same(value: Any) -> Any:
    return value


def _bad(tp: Any, data: Any) -> Shape:
    return Shape(f"expected {type_name(tp)}, found {short_repr(data, 60)}")


def string_keys(tp: Any) -> bool:
    """Whether dict keys of this type are stored as their own JSON text (else as JSON)."""
    kind = kind_of(tp)
    if kind.name in _STRING_KEYS:
        return True
    if kind.name == "enum":
        return all(type(m.value) is str for m in kind.cls)
    if kind.name == "literal":
        return all(type(a) is str for a in kind.args)
    return False


def _exact(tp: Any, t: type) -> Codec:
    def run(data: Any) -> Any:
        if type(data) is t:
            return data
        raise _bad(tp, data)

    return run


def _dec_float(data: Any) -> float:
    t = type(data)
    if t is float or t is int:
        return float(data)
    if t is str and data in _NONFINITE:
        return _NONFINITE[data]
    raise _bad(float, data)


def _dec_bytes(data: Any) -> bytes:
    if type(data) is str:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _bad(bytes, data)


def _dec_timedelta(data: Any) -> dt.timedelta:
    try:
        if type(data) is int or type(data) is float:
            return dt.timedelta(seconds=data)
        if type(data) is dict:
            return dt.timedelta(**data)
    except (TypeError, ValueError, OverflowError):
        pass
    raise _bad(dt.timedelta, data)


def _dec_none(data: Any) -> None:
    if data is not None:
        raise _bad(None, data)


_SIMPLE_DEC: dict[str, Codec] = {
    "any": _same,
    "none": _dec_none,
    "bool": _exact(bool, bool),
    "int": _exact(int, int),
    "float": _dec_float,
    "str": _exact(str, str),
    "bytes": _dec_bytes,
    "timedelta": _dec_timedelta,
}


@_cached
def decoder(tp: Any) -> Codec:
    """The compiled JSON decoder of an annotation (cached)."""
    kind = kind_of(tp)
    simple = _SIMPLE_DEC.get(kind.name)
    if simple is not None:
        return simple
    build = _DEC_BUILDERS.get(kind.name)
    if build is not None:
        return build(tp, kind)
    from headwater.types import families  # imported here: the families import this module

    family = families.by_kind(kind.name)
    if family is not None and family.json_decode is not None:
        return family.json_decode

    def refuse(data: Any) -> Any:
        raise Shape(f"a {type_name(tp)} is never stored as JSON")

    return refuse


def _dec_datetime(tp: Any, kind: Kind) -> Codec:
    def run(data: Any) -> Any:
        if type(data) is str:
            text, _, zone = data.partition("[")
            try:
                value = kind.cls.fromisoformat(text)
                return _in_zone(value, zone.rstrip("]")) if zone else value
            except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
                pass
        raise _bad(tp, data)

    return run


def _in_zone(value: dt.datetime, key: str) -> dt.datetime:
    """The same wall time and offset, in the named zone (fold picked to match the offset,
    so ambiguous and even non-existent local times come back as they were)."""
    from zoneinfo import ZoneInfo

    zone, offset = ZoneInfo(key), value.utcoffset()
    for fold in (0, 1):
        local = value.replace(tzinfo=zone, fold=fold)
        if local.utcoffset() == offset:
            return local
    return value.astimezone(zone)


def _dec_fromstring(tp: Any, kind: Kind) -> Codec:
    """date, UUID, Decimal, paths: ``cls(text)`` or ``cls.fromisoformat(text)``."""
    make = kind.cls.fromisoformat if kind.name == "date" else kind.cls

    def run(data: Any) -> Any:
        if type(data) is str:
            try:
                return make(data)
            except (ValueError, TypeError, decimal.InvalidOperation):
                pass
        raise _bad(tp, data)

    return run


def _dec_enum(tp: Any, kind: Kind) -> Codec:
    cls = kind.cls

    def run(data: Any) -> Any:
        try:
            return cls(tuple(data) if type(data) is list else data)
        except (ValueError, TypeError):
            raise _bad(tp, data) from None

    return run


def _dec_literal(tp: Any, kind: Kind) -> Codec:
    pairs = [(a.value if hasattr(a, "_value_") else a, a) for a in kind.args]

    def run(data: Any) -> Any:
        for kept, value in pairs:
            if type(kept) is type(data) and kept == data:
                return value
        raise _bad(tp, data)

    return run


def _dec_sequence(tp: Any, kind: Kind) -> Codec:
    item, outer = _lazy(decoder, kind.args[0]), kind.cls

    def run(data: Any) -> Any:
        if type(data) is not list:
            raise _bad(tp, data)
        return outer(item(x) for x in data) if outer is not list else [item(x) for x in data]

    return run


def _dec_tuple(tp: Any, kind: Kind) -> Codec:
    items = [_lazy(decoder, a) for a in kind.args]

    def run(data: Any) -> Any:
        if type(data) is not list or len(data) != len(items):
            raise _bad(tp, data)
        return tuple(dec(x) for dec, x in zip(items, data, strict=True))

    return run


def _key_decoder(tp: Any) -> Codec:
    dec = _lazy(decoder, tp)
    if kind_of(tp).name == "any" or string_keys(tp):
        return dec

    def from_text(text: str) -> Any:
        try:
            data = json.loads(text)
        except ValueError:
            raise Shape(f"the dict key {text!r} is not JSON text") from None
        return dec(data)

    return from_text


def _dec_dict(tp: Any, kind: Kind) -> Codec:
    key, val = _key_decoder(kind.args[0]), _lazy(decoder, kind.args[1])

    def run(data: Any) -> Any:
        if type(data) is not dict:
            raise _bad(tp, data)
        return {key(k): val(x) for k, x in data.items()}

    return run


def _dec_fields(tp: Any, kind: Kind) -> Codec:
    """Dataclasses, NamedTuples and pydantic models from a JSON object of their fields.

    Missing fields take their defaults and unknown keys are ignored (pydantic models keep
    them as extras when they allow extras), so stored values survive added fields.
    """
    cls = kind.cls
    fields = [(name, _lazy(decoder, ftp), init) for name, ftp, init in field_types(cls)]
    pydantic = kind.name == "pydantic"

    def run(data: Any) -> Any:
        if type(data) is not dict:
            raise _bad(tp, data)
        args: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, dec, init in fields:
            if name in data:
                (args if init else later)[name] = dec(data[name])
        try:
            if pydantic:  # the stored values were validated when the model was made
                extra = {k: v for k, v in data.items() if k not in args}
                return cls.model_construct(**args, **extra)
            obj = cls(**args)
        except (TypeError, ValueError) as exc:
            raise Shape(f"cannot rebuild a {type_name(tp)}: {exc}") from None
        for name, value in later.items():
            object.__setattr__(obj, name, value)
        return obj

    return run


def _dec_typeddict(tp: Any, kind: Kind) -> Codec:
    fields = {name: _lazy(decoder, ftp) for name, ftp, _ in field_types(kind.cls)}

    def run(data: Any) -> Any:
        if type(data) is not dict:
            raise _bad(tp, data)
        return {k: fields.get(k, _same)(x) for k, x in data.items()}

    return run


def _dec_union(tp: Any, kind: Kind) -> Codec:
    members, optional = union_members(kind.args)
    decs = [_lazy(decoder, m) for m in members]
    by_name = {type_name(m): dec for m, dec in zip(members, decs, strict=True)}

    def run(data: Any) -> Any:
        if data is None and optional:
            return None
        if type(data) is dict and len(data) == 2 and data.get(UNION_TAG) in by_name:
            return by_name[data[UNION_TAG]](data.get("value"))
        for dec in decs:
            try:
                return dec(data)
            except Shape:
                continue
        raise _bad(tp, data)

    return run


_DEC_BUILDERS: dict[str, Callable[[Any, Kind], Codec]] = {
    "datetime": _dec_datetime,
    "date": _dec_fromstring,
    "strlike": _dec_fromstring,
    "enum": _dec_enum,
    "literal": _dec_literal,
    "list": _dec_sequence,
    "tuplevar": _dec_sequence,
    "set": _dec_sequence,
    "frozenset": _dec_sequence,
    "tuple": _dec_tuple,
    "dict": _dec_dict,
    "dataclass": _dec_fields,
    "pydantic": _dec_fields,
    "namedtuple": _dec_fields,
    "typeddict": _dec_typeddict,
    "union": _dec_union,
}
