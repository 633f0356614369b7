"""PostgreSQL push (storage/notify.py): a NOTIFY goes out with the COMMIT of the change it
announces, and a listener whose connection was terminated LISTENs again by itself."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

import _pg
from headwater.storage import notify
from headwater.storage.db import Database

pytestmark = pytest.mark.postgres

CHANNEL = notify.EVENTS


@pytest.fixture
def db(postgres_url: str) -> Database:
    database = Database(postgres_url)
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    yield database  # type: ignore[misc]
    database.close()


@pytest.fixture
def listener(db: Database) -> notify.Listener:
    lis = notify.Listener(db, CHANNEL, name="test listener")
    assert lis.connect()  # the first connection: the caller should look for work once
    yield lis  # type: ignore[misc]
    lis.close()


def test_a_notification_arrives_only_once_its_transaction_commits(
    db: Database, listener: notify.Listener
) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        tx.notify(CHANNEL)
        tx.notify(CHANNEL)  # announced once per transaction
        assert not listener.wait(0.3), "heard of a change before its COMMIT"
    assert listener.wait(10)
    assert not listener.wait(0.3), "one transaction woke the listener twice"


def test_a_rolled_back_transaction_notifies_nobody(db: Database, listener: notify.Listener) -> None:
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (2)")
        tx.notify(CHANNEL)
        raise RuntimeError("abandon")
    assert not listener.wait(0.5)


def test_push_turned_off_sends_nothing(
    db: Database, listener: notify.Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(notify.ENV, "0")
    assert not notify.Listener.wanted(db)
    with db.transaction() as tx:
        tx.notify(CHANNEL)
    assert not listener.wait(0.5)


def test_a_terminated_listening_connection_is_replaced_and_says_so(
    db: Database, listener: notify.Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "headwater.storage")
    with psycopg.connect(_pg.libpq_url(db.url), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
        )
    # Woken by the loss, then by the new connection: both mean "look for work now".
    woken = 0
    deadline = time.monotonic() + 20
    while woken < 2 and time.monotonic() < deadline:
        woken += listener.wait(1.0)
    assert woken >= 1
    with db.transaction() as tx:
        tx.notify(CHANNEL)
    assert listener.wait(10), "the replaced connection does not LISTEN"
    assert "listening connection replaced" in caplog.text


def test_a_stop_ends_a_wait_early(listener: notify.Listener) -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert not listener.wait(60, stop)
    assert time.monotonic() - started < 30
