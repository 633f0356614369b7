"""Command-line text to typed values: ``headwater run wf -i n=3 -i when=2024-05-01``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable
from typing import Any

from headwater.errors import TypeMismatchError
from headwater.types import families
from headwater.types.checking import check
from headwater.types.families.base import Refused
from headwater.types.introspect import Kind, kind_of, type_name, union_members
from headwater.types.json_decode import Shape, decoder

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_NULL = {"", "null", "none"}
_DURATION = re.compile(
    r"^(?:(?P<w>\d+(?:\.\d*)?)w)?(?:(?P<d>\d+(?:\.\d*)?)d)?(?:(?P<h>\d+(?:\.\d*)?)h)?"
    r"(?:(?P<m>\d+(?:\.\d*)?)m(?!s))?(?:(?P<s>\d+(?:\.\d*)?)s)?(?:(?P<ms>\d+(?:\.\d*)?)ms)?$"
)
_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


_Refused = Refused  # the text does not convert; the message is the hint


def coerce(raw: str, py_type: Any, what: str) -> Any:
    """Convert CLI text to ``py_type``; TypeMismatchError with a hint when it cannot."""
    try:
        value = _convert(raw, py_type)
    except _Refused as exc:
        raise TypeMismatchError(
            f"{what} expects {type_name(py_type)}, got {raw!r}: {exc}"
        ) from None
    check(value, py_type, what)
    return value


def _convert(raw: str, tp: Any) -> Any:
    kind = kind_of(tp)
    handler = _HANDLERS.get(kind.name)
    if handler is not None:
        return handler(raw, kind)
    if kind.name in _JSON_TEXT:
        return _from_json(raw, tp, kind)
    family = families.by_kind(kind.name)
    if family is not None:
        return family.from_text(raw, kind)
    raise _Refused(f"a {type_name(tp)} cannot be given as text; pass it from Python instead")


def _bool(raw: str, kind: Kind) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Refused("give true/false, yes/no or 1/0")


def _number(make: Callable[[str], Any], hint: str) -> Callable[[str, Kind], Any]:
    def run(raw: str, kind: Kind) -> Any:
        try:
            return make(raw.strip())
        except (ValueError, ArithmeticError):
            raise _Refused(hint) from None

    return run


def _iso(raw: str, kind: Kind) -> Any:
    text = raw.strip()
    try:
        if kind.name == "date":
            return kind.cls.fromisoformat(text)
        return kind.cls.fromisoformat(text)
    except ValueError:
        example = "2024-05-01" if kind.name == "date" else "2024-05-01T12:30:00+00:00"
        raise _Refused(f"give an ISO 8601 {kind.name} like {example}") from None


def parse_duration(raw: str) -> dt.timedelta:
    """``90`` (seconds), ``1.5``, ``1h30m``, ``2d``, ``15m``, ``30s``, ``250ms``, ``1w``."""
    text = raw.strip().lower().replace(" ", "")
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    try:
        return dt.timedelta(seconds=sign * float(text))
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not text or match is None:
        raise _Refused("give seconds (90) or a duration like 1h30m, 2d, 15m, 30s")
    seconds = sum(float(v) * _UNITS[u] for u, v in match.groupdict().items() if v)
    return dt.timedelta(seconds=sign * seconds)


def _timedelta(raw: str, kind: Kind) -> dt.timedelta:
    try:
        return parse_duration(raw)
    except OverflowError:
        raise _Refused("the duration is too large") from None


def _enum(raw: str, kind: Kind) -> Any:
    members = list(kind.cls)
    for member in members:
        if str(member.value) == raw:
            return member
    for member in members:
        if member.name == raw or member.name.lower() == raw.lower():
            return member
    choices = ", ".join(str(m.value) for m in members)
    raise _Refused(f"give one of {choices} (or a member name)")


def _literal(raw: str, kind: Kind) -> Any:
    for value in kind.args:
        text = value.value if hasattr(value, "_value_") else value
        if str(text) == raw or (isinstance(text, bool) and raw.lower() == str(text).lower()):
            return value
    raise _Refused(f"give one of {', '.join(repr(a) for a in kind.args)}")


def _union(raw: str, kind: Kind) -> Any:
    members, optional = union_members(kind.args)
    if optional and raw.strip().lower() in _NULL:
        return None
    ordered = sorted(members, key=lambda m: kind_of(m).name == "str")  # str last
    hints = []
    for member in ordered:
        try:
            return _convert(raw, member)
        except _Refused as exc:
            hints.append(f"as {type_name(member)}: {exc}")
    raise _Refused("; ".join(hints))


def _none(raw: str, kind: Kind) -> None:
    if raw.strip().lower() not in _NULL:
        raise _Refused("give an empty value or null")


def _strlike(raw: str, kind: Kind) -> Any:
    try:
        return kind.cls(raw.strip())
    except (ValueError, TypeError, decimal.InvalidOperation):
        raise _Refused(f"give the text form of a {kind.cls.__name__}") from None


def _from_json(raw: str, tp: Any, kind: Kind) -> Any:
    """Containers, dataclasses and models as JSON text; flat lists also as ``a,b,c``."""
    if kind.name == "pydantic":
        try:
            return kind.cls.model_validate_json(raw)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise _Refused(f"give JSON matching the model ({_pydantic_errors(exc)})") from None
    try:
        data = json.loads(raw)
    except ValueError:
        if kind.name in _SPLITTABLE and not raw.strip().startswith(("[", "{")):
            parts = [p.strip() for p in raw.split(",")] if raw.strip() else []
            return kind.cls(_item(p, kind.args[0]) for p in parts)
        raise _Refused(f"give JSON text, e.g. {_JSON_TEXT[kind.name]}") from None
    try:
        return decoder(tp)(data)
    except Shape as exc:
        raise _Refused(f"the JSON does not fit: {exc}") from None


def _pydantic_errors(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = [f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in errors()[:5]]
    return "; ".join(parts)


def _item(text: str, tp: Any) -> Any:
    try:
        return _convert(text, tp)
    except _Refused as exc:
        raise _Refused(f"item {text!r}: {exc}") from None


_SPLITTABLE = {"list", "set", "frozenset", "tuplevar"}
_JSON_TEXT = {
    "list": "[1, 2, 3] or 1,2,3",
    "set": '["a", "b"] or a,b',
    "frozenset": '["a", "b"] or a,b',
    "tuplevar": "[1, 2] or 1,2",
    "tuple": '[1, "a"]',
    "dict": '{"key": 1}',
    "dataclass": '{"field": 1}',
    "namedtuple": '{"field": 1}',
    "typeddict": '{"key": 1}',
    "pydantic": '{"field": 1}',
}
_HANDLERS: dict[str, Callable[[str, Kind], Any]] = {
    "any": lambda raw, kind: raw,
    "str": lambda raw, kind: raw,
    "none": _none,
    "bool": _bool,
    "int": _number(int, "give a whole number like 42"),
    "float": _number(float, "give a number like 3.14 (or nan, inf)"),
    "datetime": _iso,
    "date": _iso,
    "timedelta": _timedelta,
    "enum": _enum,
    "literal": _literal,
    "union": _union,
    "strlike": _strlike,
}
