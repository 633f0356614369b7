"""Cron expressions: parsing, validation and the next fire time.

Five fields, ``minute hour day-of-month month day-of-week``, each ``*``, a number, a list
``1,2``, a range ``1-5``, a step ``*/15``, ``10-50/10`` or ``5/15`` (from 5 to the field's end),
or combinations in a list (``1-5,*/20``). Months take ``JAN``-``DEC``, weekdays ``SUN``-``SAT``
(case-insensitive); weekday 0 and 7 are both Sunday. Aliases: ``@yearly``/``@annually``,
``@monthly``, ``@weekly``, ``@daily``/``@midnight``, ``@hourly``.

Day matching follows classic (Vixie) cron: when both day-of-month and day-of-week are
restricted, a day matching *either* fires (``0 0 1 * MON``: the 1st and every Monday); a day
field written as ``*`` or ``*/n`` counts as unrestricted, and then both must match. An
expression that can never fire (``0 0 30 2 *``) is refused when parsed.

Time zones and daylight saving time (``next_after(dt, tz)``): fire times are wall-clock times
in ``tz`` (default UTC). The rule at a clock change:

* a wall time that does not exist (clocks jump forward) fires at the instant it would have
  had with the offset before the change, i.e. shifted later by the jump: ``30 2 * * *`` in
  Europe/Berlin fires at 03:30 CEST on the last Sunday of March. If that instant is also a
  regular fire time (``*/15``: 02:15 -> 03:15) it is one fire, not two;
* a wall time that happens twice (clocks fall back) fires once, at its first occurrence,
  unless the hour field covers every hour (``*/15 * * * *``, ``@hourly``): such schedules
  fire in both occurrences and keep their rhythm in real time.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headwater.errors import DefinitionError

__all__ = ["ALIASES", "CronExpr", "get_zone", "parse_cron"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FORM = (
    'five fields "minute hour day-of-month month day-of-week" (e.g. "0 * * * *" or '
    '"*/15 9-17 * * MON-FRI") or one of ' + ", ".join(ALIASES)
)
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_WEEKDAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_SEARCH_YEARS = 401  # the Gregorian calendar repeats every 400 years


@dataclass(frozen=True)
class _Field:
    name: str
    lo: int
    hi: int  # highest value written (7 for day-of-week), not the highest stored
    top: int  # highest value stored (6 for day-of-week)
    accepts: str
    names: dict[str, int] = field(default_factory=dict)


_FIELDS = (
    _Field("minute", 0, 59, 59, "a number 0-59"),
    _Field("hour", 0, 23, 23, "a number 0-23"),
    _Field("day-of-month", 1, 31, 31, "a number 1-31"),
    _Field("month", 1, 12, 12, "a number 1-12 or a name JAN-DEC", _MONTHS),
    _Field(
        "day-of-week", 0, 7, 6, "a number 0-7 (0 and 7 are Sunday) or a name SUN-SAT", _WEEKDAYS
    ),
)


@lru_cache(maxsize=256)
def get_zone(name: str | None) -> tzinfo:
    """The time zone of an IANA name (``None``: UTC); an unknown name is a DefinitionError."""
    if name is None or name == "UTC":
        return UTC
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise DefinitionError(
        f"unknown time zone {name!r}: use an IANA name such as 'UTC', 'Europe/Berlin' "
        "or 'America/New_York'"
    )


@dataclass(frozen=True)
class CronExpr:
    """A parsed cron expression. Values are sorted; weekdays use 0 for Sunday."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]
    dom_star: bool  # day-of-month written as * or */n (unrestricted for the OR rule)
    dow_star: bool
    _day_set: frozenset[int] = field(init=False, repr=False, compare=False)
    _dow_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_day_set", frozenset(self.days))
        object.__setattr__(self, "_dow_set", frozenset(self.weekdays))

    def __str__(self) -> str:
        sets = (self.minutes, self.hours, self.days, self.months, self.weekdays)
        stars = (None, None, self.dom_star, None, self.dow_star)
        return " ".join(_format(v, f, s) for v, f, s in zip(sets, _FIELDS, stars, strict=True))

    def day_matches(self, year: int, month: int, day: int) -> bool:
        """Whether the expression fires on this date (month included)."""
        if month not in self.months:
            return False
        return self._day_ok(day, (calendar.weekday(year, month, day) + 1) % 7)

    def matches(self, wall: datetime) -> bool:
        """Whether a wall-clock time (its minute) is a fire time."""
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and self.day_matches(wall.year, wall.month, wall.day)
        )

    def _day_ok(self, day: int, weekday: int) -> bool:
        dom, dow = day in self._day_set, weekday in self._dow_set
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def next_after(self, dt: datetime, tz: str | None = None) -> datetime:
        """The first fire time strictly after ``dt`` (aware), evaluated on the wall clock of
        ``tz`` (IANA name, default UTC), as an aware UTC datetime. See the module docstring
        for the daylight-saving rule."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"next_after needs a timezone-aware datetime, got {dt!r}")
        zone = get_zone(tz)
        now = dt.astimezone(UTC)
        # Walk wall-clock times from the smallest offset around ``now``: a clock change
        # nearby may give earlier wall times an instant after ``now``.
        offset = min(_offset(now + d, zone) for d in (-_DAY, _ZERO, _DAY))
        best: datetime | None = None
        limit: datetime | None = None
        for wall in self._walls((now + offset).replace(tzinfo=None)):
            if limit is not None and wall > limit:
                break
            instants, spread = _instants(wall, zone, every_hour=len(self.hours) == 24)
            for t in instants:
                if t > now and (best is None or t < best):
                    # Around a clock change a later wall time may map to an earlier instant,
                    # but never one more than ``spread`` later on the wall clock.
                    best, limit = t, wall + spread
        if best is None:
            raise DefinitionError(f'cron "{self}" has no fire time after {dt.isoformat()}')
        return best

    def _walls(self, after: datetime) -> Iterator[datetime]:
        """Matching wall-clock times strictly after ``after``, in order, field by field."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for year in range(t.year, min(t.year + _SEARCH_YEARS, datetime.max.year + 1)):
            same_y = year == t.year
            for month in self.months:
                if same_y and month < t.month:
                    continue
                same_m = same_y and month == t.month
                first_wd, ndays = calendar.monthrange(year, month)
                for day in range(t.day if same_m else 1, ndays + 1):
                    if not self._day_ok(day, (first_wd + day) % 7):
                        continue
                    same_d = same_m and day == t.day
                    for hour in self.hours:
                        if same_d and hour < t.hour:
                            continue
                        same_h = same_d and hour == t.hour
                        for minute in self.minutes:
                            if same_h and minute < t.minute:
                                continue
                            yield datetime(year, month, day, hour, minute)


