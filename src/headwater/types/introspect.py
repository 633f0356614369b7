"""Reading type annotations: normalize them, sort them into kinds, and name them.

Everything here is cached per type, so the cost of looking at an annotation is paid once.
Heavy libraries (pandas, pyarrow, numpy, polars, pydantic) are never imported: a class can
only be one of theirs if its library is already in ``sys.modules``.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime as dt
import enum
import functools
import sys
import types
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

from headwater.types.files import Directory, File

NoneType = type(None)


class Kind(NamedTuple):
    """What a type is, for the checker and the codecs.

    ``name`` is one of: any, none, bool, int, float, str, bytes, datetime, date, timedelta,
    enum, literal, list, set, frozenset, tuple (fixed length), tuplevar (``tuple[T, ...]``),
    dict, union, dataclass, pydantic, namedtuple, typeddict, strlike (UUID, Decimal, paths),
    class (any other class), opaque (a typing construct that cannot be checked, e.g.
    ``Callable``), or the ``name`` of the value-type family that owns the class (file,
    directory, dataframe, table, polars, ndarray; see :mod:`headwater.types.families`).
    """

    name: str
    cls: Any = None
    args: tuple[Any, ...] = ()


ANY = Kind("any")
_SEQUENCES = {list, cabc.Sequence, cabc.MutableSequence, cabc.Collection, cabc.Iterable}
_SETS = {set, cabc.Set, cabc.MutableSet}
_MAPPINGS = {dict, cabc.Mapping, cabc.MutableMapping}
_SCALARS = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}
_SHORT_MODULES = {"builtins", "datetime", "typing", "collections.abc"}


def normalize(tp: Any) -> Any:
    """Strip what does not change the runtime type: Annotated, NewType, TypeVar, aliases.

    ``None`` (a missing annotation), ``inspect.Parameter.empty``, unresolved forward
    references and TypeVars without a bound become ``Any``.
    """
    while True:
        if tp is None or isinstance(tp, str | typing.ForwardRef):
            return Any
        if getattr(tp, "__name__", None) == "_empty" and getattr(tp, "__module__", "") == "inspect":
            return Any
        if typing.get_origin(tp) is typing.Annotated:
            tp = tp.__origin__
        elif isinstance(tp, typing.NewType):
            tp = tp.__supertype__
        elif isinstance(tp, typing.TypeVar):
            if tp.__bound__ is not None:
                tp = tp.__bound__
            elif tp.__constraints__:
                return typing.Union[tp.__constraints__]  # noqa: UP007
            else:
                return Any
        elif type(tp).__name__ == "TypeAliasType":  # Python 3.12 `type X = ...`
            tp = tp.__value__
        else:
            return tp


def _cached(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """lru_cache for functions of a type; unhashable types are computed every time."""
    cached = functools.lru_cache(maxsize=4096)(fn)

    def wrapper(tp: Any) -> Any:
        try:
            return cached(tp)
        except TypeError:  # unhashable, e.g. Annotated[int, {}]
            return fn(tp)

    wrapper.__doc__ = fn.__doc__
    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


@_cached
def kind_of(tp: Any) -> Kind:
    """The :class:`Kind` of an annotation (cached)."""
    tp = normalize(tp)
    if tp is Any or tp is object:
        return ANY
    if tp is NoneType:
        return Kind("none", NoneType)
    origin = typing.get_origin(tp)
    if origin is not None:
        return _generic_kind(tp, origin, typing.get_args(tp))
    if isinstance(tp, type):
        return _class_kind(tp)
    return Kind("opaque")


def _generic_kind(tp: Any, origin: Any, args: tuple[Any, ...]) -> Kind:
    if origin in (typing.Union, types.UnionType):
        return Kind("union", None, args)
    if origin is typing.Literal:
        return Kind("literal", None, args)
    if origin is tuple:
        if tp is typing.Tuple:  # noqa: UP006 - bare typing.Tuple has no args, like tuple[()]
            return Kind("tuplevar", tuple, (Any,))
        if len(args) == 2 and args[1] is Ellipsis:
            return Kind("tuplevar", tuple, (args[0],))
        return Kind("tuple", tuple, tuple(a for a in args if a != ()))
    if origin in _SEQUENCES:
        return Kind("list", list, (args[0] if args else Any,))
    if origin in _SETS:
        return Kind("set", set, (args[0] if args else Any,))
    if origin is frozenset:
        return Kind("frozenset", frozenset, (args[0] if args else Any,))
    if origin in _MAPPINGS:
        return Kind("dict", dict, (args[0], args[1]) if len(args) == 2 else (Any, Any))
    if origin is type:
        return Kind("class", type)
    if isinstance(origin, type) and origin.__module__ not in ("collections.abc", "typing"):
        return _class_kind(origin)  # e.g. a generic dataclass, numpy.ndarray[...]
    return Kind("opaque")


def _class_kind(tp: type) -> Kind:
    simple = _SCALARS.get(tp)
    if simple is not None:
        return Kind(simple, tp)
    if issubclass(tp, dt.datetime):
        return Kind("datetime", tp)
    if issubclass(tp, dt.date):
        return Kind("date", tp)
    if tp is dt.timedelta:
        return Kind("timedelta", tp)
    if issubclass(tp, enum.Enum):
        return Kind("enum", tp)
    if tp is tuple:
        return Kind("tuplevar", tuple, (Any,))
    if tp in (list, set, frozenset, dict):
        return _generic_kind(tp, tp, ())
    family = _families().for_class(tp)  # File, Directory, pandas.DataFrame, ...
    if family is not None:
        return Kind(family.name, tp)
    if dataclasses.is_dataclass(tp):
        return Kind("dataclass", tp)
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(tp, pydantic.BaseModel):
        return Kind("pydantic", tp)
    if issubclass(tp, tuple) and hasattr(tp, "_fields"):
        return Kind("namedtuple", tp)
    if typing.is_typeddict(tp):
        return Kind("typeddict", tp)
    if tp.__module__ in ("uuid", "decimal", "pathlib") and tp.__name__ in _STRLIKE:
        return Kind("strlike", tp)
    return Kind("class", tp)


_STRLIKE = {"UUID", "Decimal", "Path", "PurePath", "PosixPath", "WindowsPath", "PurePosixPath"}


def _families() -> Any:
    # imported on first use: the families import this module
    from headwater.types import families

    return families


@_cached
def field_types(cls: Any) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, annotation, in __init__)`` for each field of a dataclass, pydantic model,
    NamedTuple or TypedDict. Annotations that cannot be resolved become ``Any``."""
    if "pydantic" in sys.modules and hasattr(cls, "model_fields"):
        return tuple((n, f.annotation, True) for n, f in cls.model_fields.items())
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # unresolvable forward references: keep what can be read
        hints = {}
    if dataclasses.is_dataclass(cls):
        return tuple((f.name, hints.get(f.name, Any), f.init) for f in dataclasses.fields(cls))
    if hasattr(cls, "_fields"):
        return tuple((n, hints.get(n, Any), True) for n in cls._fields)
    return tuple((n, t, True) for n, t in hints.items())


