"""storage/leases.py and engine/leader.py on both backends: one holder at a time, the lock
is free again when its holder lets go, and a standby takes over then."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.engine import leader
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import leases
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def test_one_holder_per_role_until_it_lets_go(db: Database) -> None:
    first, second = leases.LeaderLock(db, "reactor"), leases.LeaderLock(db, "reactor")
    other_role = leases.LeaderLock(db, "scheduler")
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # again: still ours
        assert first.still_held()
        assert not second.try_acquire()
        assert other_role.try_acquire()  # roles do not block each other
        first.release()
        assert not first.still_held()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        for lock in (first, second, other_role):
            lock.release()


def test_the_holder_is_recorded_with_the_one_before(db: Database) -> None:
    with db.transaction() as tx:
        assert leases.record_holder(tx, role="reactor", holder="a:1", now=10.0) is None
    with db.transaction() as tx:
        before = leases.record_holder(tx, role="reactor", holder="b:2", now=20.0)
    assert before is not None and (before.holder, before.since) == ("a:1", 10.0)
    with db.read() as tx:
        now = leases.current_holder(tx, role="reactor")
        assert leases.current_holder(tx, role="scheduler") is None
    assert now is not None and now.holder == "b:2"


def test_a_standby_acts_only_once_the_leader_lets_go(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inst = Instance(Settings.from_env({}, home=tmp_path, database_url=database_url))
    held = leases.LeaderLock(inst.db, "reactor")  # another process's lead, in effect
    stop, acting = threading.Event(), threading.Event()

    def act(resign: threading.Event) -> None:
        acting.set()
        resign.wait()

    caplog.set_level("INFO", logger="headwater.leader")
    try:
        with inst.db.transaction() as tx:
            leases.record_holder(tx, role="reactor", holder="elsewhere:1", now=1.0)
        assert held.try_acquire()
        standby = threading.Thread(
            target=leader.lead, args=(inst, "reactor", stop, act), kwargs={"try_every": 0.05}
        )
        standby.start()
        assert not acting.wait(0.5)  # stands by while the lock is held elsewhere
        assert leader.ROLES["reactor"] == "standby"
        held.release()
        assert acting.wait(30)
        assert leader.ROLES["reactor"] == "leader"
        stop.set()
        standby.join(30)
        assert not standby.is_alive()
        assert "reactor: standby -> leader after elsewhere:1 went away" in caplog.text
        assert held.try_acquire()  # it let go when it stopped
    finally:
        stop.set()
        held.release()
        inst.close()