def _offset(t: datetime, zone: tzinfo) -> timedelta:
    off = t.astimezone(zone).utcoffset()
    return _ZERO if off is None else off


def _instants(
    wall: datetime, zone: tzinfo, every_hour: bool
) -> tuple[tuple[datetime, ...], timedelta]:
    """The UTC instants a wall time fires at, and how far a clock change around it reaches."""
    if zone is UTC:
        return (wall.replace(tzinfo=UTC),), _ZERO
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return (first,), _ZERO
    if first > second:  # a gap: fold=0 keeps the offset before the jump, i.e. shifted later
        return (first,), first - second
    return ((first, second) if every_hour else (first,)), second - first


def parse_cron(expr: str) -> CronExpr:
    """Parse and validate a cron expression (see the module docstring for the syntax)."""
    if not isinstance(expr, str):
        raise DefinitionError(f"a cron schedule is a string ({FORM}), got {type(expr).__name__}")
    return _parse(expr)


@lru_cache(maxsize=1024)
def _parse(expr: str) -> CronExpr:
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise DefinitionError(
                f'unknown cron alias "{text}": use one of {", ".join(ALIASES)} '
                'or five fields such as "0 * * * *"'
            )
        text = ALIASES[text.lower()]
    parts = text.split()
    if len(parts) != 5:
        raise DefinitionError(
            f'cron expression "{expr}" has {len(parts)} field{"s" * (len(parts) != 1)}; '
            f"expected {FORM}"
        )
    (minutes, _), (hours, _), (days, dom_star), (months, _), (weekdays, dow_star) = (
        _parse_field(part, f, expr) for part, f in zip(parts, _FIELDS, strict=True)
    )
    if not dom_star and dow_star and not any(d <= _MAX_DAYS[m - 1] for m in months for d in days):
        raise DefinitionError(
            f'cron expression "{expr}" never fires: no month in it has day-of-month '
            f"{','.join(map(str, days))}"
        )
    return CronExpr(minutes, hours, days, months, weekdays, dom_star, dow_star)


def _parse_field(text: str, f: _Field, expr: str) -> tuple[tuple[int, ...], bool]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise DefinitionError(
                f"cron field '{f.name}' has an empty list item in \"{expr}\"; write lists as 1,2,3"
            )
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not (step_text.isascii() and step_text.isdigit()) or int(step_text) < 1:
                raise DefinitionError(
                    f"cron field '{f.name}' step {step_text!r} must be a whole number >= 1 "
                    f'in "{expr}" (e.g. */15 or 10-50/10)'
                )
            step = int(step_text)
        if base == "*":
            lo, hi = f.lo, f.top
        elif "-" in base:
            a, _, b = base.partition("-")
            lo, hi = _value(a, f, expr), _value(b, f, expr)
            if lo > hi:
                raise DefinitionError(
                    f"cron field '{f.name}' range {base} goes backwards in \"{expr}\"; "
                    f"write ranges low-high within {f.lo}-{f.hi}"
                )
        else:
            lo = _value(base, f, expr)
            hi = max(lo, f.top) if slash else lo
        values.update(range(lo, hi + 1, step))
    if f.name == "day-of-week" and 7 in values:
        values.discard(7)
        values.add(0)
    star = text == "*" or (text.startswith("*/") and "," not in text)
    return tuple(sorted(values)), star


def _value(token: str, f: _Field, expr: str) -> int:
    if token.upper() in f.names:
        return f.names[token.upper()]
    if not (token.isascii() and token.isdigit()):
        raise DefinitionError(
            f"cron field '{f.name}' value {token!r} is not {f.accepts} in \"{expr}\"; "
            f"expected {FORM}"
        )
    n = int(token)
    if not f.lo <= n <= f.hi:
        raise DefinitionError(
            f"cron field '{f.name}' value {n} is out of range {f.lo}-{f.hi} in \"{expr}\""
        )
    return n


def _format(values: tuple[int, ...], f: _Field, star: bool | None) -> str:
    """The canonical text of a field; ``star`` is None where the star form carries no meaning."""
    vals = list(values)
    if star is not False:
        if vals == list(range(f.lo, f.top + 1)):
            return "*"
        step = vals[1] - vals[0] if len(vals) > 1 else f.top - f.lo + 1
        progression = vals[0] == f.lo and vals == list(range(f.lo, f.top + 1, step))
        if progression and (star or len(vals) > 1):
            return f"*/{step}"
    items: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        if j - i >= 2:
            items.append(f"{vals[i]}-{vals[j]}")
        else:
            items.extend(str(v) for v in vals[i : j + 1])
        i = j + 1
    return ",".join(items)
