"""The contract of ``storage/db.py`` that every storage module and the engine rely on, on
SQLite and PostgreSQL: when a transaction commits, what a rollback undoes, how nested blocks
share one connection, what reads see, and the small helpers (``Tx``, ``in_list``, ``close``).

Concurrency is in test_db_concurrency.py, outages and reconnecting in test_db_faults.py."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from headwater.errors import StorageError
from headwater.storage.db import Database, in_list

from ._dbkit import create_tables, keys

INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    create_tables(database)
    yield database
    database.close()


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """The same database through connections of its own, as another process sees it."""
    database = Database(db.url)
    yield database
    database.close()


def insert(db: Database, *ks: int) -> None:
    with db.transaction() as tx:
        for k in ks:
            tx.execute("INSERT INTO t (k) VALUES (:k)", {"k": k})


# -- commit and rollback -------------------------------------------------------------------


def test_a_transaction_commits_when_its_block_ends(db: Database, other: Database) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
        assert keys(other) == []  # not before
        assert tx.scalar("SELECT v FROM t WHERE k = 1") == "a"  # its own writes it sees
    assert keys(other) == [1]


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()], ids=type)
def test_an_exception_rolls_back_everything_and_propagates_as_it_is(
    db: Database, other: Database, error: BaseException
) -> None:
    with pytest.raises(type(error)) as raised, db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        tx.execute("UPDATE counter SET n = 5")
        raise error
    assert raised.value is error
    assert keys(db) == keys(other) == []
    with db.read() as tx:
        assert tx.scalar("SELECT n FROM counter") == 0
    insert(db, 2)  # the connection is usable again
    assert keys(other) == [2]


def test_a_failing_statement_rolls_back_the_transaction_and_raises_the_drivers_error(
    db: Database, other: Database
) -> None:
    insert(db, 1)
    with pytest.raises(INTEGRITY) as raised, db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (2)")
        tx.execute("INSERT INTO t (k) VALUES (1)")  # a constraint: a bug, not an outage
    assert not isinstance(raised.value, StorageError)
    assert keys(other) == [1]
    insert(db, 3)  # PostgreSQL: the connection is not left in an aborted transaction
    assert keys(other) == [1, 3]


# -- nesting -------------------------------------------------------------------------------


def test_nested_transactions_share_the_connection_and_only_the_outermost_commits(
    db: Database, other: Database
) -> None:
    with db.transaction() as outer:
        outer.execute("INSERT INTO t (k) VALUES (1)")
        with db.transaction() as inner:
            assert inner.scalar("SELECT COUNT(*) FROM t") == 1  # sees the outer's row
            inner.execute("INSERT INTO t (k) VALUES (2)")
            with db.transaction() as innermost:
                innermost.execute("INSERT INTO t (k) VALUES (3)")
        assert keys(other) == []  # the inner blocks' ends committed nothing
        with db.read() as r:  # a read inside sees the uncommitted rows too
            assert r.scalar("SELECT COUNT(*) FROM t") == 3
    assert keys(other) == [1, 2, 3]


def test_an_exception_out_of_a_nested_block_rolls_back_the_outer_block_too(
    db: Database, other: Database
) -> None:
    with pytest.raises(RuntimeError), db.transaction() as outer:
        outer.execute("INSERT INTO t (k) VALUES (1)")
        with db.transaction() as inner:
            inner.execute("INSERT INTO t (k) VALUES (2)")
            raise RuntimeError("roll back both")
    assert keys(other) == []
    insert(db, 3)
    assert keys(other) == [3]


def test_a_nested_block_is_not_a_savepoint(db: Database, other: Database) -> None:
    """An exception caught inside the outer block undoes nothing by itself: the outer block
    decides, and here it commits the inner block's row too."""
    with db.transaction() as outer:
        outer.execute("INSERT INTO t (k) VALUES (1)")
        with pytest.raises(RuntimeError), db.transaction() as inner:
            inner.execute("INSERT INTO t (k) VALUES (2)")
            raise RuntimeError("caught below")
    assert keys(other) == [1, 2]


def test_a_transaction_inside_a_read_commits_at_its_own_end(db: Database, other: Database) -> None:
    with db.read() as r:
        assert r.scalar("SELECT COUNT(*) FROM t") == 0
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (5)")
        assert keys(other) == [5]  # committed while the read block is still open
        assert r.scalar("SELECT COUNT(*) FROM t") == 1
        with pytest.raises(RuntimeError), db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (6)")
            raise RuntimeError("roll back this one only")
        assert r.scalar("SELECT COUNT(*) FROM t") == 1
    assert keys(other) == [5]


# -- what reads see ------------------------------------------------------------------------


def test_reads_see_committed_data_only(db: Database, other: Database) -> None:
    with other.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        with db.read() as r:
            assert r.all("SELECT k FROM t") == []
    with db.read() as r:
        assert [row["k"] for row in r.all("SELECT k FROM t")] == [1]


def test_a_read_block_is_not_a_snapshot_each_statement_sees_the_latest_commit(
    db: Database, other: Database
) -> None:
    with db.read() as r:
        assert r.scalar("SELECT COUNT(*) FROM t") == 0
        insert(other, 1)
        assert r.scalar("SELECT COUNT(*) FROM t") == 1


