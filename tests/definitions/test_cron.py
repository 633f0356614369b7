"""Cron expressions: parsing, error messages, next fire times (also across DST changes)."""

from __future__ import annotations

import calendar
import random
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from headwater import CronSchedule
from headwater.definitions.cron import CronExpr, get_zone, parse_cron
from headwater.errors import DefinitionError

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz: ZoneInfo | None = None, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz or UTC, fold=fold)


def fires(expr: str, start: str, n: int = 1, tz: str | None = None) -> list[str]:
    """The next ``n`` fire times after ``start`` (wall time in ``tz``), as wall times in tz."""
    zone = ZoneInfo(tz) if tz else UTC
    cron, t, out = parse_cron(expr), at(start, zone), []
    for _ in range(n):
        t = cron.next_after(t, tz)
        assert t.tzinfo is UTC
        out.append(t.astimezone(zone).isoformat(timespec="minutes"))
    return [o.replace("+00:00", "") if tz is None else o for o in out]


# -- next_after --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "start", "expected"),
    [
        # every 15 minutes; strictly after; seconds; day and year rollover
        ("*/15 * * * *", "2026-05-04T10:07", ["2026-05-04T10:15", "2026-05-04T10:30"]),
        ("*/15 * * * *", "2026-05-04T10:15", ["2026-05-04T10:30"]),
        ("*/15 * * * *", "2026-05-04T10:14:59.999", ["2026-05-04T10:15"]),
        ("*/15 * * * *", "2026-12-31T23:50", ["2027-01-01T00:00"]),
        ("* * * * *", "2026-05-04T10:07:30", ["2026-05-04T10:08", "2026-05-04T10:09"]),
        # hourly
        ("0 * * * *", "2026-05-04T10:00", ["2026-05-04T11:00", "2026-05-04T12:00"]),
        ("@hourly", "2026-05-04T23:30", ["2026-05-05T00:00"]),
        ("30 */6 * * *", "2026-05-04T07:00", ["2026-05-04T12:30", "2026-05-04T18:30"]),
        # aliases
        ("@daily", "2026-05-04T00:00", ["2026-05-05T00:00", "2026-05-06T00:00"]),
        ("@midnight", "2026-05-04T13:00", ["2026-05-05T00:00"]),
        ("@weekly", "2026-05-04T13:00", ["2026-05-10T00:00", "2026-05-17T00:00"]),  # Sundays
        ("@monthly", "2026-05-04T13:00", ["2026-06-01T00:00", "2026-07-01T00:00"]),
        ("@yearly", "2026-05-04T13:00", ["2027-01-01T00:00"]),
        ("@annually", "2026-12-31T23:59", ["2027-01-01T00:00"]),
        # weekdays 9-17 (2026-05-08 is a Friday)
        ("0 9-17 * * MON-FRI", "2026-05-08T17:30", ["2026-05-11T09:00", "2026-05-11T10:00"]),
        ("0 9-17 * * 1-5", "2026-05-06T08:59", ["2026-05-06T09:00"]),
        ("0 9-17 * * 1-5", "2026-05-06T16:00", ["2026-05-06T17:00", "2026-05-07T09:00"]),
        ("*/30 9-17 * * mon-fri", "2026-05-09T12:00", ["2026-05-11T09:00", "2026-05-11T09:30"]),
        # last-day style ranges: months without the day are skipped
        ("0 0 28-31 2 *", "2026-02-27T12:00", ["2026-02-28T00:00", "2027-02-28T00:00"]),
        ("0 0 28-31 * *", "2026-04-30T12:00", ["2026-05-28T00:00"]),
        ("0 0 31 * *", "2026-01-31T00:00", ["2026-03-31T00:00", "2026-05-31T00:00"]),
        ("0 0 30 * *", "2026-01-30T00:00", ["2026-03-30T00:00"]),
        ("0 0 29-31 * *", "2028-02-28T00:00", ["2028-02-29T00:00", "2028-03-29T00:00"]),
        # Feb 29 jumps to the next leap year (2100 is not one)
        ("0 0 29 2 *", "2026-01-01T00:00", ["2028-02-29T00:00", "2032-02-29T00:00"]),
        ("0 0 29 2 *", "2028-02-29T00:00", ["2032-02-29T00:00"]),
        ("0 0 29 2 *", "2097-01-01T00:00", ["2104-02-29T00:00"]),
        # both day fields restricted: either matches (Fridays and the 13th; Jan 1 2026 is Thu)
        (
            "0 0 13 * FRI",
            "2026-01-01T00:00",
            ["2026-01-02T00:00", "2026-01-09T00:00", "2026-01-13T00:00", "2026-01-16T00:00"],
        ),
        ("0 0 1,15 * 3", "2026-01-02T00:00", ["2026-01-07T00:00", "2026-01-14T00:00"]),
        ("0 0 1,15 * 3", "2026-01-14T00:00", ["2026-01-15T00:00", "2026-01-21T00:00"]),
        # a day field written as * or */n is unrestricted: both must match
        ("0 0 */2 * 1", "2026-01-01T00:00", ["2026-01-05T00:00", "2026-01-19T00:00"]),
        ("0 0 13 * *", "2026-01-01T00:00", ["2026-01-13T00:00", "2026-02-13T00:00"]),
        ("0 0 * * 5", "2026-01-01T00:00", ["2026-01-02T00:00", "2026-01-09T00:00"]),
        # month names
        ("0 12 1 jan,Jul *", "2026-02-01T00:00", ["2026-07-01T12:00", "2027-01-01T12:00"]),
        ("0 0 1 MAR-MAY *", "2026-05-02T00:00", ["2027-03-01T00:00", "2027-04-01T00:00"]),
        ("0 0 1 */3 *", "2026-02-01T00:00", ["2026-04-01T00:00", "2026-07-01T00:00"]),
        # Sunday is 0 and 7 (2026-05-10 is a Sunday)
        ("0 8 * * 0", "2026-05-05T00:00", ["2026-05-10T08:00", "2026-05-17T08:00"]),
        ("0 8 * * 7", "2026-05-05T00:00", ["2026-05-10T08:00", "2026-05-17T08:00"]),
        ("0 8 * * SUN", "2026-05-05T00:00", ["2026-05-10T08:00"]),
        ("0 8 * * 5-7", "2026-05-05T00:00", ["2026-05-08T08:00", "2026-05-09T08:00", "2026-05-10T08:00"]),
        # steps on ranges and open-ended starts
        ("10-50/20 * * * *", "2026-05-04T10:00", ["2026-05-04T10:10", "2026-05-04T10:30", "2026-05-04T10:50", "2026-05-04T11:10"]),
        ("5/20 * * * *", "2026-05-04T10:00", ["2026-05-04T10:05", "2026-05-04T10:25", "2026-05-04T10:45"]),
        ("0 22-23,0-1 * * *", "2026-05-04T21:00", ["2026-05-04T22:00", "2026-05-04T23:00", "2026-05-05T00:00", "2026-05-05T01:00", "2026-05-05T22:00"]),
    ],
)  # fmt: skip
def test_next_after(expr, start, expected):
    assert fires(expr, start, len(expected)) == expected


