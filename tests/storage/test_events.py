"""Contract of storage/events.py: the append-only event log."""

from __future__ import annotations

import json

import pytest

from headwater.storage import events as event_rows
from headwater.storage import reactor_inbox
from headwater.storage.events import EventRow

from ._reactive_db import add_event, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_an_event_is_stored_once_per_source_and_id(db):
    with db.transaction() as tx:
        seq = event_rows.insert_event(
            tx,
            id="e1",
            name="order.placed",
            source="test://shop",
            project="p",
            domain="d",
            time=1234.5,
            payload={"b": 2, "a": 1},
            subject="order-7",
            attributes={"trace": "x"},
        )
        again = event_rows.insert_event(
            tx,
            id="e1",
            name="something.else",
            source="test://shop",
            project="p",
            domain="d",
            time=99.0,
            payload={},
        )
        other_source = add_event(tx, "e1", source="test://other")
        found = event_rows.find_event(tx, "e1", "test://shop")
        pending = reactor_inbox.backlog(tx)

    assert isinstance(seq, int)
    assert again is None
    assert other_source > seq
    assert found == EventRow(
        seq=seq,
        id="e1",
        name="order.placed",
        source="test://shop",
        subject="order-7",
        project="p",
        domain="d",
        time=1234.5,
        payload='{"a": 1, "b": 2}',
        attributes='{"trace": "x"}',
    )
    assert pending == 2  # the duplicate got no inbox row


def test_a_missing_event_is_none(db):
    with db.read() as tx:
        assert event_rows.find_event(tx, "nope", "test://src") is None
        assert event_rows.events_with_id(tx, "nope") == []
        assert event_rows.events_by_seq(tx, [12345]) == {}
        assert event_rows.name_seen(tx, "evt") is False


def test_rows_are_frozen(db):
    with db.transaction() as tx:
        add_event(tx, "e1")
        row = event_rows.find_event(tx, "e1", "test://src")
    assert row is not None
    with pytest.raises(AttributeError):
        row.name = "changed"  # type: ignore[misc]


def test_events_with_an_id_are_newest_first_and_limited(db):
    with db.transaction() as tx:
        seqs = [add_event(tx, "same", source=f"test://s{i}") for i in range(3)]
        add_event(tx, "different")
        found = event_rows.events_with_id(tx, "same")
        two = event_rows.events_with_id(tx, "same", limit=2)
    assert [r.seq for r in found] == seqs[::-1]
    assert [r.source for r in two] == ["test://s2", "test://s1"]


def test_list_filters_by_name_time_and_seq(db):
    with db.transaction() as tx:
        a = add_event(tx, "a", name="x", time=10.0)
        b = add_event(tx, "b", name="y", time=20.0)
        c = add_event(tx, "c", name="x", time=30.0)
    with db.read() as tx:
        assert [r.seq for r in event_rows.list_events(tx)] == [c, b, a]
        assert [r.seq for r in event_rows.list_events(tx, name="x")] == [c, a]
        assert [r.seq for r in event_rows.list_events(tx, since=20.0)] == [c, b]
        assert [r.seq for r in event_rows.list_events(tx, until=20.0)] == [a]
        assert [r.seq for r in event_rows.list_events(tx, after_seq=a)] == [b, c]
        assert [r.seq for r in event_rows.list_events(tx, limit=1)] == [c]
        assert all(isinstance(r, EventRow) for r in event_rows.list_events(tx))


def test_list_filters_by_source_and_project_and_pages_back_by_seq(db):
    with db.transaction() as tx:
        a = add_event(tx, "a", source="test://shop", time=10.0)
        b = add_event(tx, "b", source="test://bank", time=20.0)
        c = add_event(tx, "c", source="test://shop", time=30.0)
        event_rows.insert_event(
            tx,
            id="d",
            name="evt",
            source="test://shop",
            project="other",
            domain="d",
            time=40.0,
            payload={},
        )
    with db.read() as tx:
        mine = {"project": "p"}
        assert [r.seq for r in event_rows.list_events(tx, source="test://shop", **mine)] == [c, a]
        assert [r.seq for r in event_rows.list_events(tx, project="nobody")] == []
        first = event_rows.list_events(tx, limit=2, **mine)
        assert [r.seq for r in first] == [c, b]
        rest = event_rows.list_events(tx, limit=2, before_seq=first[-1].seq, **mine)
        assert [r.seq for r in rest] == [a]
        assert event_rows.list_events(tx, before_seq=a) == []
        window = event_rows.list_events(tx, since=10.0, until=30.0, before_seq=b)
        assert [r.seq for r in window] == [a]


def test_events_by_seq_and_between(db):
    with db.transaction() as tx:
        a = add_event(tx, "a", time=10.0)
        tick = add_event(tx, "t", name="headwater.schedule.tick", time=15.0)
        b = add_event(tx, "b", time=20.0, payload={"k": 1})
        c = add_event(tx, "c", time=30.0)
    with db.read() as tx:
        by_seq = event_rows.events_by_seq(tx, [b, a, 999999])
        assert set(by_seq) == {a, b}
        assert json.loads(by_seq[b].payload) == {"k": 1}
        between = event_rows.events_between(tx, 10.0, 30.0, except_name="headwater.schedule.tick")
        assert [r.seq for r in between] == [a, b]
        unbounded = event_rows.events_between(tx, 15.0, None, except_name="none")
        assert [r.seq for r in unbounded] == [tick, b, c]
        one = event_rows.events_between(tx, 0.0, None, except_name="none", seq=b)
        assert [r.seq for r in one] == [b]


def test_name_seen(db):
    with db.transaction() as tx:
        add_event(tx, "a", name="sensor.reading")
    with db.read() as tx:
        assert event_rows.name_seen(tx, "sensor.reading") is True
        assert event_rows.name_seen(tx, "sensor") is False
