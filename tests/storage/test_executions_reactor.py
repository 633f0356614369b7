"""Contract of the counts storage/executions.py gives the reactor and ``/metrics``."""

from __future__ import annotations

import pytest

from headwater.storage import executions as ex

from ._reactive_db import add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _add(tx, i: int, status: str, lp: int | None = None, **more) -> None:
    ex.insert_execution(
        tx,
        id=f"x{i}",
        project="p",
        domain="d",
        workflow="mod.wf",
        workflow_version="w1",
        status=status,
        inputs={},
        resolved={},
        created_at=float(i),
        launch_plan_id=lp,
        **more,
    )


def test_counts_on_an_empty_table(db):
    with db.read() as tx:
        assert ex.count_busy(tx, 1) == 0
        assert ex.count_by_status(tx) == {}
        assert ex.count_live_workers(tx, 0.0) == 0


def test_busy_counts_queued_and_running_of_one_plan(db):
    with db.transaction() as tx:
        lp = add_plan(tx, "a")
        other = add_plan(tx, "b")
        for i, status in enumerate(("queued", "running", "succeeded", "failed", "queued")):
            _add(tx, i, status, lp)
        _add(tx, 9, "queued", other)
        assert ex.count_busy(tx, lp) == 3
        assert ex.count_busy(tx, other) == 1
        assert ex.count_by_status(tx) == {"queued": 3, "running": 1, "succeeded": 1, "failed": 1}


def test_live_workers_hold_an_unexpired_lease(db):
    with db.transaction() as tx:
        _add(tx, 1, "running", worker="w1", lease_expires_at=100.0)
        _add(tx, 2, "running", worker="w1", lease_expires_at=100.0)
        _add(tx, 3, "running", worker="w2", lease_expires_at=10.0)
        _add(tx, 4, "succeeded", worker="w3", lease_expires_at=100.0)
        assert ex.count_live_workers(tx, 50.0) == 1
        assert ex.count_live_workers(tx, 5.0) == 2