def test_next_after_takes_any_aware_datetime_and_returns_utc():
    cron = parse_cron("0 * * * *")
    start = datetime(2026, 5, 4, 10, 30, tzinfo=ZoneInfo("America/New_York"))  # 14:30Z
    assert cron.next_after(start) == datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    assert cron.next_after(start).tzinfo is UTC


def test_next_after_needs_an_aware_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_cron("@daily").next_after(datetime(2026, 1, 1))


def test_unknown_timezone_is_a_definition_error():
    with pytest.raises(DefinitionError, match=r"unknown time zone 'Mars/Olympus'.*IANA"):
        parse_cron("@daily").next_after(at("2026-01-01T00:00"), "Mars/Olympus")
    for bad in ("", "../etc/passwd", "Europe"):
        with pytest.raises(DefinitionError, match="unknown time zone"):
            get_zone(bad)
    assert get_zone(None) is UTC
    assert get_zone("Europe/Berlin") == BERLIN


# -- time zones and daylight saving time (Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST,
#    2026-10-25 03:00 CEST -> 02:00 CET) ------------------------------------------------------


def test_timezone_wall_clock_in_winter_and_summer():
    cron = parse_cron("0 9 * * *")
    assert cron.next_after(at("2026-01-10T00:00"), "Europe/Berlin") == at("2026-01-10T08:00")
    assert cron.next_after(at("2026-07-10T00:00"), "Europe/Berlin") == at("2026-07-10T07:00")
    # across the spring change, 09:00 local stays 09:00 local
    assert fires("0 9 * * *", "2026-03-28T10:00", 2, "Europe/Berlin") == [
        "2026-03-29T09:00+02:00",
        "2026-03-30T09:00+02:00",
    ]


