"""Contract of storage/firings.py: one firing per key, the reactor's exactly-once."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.storage import firings
from headwater.storage.firings import FiringRow

from ._reactive_db import add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _firing(lp: int, key: str, execution: str, path: str = "0") -> dict[str, Any]:
    return {"lp": lp, "path": path, "key": key, "e": execution, "t": 5.0}


def test_a_second_firing_for_the_same_key_is_ignored(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        added = firings.insert_firings(tx, [_firing(lp, "7", "x1"), _firing(lp, "8", "x2")])
    with db.transaction() as tx:
        again = firings.insert_firings(tx, [_firing(lp, "7", "y1"), _firing(lp, "9", "y2")])
        kept = firings.fired_execution(tx, lp, "0", "7")
        new = firings.fired_execution(tx, lp, "0", "9")
        row = firings.get_firing(tx, lp, "0", "7")
    assert (added, again) == (2, 1)  # only key 9 is new the second time
    assert kept == "x1"
    assert new == "y2"
    assert row == FiringRow(row.id if row else 0, lp, "0", "7", "x1", 5.0)


def test_the_key_is_per_launch_plan_version_and_trigger(db):
    with db.transaction() as tx:
        lp1 = add_plan(tx, "a", "v1")
        lp2 = add_plan(tx, "a", "v2")
        firings.insert_firings(
            tx,
            [_firing(lp1, "7", "x1"), _firing(lp2, "7", "x2"), _firing(lp1, "7", "x3", path="1")],
        )
        stored = [
            firings.fired_execution(tx, lp1, "0", "7"),
            firings.fired_execution(tx, lp2, "0", "7"),
            firings.fired_execution(tx, lp1, "1", "7"),
        ]
    assert stored == ["x1", "x2", "x3"]


def test_a_missing_firing_is_none_and_nothing_to_insert_adds_nothing(db):
    with db.transaction() as tx:
        assert firings.insert_firings(tx, []) == 0
        assert firings.fired_execution(tx, 1, "0", "7") is None
        assert firings.get_firing(tx, 1, "0", "7") is None
        assert firings.max_id(tx) == 0


def test_counting_after_an_id(db):
    with db.transaction() as tx:
        lp = add_plan(tx)
        firings.insert_firings(tx, [_firing(lp, str(k), f"x{k}") for k in range(3)])
        first = firings.max_id(tx)
        firings.insert_firings(tx, [_firing(lp, "9", "x9"), _firing(lp, "0", "again")])
        top = firings.max_id(tx)
        assert firings.count_between(tx, 0, top) == 4
        assert firings.count_between(tx, first, top) == 1
        assert firings.count_between(tx, top, top) == 0
