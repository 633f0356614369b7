"""Property tests: JSON-family values come back equal to what was stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import tempfile
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.storage.blobs import BlobStore
from headwater.types import decode, encode

_STORE = BlobStore(tempfile.mkdtemp(prefix="headwater-types-prop-"))


class Suit(enum.Enum):
    HEARTS = "h"
    SPADES = "s"


@dataclasses.dataclass
class Card:
    suit: Suit
    rank: int
    seen: dt.datetime | None
    weights: dict[str, float]


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN, types must match, and time zones and offsets are compared.

    (fold only matters where a zone makes a time ambiguous; the offset then tells them apart.)
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, dt.datetime):
        return a == b and a.tzinfo == b.tzinfo and a.utcoffset() == b.utcoffset()
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return bool(a == b)


floats = st.floats(allow_nan=True, allow_infinity=True)
datetimes = st.datetimes(timezones=st.none() | st.timezones() | st.just(dt.UTC))
TYPED = [
    (st.integers(), int),
    (floats, float),
    (st.text(), str),
    (st.binary(), bytes),
    (datetimes, dt.datetime),
    (st.dates(), dt.date),
    (st.timedeltas(), dt.timedelta),
    (st.lists(st.none() | st.integers()), list[int | None]),
    (st.dictionaries(st.text(), floats), dict[str, float]),
    (st.dictionaries(st.integers(), st.binary()), dict[int, bytes]),
    (st.tuples(st.integers(), st.text(), st.booleans()), tuple[int, str, bool]),
    (st.frozensets(st.text()), frozenset[str]),
    (st.lists(st.tuples(st.dates(), st.sampled_from(Suit))), list[tuple[dt.date, Suit]]),
    (st.one_of(st.integers(), st.text(), st.dates()), int | str | dt.date),
    (
        st.builds(
            Card,
            suit=st.sampled_from(Suit),
            rank=st.integers(),
            seen=st.none() | datetimes,
            weights=st.dictionaries(st.text(), floats),
        ),
        Card,
    ),
]


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[Any, Any]:
    strategy, tp = draw(st.sampled_from(TYPED))
    return draw(strategy), tp


@settings(max_examples=300, deadline=None)
@given(typed_values())
def test_typed_roundtrip(case: tuple[Any, Any]) -> None:
    value, tp = case
    literal = encode(value, tp, _STORE)
    assert literal["format"] in ("json", "bytes")
    assert same(decode(literal, tp, _STORE), value)
    if "blob" in literal and literal["format"] == "json":
        assert "value" not in literal  # large JSON lives only in the blob


plain_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(plain_json)
def test_plain_json_under_any_roundtrips_without_a_type(value: Any) -> None:
    literal = encode(value, Any, _STORE)
    assert literal["format"] == ("none" if value is None else "json")
    assert same(decode(literal, None, _STORE), value)