def test_spring_forward_nonexistent_time_fires_shifted_by_the_gap():
    assert fires("30 2 * * *", "2026-03-28T12:00", 3, "Europe/Berlin") == [
        "2026-03-29T03:30+02:00",
        "2026-03-30T02:30+02:00",
        "2026-03-31T02:30+02:00",
    ]
    # the shifted fire is still ahead when asked from inside the jumped-over hour
    assert parse_cron("30 2 * * *").next_after(
        at("2026-03-29T03:10", BERLIN), "Europe/Berlin"
    ) == at("2026-03-29T03:30", BERLIN)


def test_spring_forward_does_not_fire_twice_for_one_instant():
    assert fires("*/30 * * * *", "2026-03-29T01:00", 5, "Europe/Berlin") == [
        "2026-03-29T01:30+01:00",
        "2026-03-29T03:00+02:00",  # 02:00 (nonexistent) and 03:00 are the same instant
        "2026-03-29T03:30+02:00",
        "2026-03-29T04:00+02:00",
        "2026-03-29T04:30+02:00",
    ]


def test_fall_back_fixed_time_fires_once_at_first_occurrence():
    assert fires("30 2 * * *", "2026-10-24T12:00", 2, "Europe/Berlin") == [
        "2026-10-25T02:30+02:00",
        "2026-10-26T02:30+01:00",
    ]
    assert fires("0,30 2 * * *", "2026-10-25T00:00", 3, "Europe/Berlin") == [
        "2026-10-25T02:00+02:00",
        "2026-10-25T02:30+02:00",
        "2026-10-26T02:00+01:00",
    ]


def test_fall_back_every_hour_schedule_keeps_its_rhythm():
    got = fires("*/30 * * * *", "2026-10-25T01:00", 6, "Europe/Berlin")
    assert got == [
        "2026-10-25T01:30+02:00",
        "2026-10-25T02:00+02:00",
        "2026-10-25T02:30+02:00",
        "2026-10-25T02:00+01:00",
        "2026-10-25T02:30+01:00",
        "2026-10-25T03:00+01:00",
    ]
    instants = [datetime.fromisoformat(g) for g in got]
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(instants))


def test_fall_back_from_inside_the_repeated_hour():
    cron = parse_cron("*/15 * * * *")
    first = at("2026-10-25T02:20", BERLIN)  # 00:20Z, first occurrence
    assert cron.next_after(first, "Europe/Berlin") == at("2026-10-25T00:30")
    late_first = at("2026-10-25T02:50", BERLIN)  # 00:50Z: next is 02:00 again (01:00Z)
    assert cron.next_after(late_first, "Europe/Berlin") == at("2026-10-25T01:00")
    second = at("2026-10-25T02:20", BERLIN, fold=1)  # 01:20Z
    assert cron.next_after(second, "Europe/Berlin") == at("2026-10-25T01:30")
    # a fixed-hour schedule does not fire again in the second occurrence
    daily = parse_cron("45 2 * * *")
    assert daily.next_after(second, "Europe/Berlin") == at("2026-10-26T01:45")


