"""``POST /api/v1/executions/{id}/cancel`` and ``headwater.cancel`` over HTTP."""

from __future__ import annotations

import time

from headwater.engine.execute import queue
from headwater.instance import Instance
from headwater.storage import executions as rows

from .conftest import Api, error_of


def queued(inst: Instance, eid: str) -> str:
    with inst.db.transaction() as tx:
        rows.insert_execution(
            tx,
            id=eid,
            project="default",
            domain="development",
            workflow="wf",
            workflow_version="v1",
            status="queued",
            inputs={},
            resolved={},
            created_at=time.time(),
        )
    return eid


def test_cancel_queued_and_running_then_409(api: Api, instance: Instance) -> None:
    a = queued(instance, "e-queued")
    r = api.post(f"/api/v1/executions/{a}/cancel")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == a and body["status"] == "cancelled"
    assert body["error"]["type"] == "Cancelled"

    b = queued(instance, "e-running")
    assert queue.claim(instance, "w1", 30).id == b
    assert api.post(f"/api/v1/executions/{b}/cancel").json()["status"] == "cancelled"
    assert not queue.heartbeat(instance, b, "w1", 30)  # its worker learns it and stops

    err = error_of(api.post(f"/api/v1/executions/{a}/cancel"), 409)
    assert err["type"] == "ConflictError" and "already ended (cancelled)" in err["message"]
    err = error_of(api.post("/api/v1/executions/nope/cancel"), 404)
    assert "no execution 'nope'" in err["message"]
    with instance.db.read() as tx:
        names = [r["name"] for r in tx.all("SELECT name FROM events WHERE subject = :s", {"s": a})]
    assert names == ["headwater.execution.failed"]  # once, not again on the refused call
