"""The checks every entrance uses, and the helpers that let old rows render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from headwater.definitions.storable import (
    check_datetime,
    check_strings,
    check_text,
    check_time,
    readable,
    utc_or_none,
)
from headwater.errors import UserInputError


def test_valid_text_passes_untouched_including_astral_characters():
    for text in ("", "plain", "é€", "\U0001f600", "tab\tand\nnewline"):
        assert check_text(text, "f") == text
        assert readable(text) == text
    assert check_strings({"k": ["\U0001f600", {"x": 1}]}, "payload") == {
        "k": ["\U0001f600", {"x": 1}]
    }


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (
            {"a": ["ok", "\x00"]},
            r"^payload\.a\[1\] contains a NUL character \(\\x00\) at position 0",
        ),
        (
            {"a\ud800": 1},
            r"^payload key 'a\\ud800' contains a lone surrogate '\\ud800' at position 1",
        ),
    ],
)
def test_check_strings_names_the_path_and_position(value, where):
    with pytest.raises(UserInputError, match=where):
        check_strings(value, "payload")


def test_time_range_is_what_a_utc_datetime_holds():
    assert check_time(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "t") == 253402300799.0
    assert check_time(datetime(1, 1, 1, 12), "t") == -62135553600.0  # naive is UTC
    assert check_time(-62135596800, "t") == -62135596800.0
    for bad in (
        True,
        "1",
        None,
        float("nan"),
        253402300800,
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
    ):
        with pytest.raises(UserInputError, match=r"^t "):
            check_time(bad, "t")
    with pytest.raises(UserInputError, match="out of range"):
        check_datetime(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2))), "t")


def test_stored_values_that_cannot_render_become_visible_text_or_none():
    assert readable({"k\udc80": ["x\ud800", 1, None]}) == {"k\\udc80": ["x\\ud800", 1, None]}
    assert utc_or_none(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert [utc_or_none(t) for t in (1e300, -1e18, float("nan"), float("inf"), None)] == [None] * 5
