"""Values -> literals -> values, for every type family, with a real BlobStore."""
# ruff: noqa: UP007, UP045 - these tests exercise the typing.Optional/Union spellings too

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import typing
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic
import pytest

from headwater.errors import TypeMismatchError, UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types import decode, encode, is_pickled


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclasses.dataclass
class Reading:
    when: dt.datetime
    where: Point
    tags: tuple[str, ...]
    color: Color
    values: list[float]
    note: Optional[str] = None
    by_level: dict[Level, int] = dataclasses.field(default_factory=dict)
    total: float = dataclasses.field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.total = sum(v for v in self.values if not math.isnan(v))


@dataclasses.dataclass
class Tree:
    label: str
    children: list[Tree] = dataclasses.field(default_factory=list)


class Address(pydantic.BaseModel):
    city: str
    since: dt.date


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(alias="Name")
    height: float
    address: Address
    photo: bytes = b""
    previous: list[Address] = []


class Pair(NamedTuple):
    left: int
    right: str = "r"


class Config(TypedDict):
    retries: int
    timeout: dt.timedelta


class Opaque:
    """No dedicated transformer: stored with cloudpickle."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.n == self.n


def roundtrip(value: Any, tp: Any, blobs: BlobStore) -> tuple[Any, dict[str, Any]]:
    literal = encode(value, tp, blobs, what="output 'o'")
    json.dumps(literal, allow_nan=False)  # a literal is strict JSON
    assert len(literal["preview"]) <= 200
    return decode(literal, tp, blobs), literal


PARIS = ZoneInfo("Europe/Paris")
CASES = [
    (True, bool),
    (42, int),
    (-(2**70), int),
    (2.5, float),
    ("héllo ☃ \x00", str),
    (
        dt.datetime(2024, 3, 31, 2, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime,
    ),
    (dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=PARIS), dt.datetime),
    (dt.datetime(2024, 3, 31, 2, 30, tzinfo=PARIS), dt.datetime),  # a time that never was
    (dt.datetime(2024, 1, 1, 12, 0), dt.datetime),
    (dt.date(1999, 12, 31), dt.date),
    (dt.timedelta(days=-3, seconds=5, microseconds=7), dt.timedelta),
    (dt.timedelta(days=999_999_999, microseconds=1), dt.timedelta),
    (Color.GREEN, Color),
    (Level.HIGH, Level),
    ((1, "a", None), tuple[int, str, None]),
    ((1, 2, 3), tuple[int, ...]),
    ({3, 1, 2}, set[int]),
    (frozenset({"b", "a"}), frozenset[str]),
    ([1, None, 3], list[Optional[int]]),
    ({"a": [b"\x00\xff"], "b": []}, dict[str, list[bytes]]),
    ({1: "one", -2: "minus two"}, dict[int, str]),
    ({(1, 2): "p", (3, 4): "q"}, dict[tuple[int, int], str]),
    ({dt.date(2024, 1, 1): 1.5}, dict[dt.date, float]),
    ({Color.RED: 1}, dict[Color, int]),
    (None, Optional[int]),
    (7, Optional[int]),
    ("7", int | str),
    (7, int | str),
    (1.0, int | float),
    ("2024-01-01", dt.date | str),
    (dt.date(2024, 1, 1), str | dt.date),
    ("b", Literal["a", "b"]),
    (5, Annotated[int, "meta"]),
    (uuid.UUID(int=5), uuid.UUID),
    (decimal.Decimal("1.10"), decimal.Decimal),
    (Pair(1, "x"), Pair),
    ({"retries": 3, "timeout": dt.timedelta(seconds=90)}, Config),
    ([1, "a", {"k": [None, True, 2.5]}], Any),
    ({"k": "v"}, None),
]


@pytest.mark.parametrize(
    ("value", "tp"), CASES, ids=[f"{i}-{c[1]!s}"[:60] for i, c in enumerate(CASES)]
)
def test_json_roundtrip(value: Any, tp: Any, blobs: BlobStore) -> None:
    back, literal = roundtrip(value, tp, blobs)
    assert literal["format"] == ("none" if value is None else "json")
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, dt.datetime):
        assert back.tzinfo == value.tzinfo and back.fold == value.fold
    if value is not None:
        assert "value" in literal and "pickled" not in literal
        assert "blob" not in literal  # small JSON is held in the literal, not a blob file


def test_nan_and_inf_roundtrip_and_literal_stays_strict_json(blobs: BlobStore) -> None:
    values = [math.nan, math.inf, -math.inf, -0.0, 1e308]
    back, literal = roundtrip(values, list[float], blobs)
    assert literal["value"] == ["NaN", "Infinity", "-Infinity", -0.0, 1e308]
    assert math.isnan(back[0]) and back[1:] == values[1:]
    assert math.copysign(1, back[3]) == -1
    single, _ = roundtrip(math.nan, float, blobs)
    assert math.isnan(single)
    widened, _ = roundtrip(3, float, blobs)  # an int is accepted for float, read back as float
    assert widened == 3.0 and type(widened) is float


def test_nested_dataclass_roundtrip(blobs: BlobStore) -> None:
    reading = Reading(
        when=dt.datetime(2024, 5, 1, 8, tzinfo=PARIS),
        where=Point(1.5, -2.0),
        tags=("a", "b"),
        color=Color.RED,
        values=[1.0, math.nan, 2.0],
        by_level={Level.LOW: 3},
    )
    back, literal = roundtrip(reading, Reading, blobs)
    assert literal["type"] == f"{__name__}.Reading"
    assert isinstance(back, Reading) and isinstance(back.where, Point)
    assert back.when == reading.when and back.when.tzinfo == PARIS
    assert back.tags == ("a", "b") and back.color is Color.RED
    assert back.by_level == {Level.LOW: 3} and back.total == 3.0
    assert math.isnan(back.values[1])


def test_recursive_dataclass(blobs: BlobStore) -> None:
    tree = Tree("root", [Tree("a", [Tree("a1")]), Tree("b")])
    back, _ = roundtrip(tree, Tree, blobs)
    assert back == tree


def test_pydantic_roundtrip_keeps_nested_models_and_bytes(blobs: BlobStore) -> None:
    person = Person(
        Name="Ada",
        height=math.inf,
        address=Address(city="London", since=dt.date(1840, 1, 1)),
        photo=b"\x89PNG\xff",
        previous=[Address(city="Paris", since=dt.date(1830, 5, 5))],
    )
    back, literal = roundtrip(person, Person, blobs)
    assert literal["format"] == "json"
    assert back == person
    assert isinstance(back.address, Address) and isinstance(back.previous[0], Address)


def test_decode_without_type_gives_plain_json(blobs: BlobStore) -> None:
    literal = encode((dt.date(2024, 1, 2), Color.RED), tuple[dt.date, Color], blobs)
    assert decode(literal, None, blobs) == ["2024-01-02", "red"]
    assert decode(literal, Any, blobs) == ["2024-01-02", "red"]


def test_small_json_writes_no_blob(blobs: BlobStore) -> None:
    before = sorted(Path(blobs.url).rglob("*"))
    literal = encode([1, 2, 3], list[int], blobs)
    assert sorted(Path(blobs.url).rglob("*")) == before
    assert decode(literal, list[int], blobs) == [1, 2, 3]


def test_large_json_is_only_in_the_blob(blobs: BlobStore) -> None:
    value = list(range(3000))
    literal = encode(value, list[int], blobs)
    assert "value" not in literal and literal["size"] > 4096
    assert decode(literal, list[int], blobs) == value


def test_same_value_twice_gives_the_same_blob(blobs: BlobStore) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for value, tp in [
        (list(range(3000)), list[int]),
        (frame, pd.DataFrame),
        (np.eye(3), np.ndarray),
        (b"raw", bytes),
    ]:
        first, second = encode(value, tp, blobs), encode(value, tp, blobs)
        assert first["blob"] == second["blob"]
    assert encode({1, 2, 3}, set[int], blobs) == encode({3, 2, 1}, set[int], blobs)
    assert encode(1, int, blobs)["value"] != encode(2, int, blobs)["value"]
    big = encode(list(range(3000)), list[int], blobs)["blob"]
    assert big != encode(list(range(3001)), list[int], blobs)["blob"]


def test_none_literal_has_no_blob(blobs: BlobStore) -> None:
    literal = encode(None, Optional[pd.DataFrame], blobs)
    assert literal == {
        "format": "none",
        "type": "Optional[pandas.DataFrame]",
        "size": 0,
        "preview": "None",
    }
    assert decode(literal, Optional[pd.DataFrame], blobs) is None
    with pytest.raises(TypeMismatchError):
        decode(literal, int, blobs)


def test_bytes_roundtrip(blobs: BlobStore) -> None:
    data = bytes(range(256))
    back, literal = roundtrip(data, bytes, blobs)
    assert literal["format"] == "bytes" and literal["size"] == 256 and back == data
    assert decode(literal, None, blobs) == data


def test_dataframe_with_several_dtypes(blobs: BlobStore) -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype="int64"),
            "small": np.array([1, 2, 3], dtype="int8"),
            "f": [1.5, np.nan, 3.0],
            "s": ["a", "b", None],
            "b": [True, False, True],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).tz_localize("UTC"),
            "c": pd.Categorical(["x", "y", "x"]),
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )
    back, literal = roundtrip(frame, pd.DataFrame, blobs)
    assert literal["format"] == "parquet-pandas"
    assert literal["type"] == "pandas.DataFrame"
    assert literal["preview"] == "DataFrame 3 rows x 7 cols [i, small, f, s, b, t, c]"
    pd.testing.assert_frame_equal(back, frame)
    as_table = decode(literal, pa.Table, blobs)
    assert isinstance(as_table, pa.Table) and as_table.num_rows == 3
    assert isinstance(decode(literal, None, blobs), pd.DataFrame)


def test_arrow_table_roundtrip(blobs: BlobStore) -> None:
    table = pa.table({"a": [1, 2, None], "b": ["x", "y", "z"], "c": [[1], [], [2, 3]]})
    back, literal = roundtrip(table, pa.Table, blobs)
    assert literal["format"] == "parquet-arrow" and literal["type"] == "pyarrow.Table"
    assert back.equals(table)
    assert decode(literal, None, blobs).equals(table)
    assert isinstance(decode(literal, pd.DataFrame, blobs), pd.DataFrame)


def test_numpy_2d_float_array(blobs: BlobStore) -> None:
    array = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    array[1, 2] = np.nan
    back, literal = roundtrip(array, np.ndarray, blobs)
    assert literal["format"] == "npy" and literal["preview"] == "ndarray float64 (3, 4)"
    assert back.dtype == array.dtype and back.shape == (3, 4)
    np.testing.assert_array_equal(back, array)
    fortran, _ = roundtrip(np.asfortranarray(array), np.ndarray, blobs)
    np.testing.assert_array_equal(fortran, array)


def test_object_array_falls_back_to_pickle(blobs: BlobStore) -> None:
    array = np.array([{"a": 1}, None], dtype=object)
    back, literal = roundtrip(array, np.ndarray, blobs)
    assert is_pickled(literal) and literal["format"] == "pickle"
    assert list(back) == [{"a": 1}, None]


def test_pickle_fallback_for_a_custom_class(blobs: BlobStore) -> None:
    back, literal = roundtrip(Opaque(3), Opaque, blobs)
    assert literal["format"] == "pickle" and literal["pickled"] is True and is_pickled(literal)
    assert literal["type"] == f"{__name__}.Opaque"
    assert literal["note"].startswith(
        f"stored with cloudpickle: {__name__}.Opaque has no dedicated"
    )
    assert back == Opaque(3)
    assert not is_pickled(encode(1, int, blobs))


def test_any_picks_the_family_from_the_runtime_value(blobs: BlobStore) -> None:
    frame = pd.DataFrame({"a": [1]})
    expectations = [
        (5, "json", "int"),
        ([1, 2], "json", "list"),
        (b"x", "bytes", "bytes"),
        (frame, "parquet-pandas", "pandas.DataFrame"),
        (np.zeros(2), "npy", "numpy.ndarray"),
        ((1, 2), "pickle", "tuple"),
        (dt.date(2024, 1, 1), "pickle", "date"),
        (math.nan, "pickle", "float"),
        ({1: "int key"}, "pickle", "dict"),
        (Opaque(1), "pickle", f"{__name__}.Opaque"),
    ]
    for value, fmt, type_text in expectations:
        literal = encode(value, Any, blobs)
        assert (literal["format"], literal["type"]) == (fmt, type_text), value
        back = decode(literal, None, blobs)
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(back, value)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value)
        elif isinstance(value, float):
            assert math.isnan(back)
        else:
            assert back == value and type(back) is type(value)


def test_json_that_cannot_hold_a_value_falls_back_to_pickle(blobs: BlobStore) -> None:
    value = {"when": dt.datetime(2024, 1, 1)}
    back, literal = roundtrip(value, dict[str, Any], blobs)
    assert is_pickled(literal) and "datetime" in literal["note"]
    assert back == value


def test_dataframe_that_parquet_cannot_hold_falls_back_to_pickle(blobs: BlobStore) -> None:
    frame = pd.DataFrame({"mixed": [1, "a", 2.5]})
    back, literal = roundtrip(frame, pd.DataFrame, blobs)
    assert is_pickled(literal) and "Parquet" in literal["note"]
    pd.testing.assert_frame_equal(back, frame)
    empty, literal = roundtrip(pd.DataFrame(), pd.DataFrame, blobs)
    assert is_pickled(literal) and empty.shape == (0, 0)


def test_union_with_a_dataframe_member(blobs: BlobStore) -> None:
    tp = typing.Union[pd.DataFrame, list[int]]
    frame = pd.DataFrame({"a": [1]})
    assert encode(frame, tp, blobs)["format"] == "parquet-pandas"
    literal = encode([1, 2], tp, blobs)
    assert literal["format"] == "json" and decode(literal, tp, blobs) == [1, 2]


def test_encode_checks_the_type_first(blobs: BlobStore) -> None:
    with pytest.raises(
        TypeMismatchError, match=r"output 'o' expects list\[int\], got str at \[1\]"
    ):
        encode([1, "x"], list[int], blobs, what="output 'o'")
    assert not list(Path(blobs.url).rglob("sha256/*/*"))


def test_unpicklable_value_is_a_clear_error(blobs: BlobStore) -> None:
    import threading

    with pytest.raises(TypeMismatchError, match="output 'lock': cannot store a"):
        encode(threading.Lock(), Any, blobs, what="output 'lock'")


def test_decode_refuses_a_stored_value_of_another_type(blobs: BlobStore) -> None:
    literal = encode("abc", str, blobs)
    with pytest.raises(TypeMismatchError, match="the stored str value cannot be read as int"):
        decode(literal, int, blobs)
    literal = encode(Opaque(1), Opaque, blobs)
    with pytest.raises(TypeMismatchError, match="cannot be read as str"):
        decode(literal, str, blobs)


def test_decode_refuses_garbage(blobs: BlobStore) -> None:
    with pytest.raises(UserInputError, match="unknown format"):
        decode({"format": "exe"}, None, blobs)
    with pytest.raises(UserInputError, match="not a blob key"):
        decode({"format": "bytes", "blob": "../../etc/passwd"}, None, blobs)
