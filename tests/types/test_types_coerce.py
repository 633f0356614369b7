"""coerce(): command-line text (-i k=v) to typed values."""
# ruff: noqa: UP045 - these tests exercise the typing.Optional/Union spellings too

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic
import pytest

from headwater.errors import TypeMismatchError
from headwater.types import Directory, File, coerce


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class Rank(enum.IntEnum):
    ONE = 1
    TWO = 2


@dataclasses.dataclass
class Window:
    start: dt.date
    days: int = 7


class Query(pydantic.BaseModel):
    text: str
    limit: int = 10


@pytest.mark.parametrize(
    ("raw", "tp", "expected"),
    [
        ("42", int, 42),
        (" -7 ", int, -7),
        ("3.5", float, 3.5),
        ("1e3", float, 1000.0),
        ("2", float, 2.0),
        ("true", bool, True),
        ("False", bool, False),
        ("yes", bool, True),
        ("no", bool, False),
        ("1", bool, True),
        ("0", bool, False),
        ("hello world", str, "hello world"),
        ("", str, ""),
        ("héllo", bytes, "héllo".encode()),
        (
            "2024-05-01T12:30:00+02:00",
            dt.datetime,
            dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        (
            "2024-05-01T12:30:00Z",
            dt.datetime,
            dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
        ),
        ("2024-05-01", dt.datetime, dt.datetime(2024, 5, 1)),
        ("2024-05-01", dt.date, dt.date(2024, 5, 1)),
        ("90", dt.timedelta, dt.timedelta(seconds=90)),
        ("1.5", dt.timedelta, dt.timedelta(seconds=1.5)),
        ("1h30m", dt.timedelta, dt.timedelta(hours=1, minutes=30)),
        ("2d", dt.timedelta, dt.timedelta(days=2)),
        ("15m", dt.timedelta, dt.timedelta(minutes=15)),
        ("30s", dt.timedelta, dt.timedelta(seconds=30)),
        ("1d2h3m4s", dt.timedelta, dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("250ms", dt.timedelta, dt.timedelta(milliseconds=250)),
        ("-5m", dt.timedelta, dt.timedelta(minutes=-5)),
        ("s", Size, Size.SMALL),
        ("LARGE", Size, Size.LARGE),
        ("large", Size, Size.LARGE),
        ("2", Rank, Rank.TWO),
        ("b", Literal["a", "b"], "b"),
        ("3", Literal[1, 3], 3),
        ("[1, 2, 3]", list[int], [1, 2, 3]),
        ("1,2,3", list[int], [1, 2, 3]),
        ("a, b", list[str], ["a", "b"]),
        ("", list[int], []),
        ('["x", "y"]', set[str], {"x", "y"}),
        ('[1, "a"]', tuple[int, str], (1, "a")),
        ('{"a": 1.5}', dict[str, float], {"a": 1.5}),
        ('{"1": "x"}', dict[int, str], {1: "x"}),
        ('{"start": "2024-01-01"}', Window, Window(dt.date(2024, 1, 1))),
        ('{"text": "q"}', Query, Query(text="q")),
        ("", Optional[int], None),
        ("null", Optional[int], None),
        ("5", Optional[int], 5),
        ("5", int | str, 5),
        ("five", int | str, "five"),
        ("anything", Any, "anything"),
        ("anything", None, "anything"),
    ],
)
def test_coerce(raw: str, tp: Any, expected: Any) -> None:
    value = coerce(raw, tp, "input 'k'")
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "tp", "hint"),
    [
        ("abc", int, "whole number"),
        ("1.5", int, "whole number"),
        ("x", float, "number"),
        ("maybe", bool, "true/false"),
        ("yesterday", dt.date, "ISO 8601"),
        ("2024-05-01T10:00", dt.date, "ISO 8601"),
        ("soon", dt.timedelta, "1h30m"),
        ("medium", Size, "one of s, l"),
        ("c", Literal["a", "b"], "one of 'a', 'b'"),
        ("1,x", list[int], "item 'x'"),
        ("[1, ", list[int], "JSON"),
        ('{"a": "x"}', dict[str, int], "does not fit"),
        ("{}", Window, "does not fit"),
        ('{"limit": 1}', Query, "text"),
        ("x", Optional[int], "whole number"),
    ],
)
def test_coerce_failures_name_the_input_type_and_text(raw: str, tp: Any, hint: str) -> None:
    with pytest.raises(TypeMismatchError) as info:
        coerce(raw, tp, "input 'k'")
    message = str(info.value)
    assert message.startswith("input 'k' expects ")
    assert repr(raw) in message
    assert hint in message


def test_coerce_paths(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_text("x")
    assert coerce(str(target), File, "input 'f'") == File(str(target))
    assert coerce(str(tmp_path), Directory, "input 'd'") == Directory(str(tmp_path))
    with pytest.raises(
        TypeMismatchError, match=r"input 'f' expects File, got .*existing local file"
    ):
        coerce(str(tmp_path / "missing.txt"), File, "input 'f'")
    with pytest.raises(TypeMismatchError, match="existing local directory"):
        coerce(str(target), Directory, "input 'd'")


def test_coerce_tables(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for name in ("t.csv", "t.parquet"):
        got = coerce(str(tmp_path / name), pd.DataFrame, "input 't'")
        pd.testing.assert_frame_equal(got, frame, check_dtype=False)
        table = coerce(str(tmp_path / name), pa.Table, "input 't'")
        assert isinstance(table, pa.Table) and table.column_names == ["a", "b"]
    (tmp_path / "t.json").write_text("{}")
    with pytest.raises(TypeMismatchError, match=r"\.parquet or \.csv"):
        coerce(str(tmp_path / "t.json"), pd.DataFrame, "input 't'")
    with pytest.raises(TypeMismatchError, match=r"\.parquet or \.csv"):
        coerce(str(tmp_path / "nope.csv"), pd.DataFrame, "input 't'")


def test_coerce_arrays(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.eye(2))
    np.testing.assert_array_equal(
        coerce(str(tmp_path / "a.npy"), np.ndarray, "input 'a'"), np.eye(2)
    )
    np.testing.assert_array_equal(
        coerce("[[1, 2], [3, 4]]", np.ndarray, "input 'a'"), [[1, 2], [3, 4]]
    )


def test_types_without_a_text_form_are_refused() -> None:
    class Custom:
        pass

    with pytest.raises(TypeMismatchError, match="cannot be given as text"):
        coerce("x", Custom, "input 'c'")
