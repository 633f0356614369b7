"""storage/worker_registry.py on both backends: which workers serve which queues, and where
the server runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from headwater.storage import executions as rows
from headwater.storage import server_state, worker_registry
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def test_recent_workers_serve_their_queues_until_forgotten_or_stale(db: Database) -> None:
    with db.transaction() as tx:
        worker_registry.record_worker(tx, name="w1", queues=["gpu", "default"], host="h", now=100)
        worker_registry.record_worker(tx, name="w2", queues=["io"], host="h", now=10)
        server_state.put(tx, key="auth_required", value="{}", now=1)  # not a worker
    with db.read() as tx:
        [w1] = worker_registry.workers(tx, since=50)
        assert (w1.name, w1.queues, w1.host, w1.seen_at) == ("w1", ["default", "gpu"], "h", 100)
        assert worker_registry.is_served(tx, "gpu", now=120)
        assert not worker_registry.is_served(tx, "gpu", now=100 + worker_registry.SERVED_WITHIN + 1)
        assert not worker_registry.is_served(tx, "io", now=120)  # w2 is stale
    with db.transaction() as tx:
        worker_registry.record_worker(tx, name="w1", queues=["default"], host="h", now=130)
        assert worker_registry.prune_workers(tx, before=50) == 1  # w2
    with db.read() as tx:
        assert not worker_registry.is_served(tx, "gpu", now=131)
        assert [w.name for w in worker_registry.workers(tx, since=0)] == ["w1"]
        assert server_state.get(tx, key="auth_required") is not None
    with db.transaction() as tx:
        worker_registry.forget_worker(tx, name="w1")
    with db.read() as tx:
        assert not worker_registry.is_served(tx, "default", now=131)


def test_a_running_execution_under_a_live_lease_serves_its_queue(db: Database) -> None:
    with db.transaction() as tx:
        rows.insert_execution(
            tx,
            id="e1",
            project="p",
            domain="d",
            workflow="wf",
            workflow_version="v",
            status="running",
            inputs={},
            resolved={},
            created_at=1.0,
            worker="busy",
            lease_expires_at=200.0,
            queue="gpu",
        )
    with db.read() as tx:
        assert worker_registry.is_served(tx, "gpu", now=150)
        assert not worker_registry.is_served(tx, "gpu", now=201)  # the lease ran out
        assert not worker_registry.is_served(tx, "default", now=150)


def test_the_server_host_is_recorded_and_replaced(db: Database) -> None:
    with db.read() as tx:
        assert worker_registry.server_host(tx) is None
    with db.transaction() as tx:
        worker_registry.record_server_host(tx, host="a", database="db", storage="s", now=1)
        worker_registry.record_server_host(tx, host="b", database="db", storage="s3://x", now=2)
    with db.read() as tx:
        found = worker_registry.server_host(tx)
    assert found is not None and (found.host, found.storage, found.seen_at) == ("b", "s3://x", 2)
