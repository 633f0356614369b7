"""Text and times that every backend can store and every reader can render.

At the door (refuse, naming the field)::

    check_text(event_id, "id")           # no NUL, no lone surrogate (not valid Unicode)
    check_strings(payload, "payload")    # the same for every key and string inside
    check_time(1e300, "time")            # UserInputError: out of range
    check_datetime(dt, "time_partition") # an aware UTC datetime, or UserInputError

PostgreSQL text cannot hold NUL, and a lone surrogate (a ``\\udxxx`` escape in JSON, or a
byte that was not UTF-8 in a file name or argument) cannot be written as UTF-8 at all, so
both are refused on every backend alike. Times are refused unless they convert to a UTC
``datetime`` (years 1 to 9999).

On the way out, rows stored before these checks existed must still render::

    readable({"k": "\\ud800"})   # {"k": "\\\\ud800"}: the bad character as visible text
    utc_or_none(1e300)          # None
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from headwater.errors import UserInputError

EARLIEST = "0001-01-01T00:00:00Z"
LATEST = "9999-12-31T23:59:59Z"
_NUMBER = (int, float)


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (None when it can)."""
    at = value.find("\x00")
    if at >= 0:
        return f"a NUL character (\\x00) at position {at}"
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"a lone surrogate {value[exc.start]!r} at position {exc.start}, which is not "
            "valid Unicode (in JSON, a \\ud800-\\udfff escape must be half of a pair)"
        )
    return None


def check_text(value: Any, field: str) -> Any:
    """``value`` unchanged when it is not a string or is storable text; else UserInputError."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise UserInputError(
                f"{field} contains {problem}; send valid Unicode text without NUL characters"
            )
    return value


def check_strings(value: Any, field: str) -> Any:
    """``check_text`` for every dict key and string inside a JSON-like value; returns it."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(k, f"{field} key {k!r}")
            check_strings(v, f"{field}.{k}" if isinstance(k, str) else field)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_strings(v, f"{field}[{i}]")
    return value


def _out_of_range(value: Any, field: str) -> UserInputError:
    return UserInputError(
        f"{field} {_show(value)} is out of range: a time must lie between {EARLIEST} and "
        f"{LATEST} in UTC (as seconds since the epoch: -62135596800 to 253402300799)"
    )


def check_datetime(value: datetime, field: str) -> datetime:
    """``value`` as an aware UTC datetime (naive is UTC); refused when UTC cannot hold it
    (e.g. ``0001-01-01T00:00:00+14:00`` is in year 0 in UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(value.isoformat(), field) from None


def check_time(value: Any, field: str) -> float:
    """Seconds since the epoch (from a number or a datetime) that convert back to a UTC
    datetime; a bool, NaN, infinity or anything out of range is refused."""
    original = value
    if isinstance(value, datetime):
        value = check_datetime(value, field).timestamp()
    elif isinstance(value, bool) or not isinstance(value, _NUMBER):
        raise UserInputError(
            f"{field} must be a time (seconds since the epoch or a datetime), "
            f"got {type(value).__name__} {_show(value)}"
        )
    try:
        seconds = float(value)
        if not math.isfinite(seconds):
            raise UserInputError(f"{field} is {seconds}; a time must be a finite number")
        datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        shown = original.isoformat() if isinstance(original, datetime) else original
        raise _out_of_range(shown, field) from None
    return seconds


# -- reading what is stored ----------------------------------------------------------------
def utc_or_none(seconds: Any) -> datetime | None:
    """A stored epoch time as a UTC datetime; None when it cannot be one (a row written before
    times were checked)."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(float(seconds), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def readable_text(value: str) -> str:
    """``value`` with each lone surrogate written as visible ``\\udxxx`` text."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def readable(value: Any) -> Any:
    """A JSON-like value whose strings can all be encoded (see ``readable_text``)."""
    if isinstance(value, str):
        return readable_text(value)
    if isinstance(value, dict):
        return {
            readable_text(k) if isinstance(k, str) else k: readable(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [readable(v) for v in value]
    return value
