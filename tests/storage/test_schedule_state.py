"""Contract of storage/schedule_state.py: the next tick of each scheduled launch plan."""

from __future__ import annotations

import pytest

from headwater.storage import schedule_state as sched
from headwater.storage.launch_plan_state import set_active
from headwater.storage.schedule_state import ScheduleStateRow

from ._reactive_db import add_plan, migrated

PARKED = -1.0


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_start_inserts_then_only_restarts_a_parked_row(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        assert sched.get_schedule(tx, lp) is None
        sched.start(tx, lp, 100.0, PARKED)
        sched.start(tx, lp, 200.0, PARKED)  # not parked: unchanged
        assert sched.get_schedule(tx, lp) == ScheduleStateRow(lp, 100.0, None)
        sched.park(tx, lp, PARKED)
        assert sched.next_fire_times(tx) == {lp: PARKED}
        sched.start(tx, lp, 300.0, PARKED)
        assert sched.next_fire_times(tx) == {lp: 300.0}


def test_advance_is_a_compare_and_set(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        sched.start(tx, lp, 100.0, PARKED)
        assert sched.advance(tx, lp, due=100.0, next_fire_at=160.0, fired=100.0) is True
        assert sched.advance(tx, lp, due=100.0, next_fire_at=999.0, fired=100.0) is False
        assert sched.get_schedule(tx, lp) == ScheduleStateRow(lp, 160.0, 100.0)
        assert sched.advance(tx, lp + 1000, due=1.0, next_fire_at=2.0, fired=1.0) is False


def test_parking_keeps_the_last_tick(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        sched.start(tx, lp, 100.0, PARKED)
        sched.advance(tx, lp, due=100.0, next_fire_at=160.0, fired=100.0)
        sched.park(tx, lp, PARKED)
        assert sched.get_schedule(tx, lp) == ScheduleStateRow(lp, PARKED, 100.0)


def test_earliest_counts_active_unparked_plans_only(db):
    with db.transaction() as tx:
        assert sched.earliest_active(tx) is None
        a = add_plan(tx, "a")
        b = add_plan(tx, "b")
        c = add_plan(tx, "c")
        sched.start(tx, a, 500.0, PARKED)
        sched.start(tx, b, 100.0, PARKED)  # earlier, but b is not active
        sched.start(tx, c, 50.0, PARKED)
        sched.park(tx, c, PARKED)
        set_active(tx, "p", "d", "a", a, 1.0)
        set_active(tx, "p", "d", "c", c, 1.0)
        assert sched.earliest_active(tx) == 500.0
        set_active(tx, "p", "d", "b", b, 2.0)
        assert sched.earliest_active(tx) == 100.0
