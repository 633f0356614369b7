"""PostgreSQL: idle worker processes offer a slot, and the reactor hands a new execution to the
oldest live one in the transaction that queues it (storage/worker_slots.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from headwater.storage import executions as ex
from headwater.storage import worker_slots as ws
from headwater.storage.db import Database, Tx
from headwater.storage.executions import ExecutionRow
from headwater.storage.migrate import ensure_schema
from headwater.storage.notify import QUEUE
from tests import _schema
from tests.storage.test_executions import get

pytestmark = pytest.mark.postgres

STARTED = "headwater.execution.started"


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(postgres_url))
    ensure_schema(database)
    yield database
    database.close()


class Process:
    """What a worker process keeps while idle: a listening connection holding its slot."""

    def __init__(self, db: Database, slot: int, worker: str = "w1") -> None:
        self.conn = psycopg.connect(db.dsn, autocommit=True)
        self.tx = Tx(self.conn, "postgresql")
        self.slot, self.worker = slot, worker
        assert ws.hold(self.tx, slot)
        self.conn.execute(f"LISTEN {QUEUE}")

    def offer(self, queues: list[str] | None = None, lease: float = 30.0) -> None:
        ws.offer(self.tx, self.slot, worker=self.worker, queues=queues, lease=lease, now=1.0)

    def heard(self) -> list[tuple[str, str]]:
        return [(n.channel, n.payload) for n in self.conn.notifies(timeout=0.2)]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def procs(db: Database) -> Iterator[list[Process]]:
    made: list[Process] = []
    yield made
    for p in made:
        p.close()


def queued(db: Database, eid: str, queue: str = "default", inputs: Any = None) -> str:
    with db.transaction() as tx:
        ex.insert_executions(
            tx,
            [
                {
                    "id": eid,
                    "project": "p",
                    "domain": "d",
                    "workflow": "wf",
                    "workflow_version": "v1",
                    "status": "queued",
                    "inputs": inputs or {"x": {"format": "json", "value": 1}},
                    "resolved": {},
                    "created_at": 5.0,
                    "queue": queue,
                }
            ],
            notify=False,
        )
        ws.hand_over(
            tx,
            eid,
            queue=queue,
            now=100.0,
            event={"id": f"ev-{eid}", "name": STARTED, "source": "s"},
        )
    return eid


def slots(db: Database) -> dict[int, str | None]:
    with db.read() as tx:
        return {r["slot"]: r["execution_id"] for r in tx.all("SELECT * FROM worker_slots")}


def started_events(db: Database) -> list[dict[str, Any]]:
    with db.read() as tx:
        found = tx.all(
            "SELECT e.subject, e.payload, i.seq AS inbox FROM events e "
            "LEFT JOIN reactor_inbox i ON i.seq = e.seq WHERE e.name = :n",
            {"n": STARTED},
        )
    return [
        {"subject": r["subject"], "payload": json.loads(r["payload"]), "inbox": r["inbox"]}
        for r in found
    ]


def test_a_live_offer_gets_the_execution_claimed_for_its_worker(
    db: Database, procs: list[Process]
) -> None:
    p = Process(db, 11, worker="host:7")
    procs.append(p)
    p.offer(lease=30.0)
    queued(db, "e1")
    row = get(db, "e1")
    assert (row.status, row.worker, row.attempts) == ("running", "host:7", 1)
    assert (row.started_at, row.lease_expires_at) == (100.0, 130.0)
    # the NOTIFY to the slot's channel carries the claimed row; the queue's channel is quiet
    heard = p.heard()
    assert [c for c, _ in heard] == [ws.channel(11)]
    assert ws.handed_row(heard[0][1]) == ExecutionRow(**{**row.as_dict(), "nodes_before": 0})
    # its started event, as a claim writes it, waits for the reactor
    (started,) = started_events(db)
    assert started["subject"] == "e1" and started["inbox"] is not None
    assert started["payload"] == {
        "attempt": 1,
        "domain": "d",
        "execution_id": "e1",
        "launch_plan": None,
        "project": "p",
        "worker": "host:7",
        "workflow": "wf",
    }
    assert slots(db) == {11: "e1"}  # used up: the next execution is not handed to it
    queued(db, "e2")
    assert get(db, "e2").status == "queued"
    assert [c for c, _ in p.heard()] == [QUEUE]
    assert ws.withdraw(p.tx, 11) == "e1"  # what taking the offer back tells a process
    assert slots(db) == {}


def test_without_a_live_offer_the_execution_stays_queued_and_workers_are_told(
    db: Database, procs: list[Process]
) -> None:
    gone = Process(db, 12)
    gone.offer()
    gone.close()  # its process died: the lock went with its connection
    p = Process(db, 13)
    procs.append(p)
    queued(db, "e1")
    assert get(db, "e1").status == "queued"
    assert [c for c, _ in p.heard()] == [QUEUE]
    assert started_events(db) == []
    p.offer()  # an offer sweeps the dead slots away
    assert slots(db) == {13: None}


def test_the_oldest_offer_whose_queues_take_it_gets_it(db: Database, procs: list[Process]) -> None:
    gpu = Process(db, 21, worker="gpu-box")
    procs.append(gpu)
    gpu.offer(queues=["gpu", "big"])
    time.sleep(0.01)
    anyq = Process(db, 22, worker="any")
    procs.append(anyq)
    anyq.offer()
    queued(db, "e1", queue="default")
    queued(db, "e2", queue="big")
    assert (get(db, "e1").worker, get(db, "e2").worker) == ("any", "gpu-box")
    assert slots(db) == {21: "e2", 22: "e1"}


def test_a_row_too_big_for_a_notify_stays_queued(db: Database, procs: list[Process]) -> None:
    p = Process(db, 31)
    procs.append(p)
    p.offer()
    queued(db, "e1", inputs={"x": {"format": "json", "value": "y" * ws.MAX_ROW}})
    assert get(db, "e1").status == "queued"
    assert slots(db) == {31: None}  # still offered
    assert [c for c, _ in p.heard()] == [QUEUE]


def test_an_offer_taken_back_is_not_used(db: Database, procs: list[Process]) -> None:
    p = Process(db, 41)
    procs.append(p)
    p.offer()
    assert ws.withdraw(p.tx, 41) is None
    queued(db, "e1")
    assert get(db, "e1").status == "queued"
    assert slots(db) == {}


def test_a_slot_number_is_held_by_one_process_only(db: Database, procs: list[Process]) -> None:
    procs.append(Process(db, 51))
    other = psycopg.connect(db.dsn, autocommit=True)
    try:
        assert not ws.hold(Tx(other, "postgresql"), 51)
        assert ws.hold(Tx(other, "postgresql"), 52)
    finally:
        other.close()
