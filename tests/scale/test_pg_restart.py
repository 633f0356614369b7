"""PostgreSQL push under a running ``headwater up`` survives the server going away.

The server is restarted (``pg_ctl stop`` + ``start``), then every other session is ended with
``pg_terminate_backend``. Each time the reactor's and the worker's listening connections are
replaced and LISTEN again, an event sent afterwards fires its launch plan and the worker runs
the execution, a per-second schedule keeps ticking, and the log says what was replaced without
an endless stream of errors. (The pooled connections of the same loops: tests/storage/
test_reconnect.py.) A server of its own: the suite's shared one stays up."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

import _pg
import _procs
import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import notify

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FLOW = """
from datetime import datetime, timedelta

from headwater import FixedRate, LaunchPlan, OnEvent, task, workflow


@task
def echo(tag: str) -> str:
    return tag


@workflow
def push_pinged_wf(tag: str = "") -> str:
    return echo(tag=tag)


@workflow
def push_tick_wf(when: datetime) -> str:
    return when.isoformat()


pinged = LaunchPlan.create(
    "push_pinged", push_pinged_wf, trigger=OnEvent("push.ping", parameters={"tag": "tag"})
)
ticking = LaunchPlan.create(
    "push_ticking",
    push_tick_wf,
    schedule=FixedRate(timedelta(seconds=1), kickoff_time_input_arg="when"),
)
"""


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


def listening(cluster: _pg.Cluster, database: str) -> list[str]:
    """The channels sessions on ``database`` listen on (their last statement was LISTEN).
    An idle worker's listening session LISTENs on the queue, then on its slot's channel and
    offers the slot (storage/worker_slots.py): counted as listening on the queue."""
    with psycopg.connect(_pg.libpq_url(cluster.url), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = %s AND (query LIKE 'LISTEN %%' "
            "OR query LIKE '%%INSERT INTO worker_slots%%')",
            (database,),
        ).fetchall()
    found = []
    for (query,) in rows:
        channel = str(query).split()[1] if str(query).startswith("LISTEN ") else ""
        offering = "worker_slots" in str(query) or channel.startswith("headwater_slot_")
        found.append(notify.QUEUE if offering else channel)
    return sorted(found)


def terminate_others(cluster: _pg.Cluster) -> int:
    """``pg_terminate_backend`` of every other client session of the server."""
    with psycopg.connect(_pg.libpq_url(cluster.url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_push_carries_on_after_a_restart_and_terminated_sessions(
    cluster: _pg.Cluster, tmp_path: Path
) -> None:
    name = "hw_push_restart"
    url = _pg.create_database(cluster, name)
    home = tmp_path / "home"
    flow = tmp_path / "flows" / "push_restart_flow.py"
    flow.parent.mkdir()
    flow.write_text(FLOW)
    inst = Instance(Settings.from_env({}, home=home, database_url=url))
    with inst.use():
        headwater.register(flow, activate=True)
    db = inst.db

    def status_of(event_id: str) -> str | None:
        with db.read() as tx:
            rows = tx.all(
                "SELECT d.outcome, x.status FROM trigger_decisions d "
                "LEFT JOIN executions x ON x.id = d.execution_id WHERE d.event_id = :id",
                {"id": event_id},
            )
        if not rows:
            return None
        assert [r["outcome"] for r in rows] == ["fired"], rows
        return str(rows[0]["status"])

    def ticks_since(t: float) -> int:
        with db.read() as tx:
            return int(
                tx.scalar(
                    "SELECT COUNT(*) FROM executions WHERE workflow LIKE :w "
                    "AND status = 'succeeded' AND created_at > :t",
                    {"w": "%.push_tick_wf", "t": t},
                )
            )

    def complaints(log: str) -> int:
        return len(re.findall(r"WARNING|ERROR", log))

    both = sorted([notify.EVENTS, notify.QUEUE])
    env = {**_procs.headwater_env(home, url), notify.ENV: "1"}
    with _procs.running_up(env, tmp_path / "up.log", 1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        reactor = _procs.wait_for(up.reactor, "the reactor", logs=up.log)
        [worker] = _procs.wait_for(up.workers, "the worker", logs=up.log)

        def send(event_id: str) -> None:
            body = {"name": "push.ping", "payload": {"tag": event_id}, "id": event_id}
            r = httpx.post(base + "/api/v1/events", json=body, timeout=30)
            assert r.status_code == 202, r.text

        def round_trip(event_id: str, since: float) -> None:
            """Both loops LISTEN again; an event fires and runs; the schedule ticks."""
            _procs.wait_healthy(base, up.log, timeout=60)
            _procs.wait_for(
                lambda: sorted(set(listening(cluster, name))) == both,
                "the reactor and the worker to LISTEN",
                logs=up.log,
            )
            send(event_id)
            _procs.wait_for(
                lambda: status_of(event_id) == "succeeded", f"{event_id} to run", logs=up.log
            )
            _procs.wait_for(lambda: ticks_since(since) >= 2, "schedule ticks", logs=up.log)

        round_trip("at-start", 0.0)

        cluster.restart()
        round_trip("after-restart", time.time())

        assert terminate_others(cluster) > 0
        round_trip("after-terminate", time.time())

        # Settled: no error loop. Three more ticks add no complaint to the log.
        settled = complaints(up.log())
        now = time.time()
        _procs.wait_for(lambda: ticks_since(now) >= 3, "three more ticks", logs=up.log)
        log = up.log()
        assert complaints(log) == settled, log
        # The reactor either replaces its listening connection in place or, when the leader
        # lock went with the database connection, steps down and takes the lock (and a fresh
        # listener) again: either way the log says so, and the round trips above fired.
        assert (
            "reactor: listening connection replaced" in log
            or "reactor: standby -> leader (again)" in log
        ), log
        assert re.search(r"worker \S+: listening connection replaced", log), log
        assert "Traceback" not in log and "exited unexpectedly" not in log, log
        assert up.proc.poll() is None and up.reactor() == reactor and up.workers() == {worker}
        assert up.stop() == 0, up.log()
    inst.close()
