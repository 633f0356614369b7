"""Type checks at boundaries.

Each annotation is compiled once (cached) into a checker: a function of the value that
returns ``None`` when the value fits, else a ``Fail`` saying where it does not.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Callable
from typing import Any

from headwater.errors import TypeMismatchError
from headwater.types.introspect import Kind, _cached, field_types, kind_of, type_name, union_members
from headwater.types.preview import short_repr

Fail = tuple[str, Any, Any]  # (where, the value found there, the type expected there)
Checker = Callable[[Any], "Fail | None"]


def check(value: Any, py_type: Any, what: str) -> None:
    """Raise TypeMismatchError unless ``value`` fits ``py_type``."""
    fail = checker(py_type)(value)
    if fail is not None:
        raise TypeMismatchError(mismatch_message(what, py_type, fail))


def matches(value: Any, py_type: Any) -> bool:
    """Whether ``value`` fits ``py_type``."""
    return checker(py_type)(value) is None


def mismatch_message(what: str, py_type: Any, fail: Fail) -> str:
    """``input 'n' expects int, got str ('abc')``; with ``at [2]`` for a nested value."""
    where, value, expected = fail
    got = f"got {type_name(type(value))}"
    if not where:
        message = f"{what} expects {type_name(py_type)}, {got} ({short_repr(value, 80)})"
    else:
        message = (
            f"{what} expects {type_name(py_type)}, {got} at {where.lstrip('.')} "
            f"({short_repr(value, 80)}) where {type_name(expected)} is expected"
        )
    family = _families().by_kind(kind_of(expected).name)
    hint = family.mismatch_hint(value) if family is not None else ""
    return f"{message}; {hint}" if hint else message


def _ok(value: Any) -> Fail | None:
    return None


def _lazy(tp: Any) -> Checker:
    """A checker compiled on first call (lets recursive dataclasses compile)."""
    slot: list[Checker] = []

    def run(value: Any) -> Fail | None:
        if not slot:
            slot.append(checker(tp))
        return slot[0](value)

    return run


def _instance(tp: Any, classes: Any, reject: Any = ()) -> Checker:
    def run(value: Any) -> Fail | None:
        if isinstance(value, classes) and not isinstance(value, reject):
            return None
        return ("", value, tp)

    return run


def _int(value: Any) -> Fail | None:
    if type(value) is int:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return None
    return ("", value, int)


def _float(value: Any) -> Fail | None:
    if type(value) is float or type(value) is int:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return None
    return ("", value, float)


def _nested(tp: Any, where: str, fail: Fail) -> Fail:
    return (where + fail[0], fail[1], fail[2])


@_cached
def checker(tp: Any) -> Checker:
    """The compiled checker of an annotation (cached)."""
    kind = kind_of(tp)
    simple = _SIMPLE.get(kind.name)
    if simple is not None:
        return simple
    build = _BUILDERS.get(kind.name)
    if build is not None:
        return build(tp, kind)
    if kind.name in ("any", "opaque"):
        return _ok
    family = _families().by_kind(kind.name)
    if family is not None:
        return family.checker(tp, kind)
    return _class_checker(tp, kind)


def _families() -> Any:
    # imported on first use: the families import this module
    from headwater.types import families

    return families


def _class_checker(tp: Any, kind: Kind) -> Checker:
    classes = kind.cls

    def run(value: Any) -> Fail | None:
        try:
            ok = isinstance(value, classes)
        except TypeError:  # e.g. a Protocol that is not runtime-checkable
            return None
        return None if ok else ("", value, tp)

    return run


def _literal(tp: Any, kind: Kind) -> Checker:
    allowed = kind.args

    def run(value: Any) -> Fail | None:
        for a in allowed:
            if type(value) is type(a) and value == a:
                return None
        return ("", value, tp)

    return run


def _sequence(tp: Any, kind: Kind) -> Checker:
    outer, inner_tp = kind.cls, kind.args[0]
    inner = _lazy(inner_tp)
    check_items = kind_of(inner_tp).name != "any"
    is_set = kind.name in ("set", "frozenset")

    def run(value: Any) -> Fail | None:
        if not isinstance(value, outer):
            return ("", value, tp)
        if check_items:
            for i, item in enumerate(value):
                fail = inner(item)
                if fail is not None:
                    where = "{" + short_repr(item, 40) + "}" if is_set else f"[{i}]"
                    return _nested(tp, where, fail)
        return None

    return run


def _tuple(tp: Any, kind: Kind) -> Checker:
    inners = [_lazy(a) for a in kind.args]

    def run(value: Any) -> Fail | None:
        if not isinstance(value, tuple) or len(value) != len(inners):
            return ("", value, tp)
        for i, (item, inner) in enumerate(zip(value, inners, strict=True)):
            fail = inner(item)
            if fail is not None:
                return _nested(tp, f"[{i}]", fail)
        return None

    return run


def _dict(tp: Any, kind: Kind) -> Checker:
    key_tp, value_tp = kind.args
    keys, values = _lazy(key_tp), _lazy(value_tp)
    check_items = kind_of(key_tp).name != "any" or kind_of(value_tp).name != "any"

    def run(value: Any) -> Fail | None:
        if not isinstance(value, dict):
            return ("", value, tp)
        if check_items:
            for k, v in value.items():
                fail = keys(k)
                if fail is not None:
                    return _nested(tp, f"[{short_repr(k, 40)}] (a key)", fail)
                fail = values(v)
                if fail is not None:
                    return _nested(tp, f"[{short_repr(k, 40)}]", fail)
        return None

    return run


def _fields(tp: Any, kind: Kind) -> Checker:
    """Dataclasses and NamedTuples: the instance, then each field."""
    cls = kind.cls
    fields = [(name, _lazy(ftp)) for name, ftp, _ in field_types(cls)]

    def run(value: Any) -> Fail | None:
        if not isinstance(value, cls):
            return ("", value, tp)
        for name, inner in fields:
            fail = inner(getattr(value, name, None))
            if fail is not None:
                return _nested(tp, f".{name}", fail)
        return None

    return run


def _typeddict(tp: Any, kind: Kind) -> Checker:
    required: frozenset[str] = getattr(kind.cls, "__required_keys__", frozenset())
    fields = {name: _lazy(ftp) for name, ftp, _ in field_types(kind.cls)}

    def run(value: Any) -> Fail | None:
        if not isinstance(value, dict) or not required.issubset(value):
            return ("", value, tp)
        for k, v in value.items():
            inner = fields.get(k)
            fail = inner(v) if inner is not None else None
            if fail is not None:
                return _nested(tp, f"[{k!r}]", fail)
        return None

    return run


def _union(tp: Any, kind: Kind) -> Checker:
    members, optional = union_members(kind.args)
    inners = [_lazy(m) for m in members]

    def run(value: Any) -> Fail | None:
        if value is None and optional:
            return None
        fails = [inner(value) for inner in inners]
        if any(f is None for f in fails):
            return None
        if len(fails) == 1 and value is not None:
            return fails[0]  # Optional[X]: say where inside X
        return ("", value, tp)

    return run


_SIMPLE: dict[str, Checker] = {
    "int": _int,
    "float": _float,
    "bool": _instance(bool, bool),
    "str": _instance(str, str),
    "bytes": _instance(bytes, bytes),
    "none": _instance(type(None), type(None)),
    "timedelta": _instance(dt.timedelta, dt.timedelta),
}
_BUILDERS: dict[str, Callable[[Any, Kind], Checker]] = {
    "datetime": lambda tp, kind: _instance(tp, kind.cls),
    "date": lambda tp, kind: _instance(tp, kind.cls, reject=dt.datetime),
    "literal": _literal,
    "list": _sequence,
    "set": _sequence,
    "frozenset": _sequence,
    "tuplevar": _sequence,
    "tuple": _tuple,
    "dict": _dict,
    "dataclass": _fields,
    "namedtuple": _fields,
    "typeddict": _typeddict,
    "union": _union,
}