def test_new_york_dst():
    assert fires("30 2 * * *", "2026-03-07T12:00", 2, "America/New_York") == [
        "2026-03-08T03:30-04:00",  # 02:30 does not exist on 2026-03-08
        "2026-03-09T02:30-04:00",
    ]
    assert fires("0 1 * * *", "2026-10-31T12:00", 2, "America/New_York") == [
        "2026-11-01T01:00-04:00",
        "2026-11-02T01:00-05:00",
    ]


def _brute_force(cron: CronExpr, start: datetime, end: datetime) -> list[datetime]:
    """Every matching UTC minute in (start, end], with the day rule written out again."""
    out, t = [], start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= end:
        dow = (t.weekday() + 1) % 7
        dom_ok, dow_ok = t.day in cron.days, dow in cron.weekdays
        day_ok = dom_ok and dow_ok if cron.dom_star or cron.dow_star else dom_ok or dow_ok
        if t.minute in cron.minutes and t.hour in cron.hours and t.month in cron.months and day_ok:
            out.append(t)
        t += timedelta(minutes=1)
    return out


def test_next_after_agrees_with_brute_force():
    rng = random.Random(20261122)
    choices = (
        ["*", "*/7", "0", "5,35", "10-20", "59", "*/20,3"],
        ["*", "*/5", "0", "9-17", "23", "1,13"],
        ["*", "*/2", "1", "15-20", "31", "30,31"],
        ["*", "2", "1-6", "*/4", "FEB,MAR"],
        ["*", "1-5", "0", "6,7", "*/3", "SAT"],
    )
    for _ in range(40):
        expr = " ".join(rng.choice(options) for options in choices)
        cron = parse_cron(expr)
        start = at("2026-01-25T00:00") + timedelta(minutes=rng.randrange(60 * 24 * 60))
        end = start + timedelta(days=3)
        expected, got, t = _brute_force(cron, start, end), [], start
        while (t := cron.next_after(t)) <= end:
            got.append(t)
        assert got == expected, expr


