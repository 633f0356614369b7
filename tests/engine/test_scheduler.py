"""The scheduler turns due schedule ticks into events, once each (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headwater.engine.react import scheduler
from headwater.engine.react.scheduler import EVENT_NAME, next_wakeup, tick
from headwater.storage.events import list_events
from headwater.storage.launch_plan_state import set_active
from headwater.storage.launch_plans import insert_launch_plan
from headwater.storage.schedule_state import get_schedule

from .conftest import count

HOURLY = {"kind": "cron", "schedule": "0 * * * *", "kickoff_time_input_arg": None, "timezone": None}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def plan(
    inst: Any,
    schedule: dict[str, Any] | None = HOURLY,
    *,
    name: str = "nightly",
    version: str = "v1",
    activate: bool = True,
) -> int:
    with inst.db.transaction() as tx:
        lp_id = insert_launch_plan(
            tx,
            project=inst.project,
            domain=inst.domain,
            name=name,
            version=version,
            workflow="pipelines.wf",
            workflow_version="w1",
            spec={"workflow": "pipelines.wf", "schedule": schedule, "triggers": []},
            now=time.time(),
        )
        if activate:
            set_active(tx, inst.project, inst.domain, name, lp_id, time.time())
    return lp_id


def deactivate(inst: Any, name: str = "nightly") -> None:
    with inst.db.transaction() as tx:
        set_active(tx, inst.project, inst.domain, name, None, time.time())


def state(inst: Any, lp_id: int) -> tuple[Any, Any]:
    with inst.db.read() as tx:
        row = get_schedule(tx, lp_id)
    if row is None:
        return None, None
    iso = lambda ts: None if ts is None or ts < 0 else datetime.fromtimestamp(ts, UTC).isoformat()  # noqa: E731
    return iso(row.next_fire_at), iso(row.last_fired_at)


def events(inst: Any) -> list[Any]:
    with inst.db.read() as tx:
        return list(reversed(list_events(tx, name=EVENT_NAME, limit=1000)))


def scheduled_times(inst: Any) -> list[str]:
    return [json.loads(e.payload)["scheduled_time"] for e in events(inst)]


def test_first_sight_fires_nothing_and_schedules_the_next_tick(instance):
    lp_id = plan(instance)
    assert tick(instance, now=at("2026-05-04T10:20")) == 0
    assert state(instance, lp_id) == ("2026-05-04T11:00:00+00:00", None)
    assert tick(instance, now=at("2026-05-04T10:59:59")) == 0
    assert events(instance) == []


def test_a_due_tick_emits_one_event(instance):
    lp_id = plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    assert tick(instance, now=at("2026-05-04T11:00:00.5")) == 1
    [event] = events(instance)
    assert event.id == f"schedule:{lp_id}:2026-05-04T11:00:00+00:00"
    assert event.name == "headwater.schedule.tick"
    assert event.source == "headwater://scheduler"
    assert (event.project, event.domain) == (instance.project, instance.domain)
    assert event.subject == "nightly"
    assert json.loads(event.payload) == {
        "launch_plan": "nightly",
        "launch_plan_id": lp_id,
        "launch_plan_version": "v1",
        "scheduled_time": "2026-05-04T11:00:00+00:00",
        "kickoff_time_input_arg": None,
    }
    assert state(instance, lp_id) == ("2026-05-04T12:00:00+00:00", "2026-05-04T11:00:00+00:00")
    assert tick(instance, now=at("2026-05-04T12:00")) == 1
    assert scheduled_times(instance)[-1] == "2026-05-04T12:00:00+00:00"


def test_ticking_twice_for_the_same_time_emits_one_event(instance):
    lp_id = plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    assert tick(instance, now=at("2026-05-04T11:00")) == 1
    assert tick(instance, now=at("2026-05-04T11:00")) == 0
    # A scheduler that read the state before it advanced: the event id dedupes the tick.
    with instance.db.transaction() as tx:
        tx.execute(
            "UPDATE schedule_state SET next_fire_at = :t WHERE launch_plan_id = :id",
            {"t": at("2026-05-04T11:00").timestamp(), "id": lp_id},
        )
    assert tick(instance, now=at("2026-05-04T11:00:30")) == 0
    assert count(instance, "events") == 1
    assert state(instance, lp_id)[0] == "2026-05-04T12:00:00+00:00"


def test_concurrent_schedulers_emit_one_event_per_tick(instance):
    plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            results.append(tick(instance, now=at("2026-05-04T11:00:01")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [0, 0, 0, 1]
    assert scheduled_times(instance) == ["2026-05-04T11:00:00+00:00"]


def test_missed_ticks_fire_the_most_recent_once_then_continue(instance):
    lp_id = plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    # the machine was off for a day: 24 hourly ticks missed, one fires
    assert tick(instance, now=at("2026-05-05T10:20")) == 1
    assert scheduled_times(instance) == ["2026-05-05T10:00:00+00:00"]
    assert state(instance, lp_id) == ("2026-05-05T11:00:00+00:00", "2026-05-05T10:00:00+00:00")
    assert tick(instance, now=at("2026-05-05T10:59")) == 0
    assert tick(instance, now=at("2026-05-05T11:00")) == 1


@pytest.mark.parametrize(
    ("schedule", "off_until", "expected"),
    [
        ("@daily", "2026-05-09T13:00", "2026-05-09T00:00:00+00:00"),
        ("*/5 * * * *", "2026-06-20T08:33", "2026-06-20T08:30:00+00:00"),
        ("0 9 * * MON-FRI", "2026-05-10T23:00", "2026-05-08T09:00:00+00:00"),
        ("0 0 1 * *", "2027-03-15T00:00", "2027-03-01T00:00:00+00:00"),
        ("0 0 29 2 *", "2033-01-01T00:00", "2032-02-29T00:00:00+00:00"),
    ],
)
def test_catch_up_finds_the_most_recent_missed_tick(instance, schedule, off_until, expected):
    plan(instance, {**HOURLY, "schedule": schedule})
    tick(instance, now=at("2026-05-04T10:20"))
    assert tick(instance, now=at(off_until)) == 1
    assert scheduled_times(instance) == [expected]


def test_a_deactivated_plan_emits_nothing_and_starts_afresh_when_reactivated(instance):
    lp_id = plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    deactivate(instance)
    assert tick(instance, now=at("2026-05-04T11:00")) == 0
    assert tick(instance, now=at("2026-05-04T15:00")) == 0
    assert events(instance) == []
    assert state(instance, lp_id) == (None, None)  # parked
    with instance.db.transaction() as tx:
        set_active(tx, instance.project, instance.domain, "nightly", lp_id, time.time())
    # first sight again: no catch-up for the time it was inactive
    assert tick(instance, now=at("2026-05-04T16:30")) == 0
    assert state(instance, lp_id) == ("2026-05-04T17:00:00+00:00", None)
    assert tick(instance, now=at("2026-05-04T17:00")) == 1
    deactivate(instance)
    tick(instance, now=at("2026-05-04T17:10"))
    assert state(instance, lp_id) == (None, "2026-05-04T17:00:00+00:00")  # last fire kept


def test_only_the_active_version_is_scheduled(instance):
    v1 = plan(instance)
    tick(instance, now=at("2026-05-04T10:20"))
    v2 = plan(instance, {**HOURLY, "schedule": "30 * * * *"}, version="v2")
    assert tick(instance, now=at("2026-05-04T10:40")) == 0
    assert state(instance, v1) == (None, None)
    assert state(instance, v2) == ("2026-05-04T11:30:00+00:00", None)
    assert tick(instance, now=at("2026-05-04T11:30")) == 1
    [event] = events(instance)
    assert json.loads(event.payload)["launch_plan_version"] == "v2"
    assert event.id == f"schedule:{v2}:2026-05-04T11:30:00+00:00"


def test_plans_without_a_schedule_or_inactive_are_ignored(instance):
    plan(instance, None, name="triggered")
    inactive = plan(instance, name="later", activate=False)
    assert tick(instance, now=at("2026-05-04T10:20")) == 0
    assert count(instance, "schedule_state") == 0
    assert state(instance, inactive) == (None, None)


def test_fixed_rate(instance):
    spec = {"kind": "rate", "seconds": 600.0, "kickoff_time_input_arg": "kickoff"}
    lp_id = plan(instance, spec)
    assert tick(instance, now=at("2026-05-04T10:20:30.25")) == 0
    assert state(instance, lp_id)[0] == "2026-05-04T10:30:30+00:00"
    assert tick(instance, now=at("2026-05-04T10:30:29")) == 0
    assert tick(instance, now=at("2026-05-04T10:30:30")) == 1
    payload = json.loads(events(instance)[0].payload)
    assert payload["scheduled_time"] == "2026-05-04T10:30:30+00:00"
    assert payload["kickoff_time_input_arg"] == "kickoff"
    # missed 10:40:30 .. 11:10:30: the last one fires, the grid is kept
    assert tick(instance, now=at("2026-05-04T11:15")) == 1
    assert scheduled_times(instance)[-1] == "2026-05-04T11:10:30+00:00"
    assert state(instance, lp_id) == ("2026-05-04T11:20:30+00:00", "2026-05-04T11:10:30+00:00")


def test_cron_in_a_timezone(instance):
    spec = {**HOURLY, "schedule": "0 9 * * *", "timezone": "Europe/Berlin"}
    lp_id = plan(instance, spec)
    tick(instance, now=at("2026-03-28T12:00"))
    assert state(instance, lp_id)[0] == "2026-03-29T07:00:00+00:00"  # 09:00 CEST
    assert tick(instance, now=at("2026-03-29T07:00")) == 1
    assert state(instance, lp_id)[0] == "2026-03-30T07:00:00+00:00"


def test_a_broken_schedule_is_skipped_and_the_others_still_fire(instance, caplog):
    plan(instance, {**HOURLY, "timezone": "Mars/Olympus"}, name="broken")
    plan(instance)
    caplog.set_level(logging.WARNING, logger="headwater.engine.react.scheduler")
    tick(instance, now=at("2026-05-04T10:20"))
    assert tick(instance, now=at("2026-05-04T11:00")) == 1
    assert "unknown time zone 'Mars/Olympus'" in caplog.text
    assert "broken" in caplog.text


def test_tick_needs_an_aware_time(instance):
    with pytest.raises(ValueError, match="timezone-aware"):
        tick(instance, now=datetime(2026, 5, 4, 10, 20))


def test_next_wakeup(instance):
    assert next_wakeup(instance) is None
    plan(instance, {"kind": "rate", "seconds": 30.0, "kickoff_time_input_arg": None})
    tick(instance)
    wait = next_wakeup(instance)
    assert wait is not None and 25 <= wait <= 30
    deactivate(instance)
    assert next_wakeup(instance) is None


def test_run_loops_until_stopped(instance):
    plan(instance, {"kind": "rate", "seconds": 1.0, "kickoff_time_input_arg": None})
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(instance, stop, 0.05))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while count(instance, "events") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    times = [datetime.fromisoformat(t) for t in scheduled_times(instance)]
    assert len(times) >= 2
    assert times[1] - times[0] == timedelta(seconds=1)