def test_a_transaction_open_in_one_thread_is_not_seen_or_joined_by_another(
    db: Database, other: Database
) -> None:
    """Blocks nest per thread: another thread's blocks use a connection of their own."""
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with db.transaction() as tx:
                tx.execute("INSERT INTO t (k) VALUES (1)")
                written.set()
                release.wait(30)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        except BaseException as exc:
            errors.append(exc)
            written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(30)
        assert keys(db) == []  # this thread's read: its own connection, committed data
    finally:
        release.set()
        thread.join(30)
    assert not errors, errors
    assert keys(db) == keys(other) == []


# -- Tx and in_list ------------------------------------------------------------------------


def test_tx_helpers_take_named_parameters_and_return_rows_by_column_name(db: Database) -> None:
    with db.transaction() as tx:
        changed = tx.many(
            "INSERT INTO t (k, v) VALUES (:k, :v)", [{"k": k, "v": f"v{k}"} for k in (3, 1, 2)]
        )
        assert changed.rowcount == 3
        assert tx.many("INSERT INTO t (k, v) VALUES (:k, :v)", []) is None
        row = tx.one("SELECT k, v FROM t WHERE k = :k", {"k": 2})
        assert (row["k"], row["v"]) == (2, "v2")
        assert tx.one("SELECT k FROM t WHERE k = :k", {"k": 9}) is None
        assert [r["v"] for r in tx.all("SELECT v FROM t ORDER BY k")] == ["v1", "v2", "v3"]
        assert tx.all("SELECT v FROM t WHERE k > :k", {"k": 9}) == []
        assert tx.scalar("SELECT v FROM t WHERE k = :k", {"k": 3}) == "v3"
        assert tx.scalar("SELECT v FROM t WHERE k = :k", {"k": 9}) is None
        assert tx.scalar("SELECT COUNT(*) FROM t") == 3
        # the same name twice, and a name that prefixes another
        assert tx.scalar("SELECT COUNT(*) FROM t WHERE k >= :k AND k <= :k", {"k": 2}) == 1
        found = tx.all("SELECT k FROM t WHERE k = :k1 OR k = :k ORDER BY k", {"k": 1, "k1": 3})
        assert [r["k"] for r in found] == [1, 3]
        assert tx.execute("UPDATE t SET v = 'x' WHERE k >= :k", {"k": 2}).rowcount == 2


def test_postgresql_casts_are_not_taken_for_parameters(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        with db.read() as tx:
            assert tx.scalar("SELECT :n::text || 'x'", {"n": 4}) == "4x"
    finally:
        db.close()


def test_in_list_matches_any_of_its_values_and_combines_with_other_lists(db: Database) -> None:
    insert(db, 1, 2, 3, 4, 5)
    with db.transaction() as tx:
        tx.execute("UPDATE t SET v = 'odd' WHERE k IN (1, 3, 5)")
    marks, params = in_list("a", [5, 1, 3, 42])
    assert marks == "(:a0, :a1, :a2, :a3)"
    assert params == {"a0": 5, "a1": 1, "a2": 3, "a3": 42}
    odd, p1 = in_list("v", ["odd"])
    ks, p2 = in_list("k", [1, 2, 3])
    with db.read() as tx:
        assert [
            r["k"] for r in tx.all(f"SELECT k FROM t WHERE k IN {marks} ORDER BY k", params)
        ] == [
            1,
            3,
            5,
        ]
        both = tx.all(f"SELECT k FROM t WHERE v IN {odd} AND k IN {ks} ORDER BY k", {**p1, **p2})
    assert [r["k"] for r in both] == [1, 3]


# -- connections, close and URLs -----------------------------------------------------------


def test_sqlite_keeps_one_connection_per_thread(db: Database) -> None:
    if db.dialect != "sqlite":
        with pytest.raises(StorageError, match="use read"):
            db.connection()
        return
    mine = db.connection()
    assert db.connection() is mine
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.extend([db.connection(), db.connection()]))
    thread.start()
    thread.join(30)
    assert theirs[0] is theirs[1] and theirs[0] is not mine


def test_a_closed_database_opens_new_connections_when_used_again(
    db: Database, other: Database
) -> None:
    insert(db, 1)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (keys(db), done.set()))
    thread.start()
    thread.join(30)
    assert done.is_set()
    closer = threading.Thread(target=db.close)  # closes the connections of every thread
    closer.start()
    closer.join(30)
    insert(db, 2)
    assert keys(db) == keys(other) == [1, 2]
    db.close()
    db.close()  # twice is fine
    db.ping()


def test_unsupported_and_in_memory_urls_are_refused_with_the_fix() -> None:
    with pytest.raises(StorageError, match=r"unsupported database URL 'mysql://x'.*sqlite:///"):
        Database("mysql://x")
    with pytest.raises(StorageError, match="file-backed"):
        Database("sqlite:///:memory:")
    with pytest.raises(StorageError, match="file-backed"):
        Database("sqlite://")


def test_where_names_the_database_without_its_password(tmp_path: Path) -> None:
    assert Database(f"sqlite:///{tmp_path}/x/h.db").where == f"{tmp_path}/x/h.db"
    pg = Database("postgresql+psycopg://alice:s3cret@db.example:5433/hw")
    assert pg.where == "postgresql+psycopg://alice:***@db.example:5433/hw"
    assert pg.sqlalchemy_url == "postgresql+psycopg://alice:s3cret@db.example:5433/hw"
    assert Database("postgresql://bob@h/hw").sqlalchemy_url == "postgresql+psycopg://bob@h/hw"