def union_members(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """The members of a union other than None, and whether None is one of them."""
    members = tuple(a for a in args if normalize(a) is not NoneType)
    return members, len(members) != len(args)


@_cached
def type_name(tp: Any) -> str:
    """A short readable name: ``int``, ``list[int]``, ``Optional[int]``, ``pandas.DataFrame``,
    ``mymodule.MyDataclass``, ``Any``."""
    if tp is None or tp is Any:
        return "Any"
    if tp is NoneType:
        return "None"
    if tp is Ellipsis:
        return "..."
    if isinstance(tp, str):
        return tp
    if isinstance(tp, typing.ForwardRef):
        return tp.__forward_arg__
    if isinstance(tp, typing.NewType | typing.TypeVar):
        return tp.__name__
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return type_name(tp.__origin__)
    if origin is not None:
        return _generic_name(tp, origin, typing.get_args(tp))
    if isinstance(tp, type):
        return class_name(tp)
    return repr(tp).replace("typing.", "")


def _generic_name(tp: Any, origin: Any, args: tuple[Any, ...]) -> str:
    if origin in (typing.Union, types.UnionType):
        members, optional = union_members(args)
        inner = " | ".join(type_name(a) for a in members)
        return f"Optional[{inner}]" if optional else inner
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    base = type_name(origin)
    if origin is tuple and not args and tp is not typing.Tuple:  # noqa: UP006
        return "tuple[()]"
    return f"{base}[{', '.join(type_name(a) for a in args)}]" if args else base


def class_name(cls: type) -> str:
    """``int``, ``datetime``, ``File``, ``pandas.DataFrame``, ``mymodule.MyClass``."""
    if cls is File or cls is Directory:
        return cls.__name__
    module = getattr(cls, "__module__", "") or ""
    qualname = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", repr(cls))
    if module in _SHORT_MODULES:
        return str(qualname)
    top = module.partition(".")[0]
    if top in _families().LIBRARIES:
        return f"{top}.{qualname}"
    return f"{module}.{qualname}"
