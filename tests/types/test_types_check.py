"""check() rules and messages, and type_name()."""
# ruff: noqa: UP007, UP045 - these tests exercise the typing.Optional/Union spellings too

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic
import pytest

from headwater.errors import TypeMismatchError, UserInputError
from headwater.types import Directory, File, check, type_name


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclasses.dataclass
class Inner:
    n: int


@dataclasses.dataclass
class Outer:
    inner: Inner
    names: list[str]


class Model(pydantic.BaseModel):
    x: int


def mismatch(value: Any, tp: Any, what: str = "input 'v'") -> str:
    with pytest.raises(TypeMismatchError) as info:
        check(value, tp, what)
    assert isinstance(info.value, UserInputError)
    return str(info.value)


def test_message_names_the_input_the_expected_and_the_actual_type() -> None:
    assert mismatch("abc", int, "input 'n'") == "input 'n' expects int, got str ('abc')"


def test_message_says_where_inside_a_container() -> None:
    message = mismatch([1, 2, "a"], list[int], "input 'xs'")
    assert message.startswith("input 'xs' expects list[int], got str at [2] ('a')")
    assert "int is expected" in message
    message = mismatch({"k": [1.0, "z"]}, dict[str, list[float]])
    assert "got str at ['k'][1]" in message
    message = mismatch(Outer(Inner("7"), ["a"]), Outer)  # type: ignore[arg-type]
    assert f"expects {__name__}.Outer, got str at inner.n ('7')" in message
    message = mismatch({1: "a"}, dict[str, str])
    assert "got int at [1] (a key)" in message
    message = mismatch((1, "a"), tuple[int, ...])
    assert (
        message == "input 'v' expects tuple[int, ...], got str at [1] ('a') where int is expected"
    )
    message = mismatch([1, None, "x"], Optional[list[Optional[int]]])
    assert "got str at [2]" in message


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        (True, int),
        (False, float),
        (1.5, int),
        ("1", float),
        (dt.datetime(2024, 1, 1), dt.date),
        (dt.date(2024, 1, 1), dt.datetime),
        ("fast", Mode),
        ((1, 2), list[int]),
        ([1, 2], tuple[int, int]),
        ((1, 2, 3), tuple[int, int]),
        (None, int),
        (3, Union[str, bytes]),
        ("c", Literal["a", "b"]),
        (1, Literal[True]),
        ({"x": 1}, Model),
        ("a.csv", File),
        (b"x", str),
        ({1, 2}, list[int]),
        ({"n": 1}, Inner),
        (np.zeros(2), pd.DataFrame),
        (pd.DataFrame(), pa.Table),
        ([1], np.ndarray),
        (1, Annotated[str, "meta"]),
    ],
)
def test_rejects(value: Any, tp: Any) -> None:
    message = mismatch(value, tp)
    assert message.startswith(f"input 'v' expects {type_name(tp)}, got {type_name(type(value))}")


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        (3, int),
        (np.int64(3), int),
        (3, float),
        (np.float32(2.5), float),
        (True, bool),
        (dt.date(2024, 1, 1), dt.date),
        (dt.datetime(2024, 1, 1), dt.datetime),
        (dt.timedelta(1), dt.timedelta),
        (Mode.FAST, Mode),
        (Mode.FAST, Literal[Mode.FAST]),
        ("a", Literal["a", "b"]),
        (None, Optional[int]),
        (None, int | None),
        ("x", Union[int, str]),
        ([1, None], list[Optional[int]]),
        ((1, "a"), tuple[int, str]),
        ((), tuple[()]),
        ((1, 2, 3), tuple[int, ...]),
        ({"a": {"b": [1.5, 2]}}, dict[str, dict[str, list[float]]]),
        (Outer(Inner(1), ["a"]), Outer),
        (Model(x=1), Model),
        (object(), Any),
        (object(), None),
        ([object()], list),
        (5, Annotated[int, "meta"]),
        (File("x.csv"), File),
        (Path("x.csv"), File),
        (Directory("d"), Directory),
        (pd.DataFrame(), pd.DataFrame),
        (pa.table({"a": [1]}), pa.Table),
        (np.zeros(2), np.ndarray),
        (np.zeros(2), np.typing.NDArray[np.float64]),
        (print, typing.Callable[..., Any]),
    ],
)
def test_accepts(value: Any, tp: Any) -> None:
    check(value, tp, "input 'v'")


def test_long_values_are_cut_in_messages() -> None:
    message = mismatch("x" * 10_000, int)
    assert len(message) < 200


@pytest.mark.parametrize(
    ("tp", "name"),
    [
        (int, "int"),
        (list[int], "list[int]"),
        (typing.List[int], "list[int]"),  # noqa: UP006
        (dict[str, float], "dict[str, float]"),
        (Optional[int], "Optional[int]"),
        (int | None, "Optional[int]"),
        (int | str, "int | str"),
        (Optional[Union[int, str]], "Optional[int | str]"),
        (tuple[int, ...], "tuple[int, ...]"),
        (tuple[()], "tuple[()]"),
        (Literal["a", 1], "Literal['a', 1]"),
        (Annotated[int, "x"], "int"),
        (pd.DataFrame, "pandas.DataFrame"),
        (pa.Table, "pyarrow.Table"),
        (np.ndarray, "numpy.ndarray"),
        (File, "File"),
        (Directory, "Directory"),
        (Inner, f"{__name__}.Inner"),
        (Mode, f"{__name__}.Mode"),
        (dt.datetime, "datetime"),
        (dt.timedelta, "timedelta"),
        (Any, "Any"),
        (None, "Any"),
        (type(None), "None"),
        (list[Inner], f"list[{__name__}.Inner]"),
    ],
)
def test_type_name(tp: Any, name: str) -> None:
    assert type_name(tp) == name


def test_unhashable_annotations_still_work() -> None:
    tp = Annotated[list[int], {"unhashable": []}]
    check([1], tp, "input 'v'")
    assert "got str at [0]" in mismatch(["a"], tp)
    assert type_name(tp) == "list[int]"
