"""Contract of storage/reactor_inbox.py (with ``events.pending_events``, which reads it)."""

from __future__ import annotations

import pytest

from headwater.storage import reactor_inbox
from headwater.storage.events import pending_events

from ._reactive_db import add_event, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_an_empty_inbox(db):
    with db.read() as tx:
        assert reactor_inbox.any_pending(tx) is False
        assert reactor_inbox.backlog(tx) == 0
        assert reactor_inbox.is_pending(tx, 1) is False
        assert pending_events(tx, 10) == []


def test_events_are_claimed_oldest_first_and_deleted_once_decided(db):
    with db.transaction() as tx:
        seqs = [add_event(tx, f"e{i}") for i in range(5)]
    with db.transaction() as tx:
        first = pending_events(tx, 2)
        assert [r.seq for r in first] == seqs[:2]
        reactor_inbox.delete(tx, [r.seq for r in first])
    with db.read() as tx:
        assert reactor_inbox.backlog(tx) == 3
        assert reactor_inbox.any_pending(tx) is True
        assert reactor_inbox.is_pending(tx, seqs[0]) is False
        assert reactor_inbox.is_pending(tx, seqs[2]) is True
        assert [r.seq for r in pending_events(tx, 10)] == seqs[2:]


def test_an_inbox_row_is_written_with_its_event_only(db):
    with db.transaction() as tx:
        seq = add_event(tx, "e1")
        reactor_inbox.delete(tx, [seq])
        reactor_inbox.insert(tx, seq)  # put back by hand: the event is pending again
    with db.read() as tx:
        assert [r.id for r in pending_events(tx, 10)] == ["e1"]


def test_a_rolled_back_claim_leaves_the_events_pending(db):
    with db.transaction() as tx:
        seqs = [add_event(tx, f"e{i}") for i in range(3)]

    class Crash(Exception):
        pass

    with pytest.raises(Crash), db.transaction() as tx:
        reactor_inbox.delete(tx, [r.seq for r in pending_events(tx, 3)])
        raise Crash
    with db.read() as tx:
        assert [r.seq for r in pending_events(tx, 10)] == seqs