def test_next_after_is_fast():
    cron = parse_cron("0 0 29 2 *")
    began = time.perf_counter()
    assert cron.next_after(at("2097-03-01T00:00"), "Europe/Berlin") == at("2104-02-28T23:00")
    every = parse_cron("*/5 * * * *")
    t = at("2026-01-01T00:00")
    for _ in range(2000):
        t = every.next_after(t, "Europe/Berlin")
    assert t == at("2026-01-07T22:40")
    assert time.perf_counter() - began < 2.0


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "normalized"),
    [
        ("0 * * * *", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@Yearly", "0 0 1 1 *"),
        ("  */15   *  * * *  ", "*/15 * * * *"),
        ("0,15,30,45 * * * *", "*/15 * * * *"),
        ("0 9-17 * * MON-FRI", "0 9-17 * * 1-5"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 * * sun,SAT", "0 0 * * 0,6"),
        ("0 0 * * 0-7", "0 0 * * 0-6"),  # restricted (not *): the OR rule still applies
        ("0 0 1-31 * *", "0 0 1-31 * *"),
        ("0 0 */2 * *", "0 0 */2 * *"),
        ("0 0 */31 * *", "0 0 */31 * *"),
        ("0-59 0-23 * 1-12 *", "* * * * *"),
        ("10-50/10 1,2,3,5 * JAN-MAR,dec *", "10,20,30,40,50 1-3,5 * 1-3,12 *"),
        ("0 0 29 2 *", "0 0 29 2 *"),
    ],
)
def test_str_is_normalized_and_round_trips(expr, normalized):
    cron = parse_cron(expr)
    assert str(cron) == normalized
    assert parse_cron(str(cron)) == cron


def test_equivalent_spellings_are_equal():
    assert parse_cron("0 0 * * 0") == parse_cron("0 0 * * 7") == parse_cron("0 0 * * Sun")
    assert parse_cron("@daily") == parse_cron("@midnight") == parse_cron("0 0 * * *")
    assert parse_cron("0 0 * * 0-6") != parse_cron("0 0 * * *")  # differ under the OR rule


def test_matches():
    cron = parse_cron("0 9-17 * * MON-FRI")
    assert cron.matches(datetime(2026, 5, 8, 9, 0))  # Friday
    assert not cron.matches(datetime(2026, 5, 9, 9, 0))  # Saturday
    assert not cron.matches(datetime(2026, 5, 8, 9, 1))
    assert cron.day_matches(2026, 5, 8)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 25 * * *", """cron field 'hour' value 25 is out of range 0-23 in "0 25 * * *\""""),
        ("60 * * * *", "cron field 'minute' value 60 is out of range 0-59"),
        ("0 0 32 * *", "cron field 'day-of-month' value 32 is out of range 1-31"),
        ("0 0 0 * *", "cron field 'day-of-month' value 0 is out of range 1-31"),
        ("0 0 * 13 *", "cron field 'month' value 13 is out of range 1-12"),
        ("0 0 * * 8", "cron field 'day-of-week' value 8 is out of range 0-7"),
        ("0 0 * FOO *", "cron field 'month' value 'FOO' is not a number 1-12 or a name JAN-DEC"),
        ("0 0 * * MONDAY", "cron field 'day-of-week' value 'MONDAY' is not a number 0-7"),
        ("x * * * *", "cron field 'minute' value 'x' is not a number 0-59"),
        ("-5 * * * *", "cron field 'minute' value '' is not a number 0-59"),
        ("1.5 * * * *", "cron field 'minute' value '1.5' is not a number"),
        ("*/0 * * * *", "cron field 'minute' step '0' must be a whole number >= 1"),
        ("*/x * * * *", "cron field 'minute' step 'x' must be a whole number >= 1"),
        ("0 17-9 * * *", "cron field 'hour' range 17-9 goes backwards"),
        ("0 0 * * FRI-MON", "cron field 'day-of-week' range FRI-MON goes backwards"),
        ("1,,2 * * * *", "cron field 'minute' has an empty list item"),
        ("* * *", 'cron expression "* * *" has 3 fields; expected five fields'),
        ("0 0 * * * *", 'has 6 fields; expected five fields "minute hour day-of-month'),
        ("", 'cron expression "" has 0 fields'),
        ("@fortnightly", 'unknown cron alias "@fortnightly": use one of @yearly, @annually'),
        ("@reboot", 'unknown cron alias "@reboot"'),
        ("0 0 30 2 *", 'cron expression "0 0 30 2 *" never fires'),
        ("0 0 31 4,6,9,11 *", "never fires: no month in it has day-of-month 31"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expr, message):
    with pytest.raises(DefinitionError) as info:
        parse_cron(expr)
    assert message in str(info.value)


def test_error_messages_show_the_accepted_form():
    with pytest.raises(DefinitionError, match=r"e\.g\. \"0 \* \* \* \*\".*@hourly"):
        parse_cron("every hour")


def test_not_a_string():
    with pytest.raises(DefinitionError, match="a cron schedule is a string"):
        parse_cron(["0", "*"])  # type: ignore[arg-type]


def test_impossible_day_of_month_is_fine_with_a_weekday():
    # the OR rule: Feb 30 never happens, but every Monday in February fires
    assert fires("0 0 30 2 MON", "2026-01-01T00:00", 2) == ["2026-02-02T00:00", "2026-02-09T00:00"]


def test_cron_schedule_validates_its_expression():
    assert CronSchedule("@hourly").spec()["schedule"] == "@hourly"
    with pytest.raises(DefinitionError, match="out of range 0-23"):
        CronSchedule("0 24 * * *")


def test_every_weekday_of_a_year():
    # 2026: 261 weekdays; the count of fires over a whole year matches the calendar
    cron, t, n = parse_cron("0 12 * * 1-5"), at("2025-12-31T23:59"), 0
    while (t := cron.next_after(t)) < at("2027-01-01T00:00"):
        n += 1
    weekdays = sum(
        1
        for m in range(1, 13)
        for d in range(1, calendar.monthrange(2026, m)[1] + 1)
        if calendar.weekday(2026, m, d) < 5
    )
    assert n == weekdays == 261
