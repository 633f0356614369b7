"""Writers at the same time, on SQLite and PostgreSQL: from threads sharing a ``Database``,
threads with one each, and separate processes, no update is lost; ``transaction_now`` takes
the write lock at once or raises ``Busy`` without waiting."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headwater.errors import Busy
from headwater.storage.db import Database

from ._dbkit import (
    counter,
    create_tables,
    increment,
    increment_now_or_later,
    keys,
    write_from_a_process,
)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    create_tables(database)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/now.db")
    create_tables(database)
    yield database
    database.close()


def run_threads(n: int, target: Callable[[int], None]) -> None:
    """``target(i)`` in ``n`` threads started together; re-raises the first failure."""
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait(30)
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"
    if errors:
        raise errors[0]


# -- transaction() -------------------------------------------------------------------------


@pytest.mark.parametrize("databases", ["shared", "one each"])
def test_concurrent_read_modify_writes_lose_no_update(db: Database, databases: str) -> None:
    threads, each = 6, 10
    own: list[Database] = []

    def work(i: int) -> None:
        mine = db
        if databases == "one each":
            mine = Database(db.url)
            own.append(mine)
        for j in range(each):
            with mine.transaction() as tx:
                tx.execute("INSERT INTO t (k) VALUES (:k)", {"k": i * 100 + j})
                increment(tx)

    try:
        run_threads(threads, work)
    finally:
        for d in own:
            d.close()
    assert counter(db) == threads * each
    assert keys(db) == sorted(i * 100 + j for i in range(threads) for j in range(each))


def test_writers_in_two_processes_and_this_one_lose_no_update(db: Database) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(3)
    count = 15
    procs = [
        ctx.Process(target=write_from_a_process, args=(db.url, first, count, start))
        for first in (1000, 2000)
    ]
    for p in procs:
        p.start()
    try:
        start.wait(120)
        for k in range(count):
            with db.transaction() as tx:
                tx.execute("INSERT INTO t (k) VALUES (:k)", {"k": k})
                increment(tx)
    finally:
        for p in procs:
            p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert counter(db) == 3 * count
    assert keys(db) == [*range(count), *range(1000, 1000 + count), *range(2000, 2000 + count)]


# -- transaction_now() ---------------------------------------------------------------------


def test_transaction_now_commits_and_rolls_back_like_transaction(sqlite_db: Database) -> None:
    db = sqlite_db
    with db.transaction_now() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        increment(tx)
    with pytest.raises(RuntimeError), db.transaction_now() as tx:
        tx.execute("INSERT INTO t (k) VALUES (2)")
        raise RuntimeError("roll back")
    assert keys(db) == [1] and counter(db) == 1


def test_blocks_inside_transaction_now_join_it(sqlite_db: Database) -> None:
    """A read or a transaction() opened inside ``transaction_now`` sees and shares its writes
    (one transaction, rolled back together)."""
    db = sqlite_db
    with pytest.raises(RuntimeError), db.transaction_now() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        with db.read() as inner:
            assert inner.scalar("SELECT COUNT(*) FROM t") == 1
        with db.transaction() as inner:
            inner.execute("INSERT INTO t (k) VALUES (2)")
        raise RuntimeError("roll back")
    with db.transaction_now() as tx:
        tx.execute("INSERT INTO t (k) VALUES (3)")
    assert keys(db) == [3]


def test_transaction_now_is_busy_at_once_while_another_writer_holds_the_lock(
    sqlite_db: Database,
) -> None:
    """...and a plain ``transaction()`` afterwards still waits for the lock (the busy
    timeout ``transaction_now`` lowers is restored)."""
    db = sqlite_db
    writer = Database(db.url)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (1)")
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.raises(Busy), db.transaction_now() as tx:
            tx.execute("INSERT INTO t (k) VALUES (2)")
        # Release the other writer only a little later: a transaction() that did not wait
        # for it would fail at once with DatabaseUnavailable (locked).
        timer = threading.Timer(0.3, release.set)
        timer.start()
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (3)")
    finally:
        release.set()
        thread.join(30)
        writer.close()
    assert keys(db) == [1, 3]


def test_transaction_now_inside_a_transaction_is_busy_and_leaves_it_alone(
    db: Database,
) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        with pytest.raises(Busy, match="use transaction"), db.transaction_now():
            pass
        tx.execute("INSERT INTO t (k) VALUES (2)")
    assert keys(db) == [1, 2]


def test_transaction_now_on_postgresql_is_always_busy(postgres_url: str) -> None:
    """Any PostgreSQL statement may wait on the server: callers hand the write to a thread."""
    db = Database(postgres_url)
    try:
        create_tables(db)
        with pytest.raises(Busy, match="use transaction"), db.transaction_now():
            pass
        assert increment_now_or_later(db) is True
        assert counter(db) == 1
    finally:
        db.close()


def test_writers_using_transaction_now_and_falling_back_serialize(db: Database) -> None:
    """N threads, each with its own ``Database``, increment as the HTTP server writes
    (``transaction_now``, and ``transaction()`` when busy): exactly N increments each."""
    threads, each = 6, 10
    own = [Database(db.url) for _ in range(threads)]
    try:
        run_threads(threads, lambda i: [increment_now_or_later(own[i]) for _ in range(each)])
    finally:
        for d in own:
            d.close()
    assert counter(db) == threads * each
