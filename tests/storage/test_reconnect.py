"""A PostgreSQL restart or terminated sessions cost the connections they broke, not the
process: a ``Database`` (and a running ``headwater up``) carries on without a restart.

These tests stop and start a server of their own (the suite's shared one stays up)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

import _pg
from headwater.storage.db import Database, DatabaseUnavailable

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[_pg.Cluster]:
    try:
        server = _pg.start_cluster()
    except _pg.PostgresUnavailable:
        request.getfixturevalue("postgres_cluster")  # skips or fails as the suite is set up
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(cluster: _pg.Cluster, request: pytest.FixtureRequest) -> Iterator[Database]:
    name = "hw_" + request.node.name.split("[")[0].removeprefix("test_")[:50]
    database = Database(_pg.create_database(cluster, name))
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    yield database
    database.close()


def terminate_sessions(cluster: _pg.Cluster, url: str) -> int:
    """``pg_terminate_backend`` every session on the database of ``url``."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_pg.libpq_url(cluster.url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def keys(db: Database) -> list[int]:
    with db.read() as tx:
        return [r["k"] for r in tx.all("SELECT k FROM t ORDER BY k")]


def busy_threads(db: Database, n: int) -> None:
    """Make the pool hold ``n`` connections: ``n`` threads read at the same time."""
    barrier = threading.Barrier(n)

    def read() -> None:
        with db.read() as tx:
            barrier.wait(10)
            tx.scalar("SELECT 1")

    threads = [threading.Thread(target=read) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)


def test_reads_and_writes_carry_on_after_a_restart(cluster: _pg.Cluster, db: Database) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
    busy_threads(db, 4)  # several idle connections, each broken by the restart

    cluster.restart()

    assert keys(db) == [1]
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (2)")
    busy_threads(db, 4)
    assert keys(db) == [1, 2]


def test_reads_and_writes_carry_on_after_sessions_are_terminated(
    cluster: _pg.Cluster, db: Database
) -> None:
    busy_threads(db, 3)
    assert terminate_sessions(cluster, db.url) >= 3
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
    assert keys(db) == [1]


def test_a_server_that_is_down_is_unavailable_not_a_driver_error(
    cluster: _pg.Cluster, db: Database
) -> None:
    assert keys(db) == []
    cluster.pause()
    try:
        with pytest.raises(DatabaseUnavailable, match="PostgreSQL server at"):
            db.ping(timeout=0.5)
    finally:
        cluster.resume()
    db.ping(timeout=10)
    assert keys(db) == []


def test_a_transaction_cut_off_midway_commits_nothing_and_retrying_runs_it_whole(
    db: Database,
) -> None:
    calls = []

    def write() -> None:
        calls.append(1)
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (7)")
            if len(calls) == 1:  # the server ends this session in the middle
                tx.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            tx.execute("INSERT INTO t (k) VALUES (8)")

    with pytest.raises(DatabaseUnavailable):
        write()
    assert keys(db) == []

    db.retrying(write)
    assert len(calls) == 2
    assert keys(db) == [7, 8]


def test_nested_blocks_share_one_connection(db: Database) -> None:
    """A read inside a transaction sees its uncommitted rows; a transaction inside another
    joins it (one commit); a transaction inside a read begins on the read's connection."""
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (1)")
        with db.read() as inner:
            assert inner.scalar("SELECT count(*) FROM t") == 1
        with db.transaction() as joined:
            joined.execute("INSERT INTO t (k) VALUES (2)")
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO t (k) VALUES (3)")
        with db.transaction() as joined:
            joined.execute("INSERT INTO t (k) VALUES (4)")
        raise RuntimeError("roll back both")
    with db.read() as r:
        with db.transaction() as tx:
            tx.execute("INSERT INTO t (k) VALUES (5)")
        assert r.scalar("SELECT count(*) FROM t") == 3
    assert keys(db) == [1, 2, 5]
