"""Contract of storage/trigger_state.py: the parts of AllOf triggers seen so far."""

from __future__ import annotations

import pytest

from headwater.storage import trigger_state as state
from headwater.storage.trigger_state import TriggerStateRow

from ._reactive_db import add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _add(tx, lp: int, part: int, seq: int, t: float, corr: str = "2026-05-01") -> None:
    state.add_part(
        tx,
        launch_plan_id=lp,
        trigger_path="0",
        correlation=corr,
        part=part,
        event_id=f"e{seq}",
        event_seq=seq,
        event_time=t,
    )


def _seen(tx, lp: int, corr: str = "2026-05-01") -> list[tuple[int, int]]:
    return state.seen_parts(tx, launch_plan_id=lp, trigger_path="0", correlation=corr)


def test_parts_are_listed_by_event_seq_per_correlation(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        _add(tx, lp, 1, 12, 100.0)
        _add(tx, lp, 0, 10, 90.0)
        _add(tx, lp, 0, 11, 95.0, corr="2026-05-02")
        assert _seen(tx, lp) == [(0, 10), (1, 12)]
        assert _seen(tx, lp, "2026-05-02") == [(0, 11)]
        assert _seen(tx, lp, "nothing") == []
        rows = state.list_state(tx, lp)
    assert rows[0] == TriggerStateRow(rows[0].id, lp, "0", "2026-05-01", 1, "e12", 12, 100.0)
    assert [r.event_seq for r in rows] == [12, 10, 11]


def test_the_window_drops_parts_older_than_it(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        _add(tx, lp, 0, 1, 10.0)
        _add(tx, lp, 0, 2, 50.0)
        _add(tx, lp, 1, 3, 100.0)
        _add(tx, lp, 0, 4, 10.0, corr="other")
        state.drop_older(
            tx, launch_plan_id=lp, trigger_path="0", correlation="2026-05-01", oldest=50.0
        )
        assert _seen(tx, lp) == [(0, 2), (1, 3)]
        assert _seen(tx, lp, "other") == [(0, 4)]


def test_a_firing_drops_the_parts_it_consumed_and_keeps_later_ones(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        for seq, part in ((1, 0), (2, 1), (3, 0)):
            _add(tx, lp, part, seq, float(seq))
        state.drop_through(
            tx, launch_plan_id=lp, trigger_path="0", correlation="2026-05-01", last_seq=2
        )
        assert _seen(tx, lp) == [(0, 3)]
