"""A PostgreSQL restart or terminated sessions cost the connections they broke, not the
process: a ``Database`` (and a running ``headwater up``) carries on without a restart.

These tests stop and start a server of their own (the suite's shared one stays up). Sessions
ended by the server, nested blocks and the rest of the ``Database`` contract on both backends:
test_db_contract.py, test_db_concurrency.py and test_db_faults.py."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

import _pg
import _procs
import headwater
from headwater.instance import Instance
from headwater.settings import Settings
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


# -- a running `headwater up` ----------------------------------------------------------------
FLOW = """
from datetime import datetime, timedelta

from headwater import FixedRate, LaunchPlan, OnEvent, task, workflow


@task
def echo(tag: str) -> str:
    return tag


@workflow
def pinged_wf(tag: str = "") -> str:
    return echo(tag=tag)


@workflow
def tick_wf(when: datetime) -> str:
    return when.isoformat()


pinged = LaunchPlan.create(
    "pinged", pinged_wf, trigger=OnEvent("restart.ping", parameters={"tag": "tag"})
)
ticking = LaunchPlan.create(
    "ticking", tick_wf, schedule=FixedRate(timedelta(seconds=1), kickoff_time_input_arg="when")
)
"""


@pytest.mark.slow
def test_up_recovers_from_a_restart_and_terminated_sessions(
    cluster: _pg.Cluster, tmp_path: Path
) -> None:
    """Under a running ``up``: restart the server, then terminate every session. The API, the
    reactor, the scheduler, the reaper and the worker carry on without a restart of ``up``
    (or of its children), and an event sent just before the restart fires exactly once."""
    url = _pg.create_database(cluster, "hw_up_restart")
    home = tmp_path / "home"
    flow = tmp_path / "flows" / "restart_flow.py"
    flow.parent.mkdir()
    flow.write_text(FLOW)
    inst = Instance(Settings.from_env({}, home=home, database_url=url))
    with inst.use():
        headwater.register(flow, activate=True)
    db = inst.db

    def executions(workflow: str, since: float = 0.0) -> list[Any]:
        with db.read() as tx:
            return tx.all(
                "SELECT id, status FROM executions WHERE workflow LIKE :w AND created_at > :t",
                {"w": f"%.{workflow}", "t": since},
            )

    def fired(event_id: str) -> list[Any]:
        with db.read() as tx:
            return tx.all(
                "SELECT outcome, execution_id FROM trigger_decisions WHERE event_id = :id",
                {"id": event_id},
            )

    def succeeded(event_id: str) -> bool:
        decisions = fired(event_id)
        if not decisions:
            return False
        assert [d["outcome"] for d in decisions] == ["fired"], decisions
        with db.read() as tx:
            row = tx.one(
                "SELECT status, error FROM executions WHERE id = :id",
                {"id": decisions[0]["execution_id"]},
            )
        assert row["status"] not in ("failed", "cancelled"), row["error"]
        return bool(row["status"] == "succeeded")

    def ticks_since(t: float) -> int:
        return sum(1 for e in executions("tick_wf", t) if e["status"] == "succeeded")

    with _procs.running_up(_procs.headwater_env(home, url), tmp_path / "up.log", 1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        reactor = _procs.wait_for(up.reactor, "the reactor", logs=up.log)
        [worker] = _procs.wait_for(up.workers, "the worker", logs=up.log)
        _procs.wait_for(lambda: ticks_since(0) >= 2, "two schedule ticks", logs=up.log)

        def send(event_id: str) -> None:
            body = {"name": "restart.ping", "payload": {"tag": event_id}, "id": event_id}
            r = httpx.post(base + "/api/v1/events", json=body, timeout=30)
            assert r.status_code == 202, r.text

        send("before-restart")
        cluster.pause()
        try:
            r = httpx.get(base + "/healthz", timeout=30)
            assert r.status_code == 503, r.text
            assert r.json()["status"] == "unavailable" and r.json()["reason"], r.text
            # A write waits a while for the server, then is refused: try again later.
            body = {"name": "restart.ping", "payload": {"tag": "x"}, "id": "during-outage"}
            r = httpx.post(base + "/api/v1/events", json=body, timeout=60)
            assert r.status_code == 503 and r.headers["retry-after"], r.text
            assert r.json()["error"]["type"] == "DatabaseUnavailable", r.text
        finally:
            cluster.resume()
        back = time.time()

        _procs.wait_healthy(base, up.log, timeout=60)
        send("after-restart")
        for event_id in ("before-restart", "after-restart"):
            _procs.wait_for(lambda e=event_id: succeeded(e), f"{event_id} to run", logs=up.log)
        _procs.wait_for(lambda: ticks_since(back) >= 2, "ticks after the restart", logs=up.log)

        assert terminate_sessions(cluster, url) > 0
        killed = time.time()
        _procs.wait_healthy(base, up.log, timeout=60)
        send("after-terminate")
        _procs.wait_for(lambda: succeeded("after-terminate"), "after-terminate", logs=up.log)
        _procs.wait_for(lambda: ticks_since(killed) >= 2, "ticks after terminate", logs=up.log)

        # Nothing ran twice, nothing was restarted, the refused event was not stored.
        assert httpx.get(base + "/api/v1/events/during-outage").status_code == 404
        assert len(fired("before-restart")) == 1
        assert len(executions("pinged_wf")) == 3
        assert up.proc.poll() is None and up.reactor() == reactor and up.workers() == {worker}
        log = up.log_path.read_text()
        assert "crashed" not in log and "exited unexpectedly" not in log, up.log()
        assert "Traceback" not in log, up.log()
        assert up.stop() == 0, up.log()
    inst.close()


def test_a_forked_child_opens_its_own_connections(db: Database) -> None:
    busy_threads(db, 2)
    with db.read() as tx:  # the sessions of the parent's pool
        parent = {
            r["pid"]
            for r in tx.all("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        }
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the server process it talks to, then leave at once
        try:
            with db.transaction() as tx:
                tx.execute("INSERT INTO t (k) VALUES (1)")
                os.write(write, str(tx.scalar("SELECT pg_backend_pid()")).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = int(os.read(read, 100) or b"0")
    os.close(read)
    os.waitpid(pid, 0)
    assert child and child not in parent
    busy_threads(db, 2)  # the parent's connections still work
    assert keys(db) == [1]
