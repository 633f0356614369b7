"""Outages in ``storage/db.py``: what the caller gets when the database cannot be used
(``DatabaseUnavailable``, never a driver error), that errors in the caller's SQL are left as
they are, that ``retrying`` starts work over, and that a ``Database`` carries on after the
PostgreSQL server dropped its connections. Server restarts: test_reconnect.py."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import _pg
from headwater.errors import DatabaseUnavailable, StorageError
from headwater.storage.db import Database

from ._dbkit import create_tables, keys


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    create_tables(database)
    yield database
    database.close()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    create_tables(database)
    yield database
    database.close()


def terminate_sessions(url: str) -> int:
    """``pg_terminate_backend`` every session on the database of ``url``, from another one,
    waiting until they have ended (a session ended a moment ago may still look alive to the
    pool, and a read on it fails with ``DatabaseUnavailable``: not what this is about)."""
    with psycopg.connect(_pg.libpq_url(url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid, 30000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def hold_connections(db: Database, n: int) -> None:
    """Make the pool hold ``n`` idle connections: ``n`` threads read at the same time."""
    barrier = threading.Barrier(n)

    def read() -> None:
        with db.read() as tx:
            barrier.wait(30)
            tx.scalar("SELECT 1")

    threads = [threading.Thread(target=read) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


# -- PostgreSQL drops the connection -------------------------------------------------------


def test_transactions_and_reads_carry_on_after_the_server_ends_every_session(
    pg: Database,
) -> None:
    hold_connections(pg, 3)
    assert terminate_sessions(pg.url) >= 3
    with pg.transaction() as tx:  # a fresh connection, without an error for the caller
        tx.execute("INSERT INTO t (k) VALUES (1)")
    assert keys(pg) == [1]
    pg.ping()
    hold_connections(pg, 3)
    assert terminate_sessions(pg.url) >= 3
    assert keys(pg) == [1]


def test_a_transaction_cut_off_midway_commits_nothing_and_retrying_runs_it_whole(
    pg: Database,
) -> None:
    calls = []

    def write() -> None:
        calls.append(1)
        with pg.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (7)")
            if len(calls) == 1:  # the server ends this session in the middle
                tx.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            tx.execute("INSERT INTO t (k) VALUES (8)")

    with pytest.raises(DatabaseUnavailable, match="PostgreSQL server at") as raised:
        write()
    assert isinstance(raised.value.__cause__, psycopg.Error)  # the driver's words kept
    assert keys(pg) == []

    pg.retrying(write, first_delay=0.01)
    assert len(calls) == 2
    assert keys(pg) == [7, 8]


def test_a_deadlock_is_unavailable_for_one_writer_and_the_other_commits(pg: Database) -> None:
    """Two transactions locking two rows in opposite orders: the server ends one of them
    (deadlock_detected), which the caller may try again; the other one commits."""
    insert_rows = "INSERT INTO t (k, v) VALUES (1, 'a'), (2, 'a')"
    with pg.transaction() as tx:
        tx.execute(insert_rows)
    both = threading.Barrier(2)
    outcome: dict[int, BaseException | None] = {}

    def lock(first: int, second: int) -> None:
        try:
            with pg.transaction() as tx:
                tx.execute("UPDATE t SET v = :v WHERE k = :k", {"v": f"w{first}", "k": first})
                both.wait(30)
                tx.execute("UPDATE t SET v = :v WHERE k = :k", {"v": f"w{first}", "k": second})
            outcome[first] = None
        except BaseException as exc:
            outcome[first] = exc

    threads = [threading.Thread(target=lock, args=ks) for ks in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    failed = [e for e in outcome.values() if e is not None]
    assert len(outcome) == 2 and len(failed) == 1, outcome
    assert isinstance(failed[0], DatabaseUnavailable), failed[0]
    assert "deadlock" in str(failed[0])
    winner = next(k for k, e in outcome.items() if e is None)
    with pg.read() as tx:
        assert {r["v"] for r in tx.all("SELECT v FROM t")} == {f"w{winner}"}


# -- unavailable, not a driver error -------------------------------------------------------


def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    db = Database(f"sqlite:///{folder}/h.db")  # creates the folder
    shutil.rmtree(folder)
    try:
        for use in (db.ping, lambda: keys(db)):
            with pytest.raises(DatabaseUnavailable, match=f"{folder}/h.db cannot be used now"):
                use()
        folder.mkdir()  # back: the next use opens it
        create_tables(db)
        assert keys(db) == []
    finally:
        db.close()


def test_a_postgresql_server_that_is_not_there_is_unavailable() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = Database(f"postgresql+psycopg://nobody:pw@127.0.0.1:{port}/hw")
    try:
        with pytest.raises(DatabaseUnavailable, match=f"cannot connect to PostgreSQL at .*:{port}"):
            db.ping()
        with pytest.raises(DatabaseUnavailable) as raised, db.transaction():
            pass
        assert "pw" not in str(raised.value)  # the password is never shown
    finally:
        db.close()


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT nope FROM t", "INSERT INTO t (k) VALUES ('x')"])
def test_errors_in_the_callers_sql_are_left_as_the_drivers_errors(db: Database, sql: str) -> None:
    if db.dialect == "sqlite" and sql.startswith("INSERT"):
        sql = "INSERT INTO t (k) VALUES (NULL, 1)"  # SQLite would store 'x' in an INTEGER
    with pytest.raises((sqlite3.Error, psycopg.Error)) as raised, db.transaction() as tx:
        tx.execute(sql)
    assert not isinstance(raised.value, StorageError)
    with pytest.raises((sqlite3.Error, psycopg.Error)) as raised, db.read() as tx:
        tx.execute(sql)
    assert not isinstance(raised.value, StorageError)
    assert keys(db) == []  # still usable


# -- retrying ------------------------------------------------------------------------------


def test_retrying_starts_over_while_unavailable_then_gives_up_with_the_last_error(
    db: Database,
) -> None:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (:k)", {"k": len(calls)})
            if len(calls) < 3:
                raise DatabaseUnavailable(f"outage {len(calls)}")
        return len(calls)

    assert db.retrying(flaky, first_delay=0.001) == 3
    assert keys(db) == [3]  # the failed attempts were rolled back

    calls.clear()

    def down() -> None:
        calls.append(1)
        raise DatabaseUnavailable(f"outage {len(calls)}")

    with pytest.raises(DatabaseUnavailable, match="outage 3"):
        db.retrying(down, attempts=3, first_delay=0.001)
    assert len(calls) == 3


def test_retrying_does_not_repeat_other_errors(db: Database) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (1)")
            tx.execute("INSERT INTO t (k) VALUES (1)")

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        db.retrying(broken, first_delay=0.001)
    assert calls == [1] and keys(db) == []
