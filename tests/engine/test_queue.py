"""The execution queue: claims, leases, heartbeats and the reaper, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from headwater.engine.execute import queue
from headwater.instance import Instance
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows


def add(inst: Instance, n: int = 1, *, start: int = 0, **fields: Any) -> list[str]:
    """Queue ``n`` executions e<start>..; created_at increases with the number."""
    ids = []
    with inst.db.transaction() as tx:
        for i in range(start, start + n):
            eid = f"e{i:04d}"
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
                created_at=1000.0 + i,
                **fields,
            )
            ids.append(eid)
    return ids


def get(inst: Instance, eid: str) -> Any:
    with inst.db.read() as tx:
        return rows.get_execution(tx, eid)


def events(inst: Instance, name: str) -> list[Any]:
    with inst.db.read() as tx:
        found = tx.all("SELECT * FROM events WHERE name = :n ORDER BY seq", {"n": name})
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in found]


def finish(inst: Instance, eid: str) -> None:
    with inst.db.transaction() as tx:
        rows.update_execution(tx, eid, status="succeeded", lease_expires_at=None)


def test_claim_takes_the_oldest_and_writes_started(instance: Instance) -> None:
    add(instance, 1, start=2)
    add(instance, 2, start=0)
    assert queue.queue_depth(instance) == 3
    before = time.time()
    row = queue.claim(instance, "w1", 30)
    assert row.id == "e0000"
    assert row.status == "running" and row.worker == "w1" and row.attempts == 1
    assert before + 29 < row.lease_expires_at < time.time() + 31
    assert before <= row.started_at <= time.time()
    assert queue.queue_depth(instance) == 2
    [started] = events(instance, "headwater.execution.started")
    assert started["subject"] == "e0000"
    assert started["payload"] == {
        "execution_id": "e0000",
        "workflow": "wf",
        "launch_plan": None,
        "project": "default",
        "domain": "development",
        "attempt": 1,
        "worker": "w1",
    }
    assert [queue.claim(instance, "w1", 30).id for _ in range(2)] == ["e0001", "e0002"]
    assert queue.claim(instance, "w1", 30) is None
    assert queue.queue_depth(instance) == 0
    assert len(events(instance, "headwater.execution.started")) == 3


def test_concurrent_claimers_never_take_the_same_row(instance: Instance) -> None:
    ids = add(instance, 100)
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        mine = got.setdefault(name, [])
        try:
            barrier.wait()
            while queue.queue_depth(instance) > 0:
                row = queue.claim(instance, name, 30)
                if row is not None:
                    assert row.worker == name
                    mine.append(row.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    claimed = [eid for mine in got.values() for eid in mine]
    assert sorted(claimed) == ids  # every row exactly once
    assert len(events(instance, "headwater.execution.started")) == 100
    with instance.db.read() as tx:
        by_worker = {r["id"]: r["worker"] for r in tx.all("SELECT id, worker FROM executions")}
    assert all(by_worker[eid] == name for name, mine in got.items() for eid in mine)


def test_concurrency_limit_is_respected(instance: Instance) -> None:
    limited = add(instance, 4, launch_plan_id=7, concurrency_limit=2)
    other = add(instance, 1, start=10, launch_plan_id=8)  # newer, but nothing limits it
    first = [queue.claim(instance, "w", 30).id for _ in range(3)]
    assert first == [limited[0], limited[1], other[0]]
    assert queue.claim(instance, "w", 30) is None  # lp 7 is at its limit
    finish(instance, limited[0])
    assert queue.claim(instance, "w", 30).id == limited[2]
    assert queue.claim(instance, "w", 30) is None


def test_concurrency_limit_holds_under_concurrent_claims(instance: Instance) -> None:
    add(instance, 20, launch_plan_id=3, concurrency_limit=3)
    barrier = threading.Barrier(4)
    claimed: list[str] = []

    def claimer(name: str) -> None:
        barrier.wait()
        for _ in range(5):
            row = queue.claim(instance, name, 30)
            if row is not None:
                claimed.append(row.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(claimed) == 3
    with instance.db.read() as tx:
        running = tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'running'")
    assert running == 3


def test_heartbeat_extends_only_our_lease(instance: Instance) -> None:
    [eid] = add(instance)
    row = queue.claim(instance, "w1", 1)
    assert queue.heartbeat(instance, eid, "w1", 60)
    assert get(instance, eid).lease_expires_at > row.lease_expires_at + 50
    assert not queue.heartbeat(instance, eid, "w2", 60)
    finish(instance, eid)
    assert not queue.heartbeat(instance, eid, "w1", 60)


def _running_node(inst: Instance, eid: str, node_id: str = "n0") -> None:
    with inst.db.transaction() as tx:
        node_rows.insert_node(
            tx,
            execution_id=eid,
            node_id=node_id,
            name="wf.step",
            kind="task",
            status="running",
            inputs={},
            attempts=0,
            started_at=time.time(),
        )


def test_reap_requeues_then_fails_after_max_attempts(instance: Instance) -> None:
    [eid] = add(instance, max_attempts=2)
    queue.claim(instance, "w1", 30)
    _running_node(instance, eid)
    assert queue.reap(instance) == 0  # the lease is live
    later = time.time() + 60
    assert queue.reap(instance, now=later) == 1
    row = get(instance, eid)
    assert row.status == "queued" and row.worker is None
    assert row.lease_expires_at is None and row.attempts == 1
    [retrying] = events(instance, queue.EXECUTION_RETRYING)
    assert retrying["subject"] == eid
    assert retrying["payload"]["reason"] == "worker w1 stopped heartbeating"
    assert retrying["payload"]["attempt"] == 1 and retrying["payload"]["node"] == "n0"
    with instance.db.read() as tx:
        [node] = node_rows.list_nodes(tx, eid)
    assert node.status == "failed" and json.loads(node.error)["type"] == "WorkerLost"

    again = queue.claim(instance, "w2", 30)
    assert again.id == eid and again.attempts == 2
    _running_node(instance, eid, "n1")
    assert queue.reap(instance, now=time.time() + 60) == 1
    row = get(instance, eid)
    assert row.status == "failed" and row.finished_at is not None
    assert row.lease_expires_at is None
    error = json.loads(row.error)
    assert error["type"] == "WorkerLost" and error["node"] == "n1"
    assert error["message"].startswith("worker w2 stopped heartbeating after 2 attempt(s); ")
    [failed] = events(instance, "headwater.execution.failed")
    assert failed["payload"]["error"] == error and failed["payload"]["status"] == "failed"
    assert queue.reap(instance, now=time.time() + 120) == 0  # nothing left running
    assert queue.claim(instance, "w3", 30) is None


def test_two_reapers_never_handle_one_execution_twice(instance: Instance) -> None:
    add(instance, 30, max_attempts=3)
    for _ in range(30):
        queue.claim(instance, "dead", 30)
    later = time.time() + 60
    counts: list[int] = []
    barrier = threading.Barrier(3)

    def reaper() -> None:
        barrier.wait()
        counts.append(queue.reap(instance, now=later))

    threads = [threading.Thread(target=reaper) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 30
    retrying = events(instance, queue.EXECUTION_RETRYING)
    assert Counter(e["subject"] for e in retrying) == {f"e{i:04d}": 1 for i in range(30)}
    assert queue.queue_depth(instance) == 30


def test_reap_leaves_unleased_running_executions_alone(instance: Instance) -> None:
    # An execution run in-process by headwater.run() has no worker and no lease.
    [eid] = add(instance)
    with instance.db.transaction() as tx:
        rows.update_execution(tx, eid, status="running")
    assert queue.reap(instance, now=time.time() + 3600) == 0
    assert queue.claim(instance, "w", 30) is None


def test_requeue_and_fail_only_touch_our_claim(instance: Instance) -> None:
    a, b = add(instance, 2)
    queue.claim(instance, "w1", 30)
    assert not queue.requeue(instance, a, "w2", "not mine")
    assert queue.requeue(instance, a, "w1", "snapshot conflict")
    row = get(instance, a)
    assert row.status == "queued" and row.attempts == 0 and row.worker is None
    assert events(instance, queue.EXECUTION_RETRYING)[0]["payload"]["reason"] == (
        "snapshot conflict"
    )
    assert queue.claim(instance, "w1", 30).id == a
    error = {"type": "SnapshotError", "message": "boom", "traceback": "", "node": None}
    assert not queue.fail(instance, a, "w2", error)
    assert queue.fail(instance, a, "w1", error)
    row = get(instance, a)
    assert row.status == "failed" and json.loads(row.error) == error
    [failed] = events(instance, "headwater.execution.failed")
    assert failed["subject"] == a and failed["payload"]["error"] == error
    assert queue.claim(instance, "w1", 30).id == b


def test_expire_worker_lets_the_reaper_act_now(instance: Instance) -> None:
    a, b = add(instance, 2, max_attempts=2)
    queue.claim(instance, "w1", 300)
    queue.claim(instance, "w2", 300)
    assert queue.expire_worker(instance, "w1") == 1
    assert queue.reap(instance) == 1
    assert get(instance, a).status == "queued"
    assert get(instance, b).status == "running"


def test_cancel_a_queued_execution_ends_it_at_once_with_its_event(instance: Instance) -> None:
    [eid] = add(instance)
    row = queue.cancel(instance, eid, by="alice")
    assert row.status == "cancelled" and row.finished_at is not None
    error = json.loads(row.error)
    assert error["type"] == "Cancelled" and "alice" in error["message"]
    [ev] = events(instance, "headwater.execution.failed")
    assert ev["subject"] == eid and ev["payload"]["status"] == "cancelled"
    assert queue.claim(instance, "w1", 30) is None  # no worker ever runs it


def test_cancel_a_running_execution_takes_it_from_its_worker(instance: Instance) -> None:
    [eid] = add(instance)
    queue.claim(instance, "w1", 30)
    with instance.db.transaction() as tx:
        node_rows.insert_node(
            tx,
            execution_id=eid,
            node_id="n0",
            name="t",
            kind="task",
            status="running",
            inputs={},
            attempts=0,
            cache_key=None,
            started_at=time.time(),
        )
    assert queue.cancel(instance, eid).status == "cancelled"
    assert not queue.heartbeat(instance, eid, "w1", 30)  # the worker learns it is not its own
    with instance.db.read() as tx:
        assert not rows.still_leased(tx, eid, "w1")  # so its results are not written
        node = tx.one(
            "SELECT status, error FROM node_executions WHERE execution_id = :e", {"e": eid}
        )
    assert node["status"] == "cancelled" and json.loads(node["error"])["type"] == "Cancelled"
    assert queue.abandon(instance, eid, "w1", "TaskTimeoutError", "late") == ""
    assert get(instance, eid).status == "cancelled"


def test_cancel_refuses_ended_unknown_and_in_process_executions(instance: Instance) -> None:
    import pytest

    from headwater.errors import ConflictError, NotFoundError

    a, b = add(instance, 2)
    finish(instance, a)
    with pytest.raises(ConflictError, match="already ended \\(succeeded\\)"):
        queue.cancel(instance, a)
    with pytest.raises(NotFoundError, match="no execution 'nope'"):
        queue.cancel(instance, "nope")
    with instance.db.transaction() as tx:  # as headwater.run() records its own execution
        rows.update_execution(tx, b, status="running")
    with pytest.raises(ConflictError, match=r"headwater\.run"):
        queue.cancel(instance, b)
    assert get(instance, a).status == "succeeded" and get(instance, b).status == "running"
    assert events(instance, "headwater.execution.failed") == []


def test_abandon_requeues_within_the_budget_then_fails(instance: Instance) -> None:
    [eid] = add(instance, max_attempts=2)
    queue.claim(instance, "w1", 30)
    assert queue.abandon(instance, eid, "w2", "TaskTimeoutError", "x") == ""  # not w2's
    assert queue.abandon(instance, eid, "w1", "TaskTimeoutError", "task t ran past") == "queued"
    [retry] = events(instance, queue.EXECUTION_RETRYING)
    assert retry["payload"]["reason"] == "task t ran past"
    queue.claim(instance, "w1", 30)
    assert queue.abandon(instance, eid, "w1", "TaskTimeoutError", "task t ran past") == "failed"
    row = get(instance, eid)
    error = json.loads(row.error)
    assert row.status == "failed" and row.attempts == 2
    assert error["type"] == "TaskTimeoutError" and "attempt 2 of 2" in error["message"]


def test_the_started_event_holds_names_that_need_json_escapes(instance: Instance) -> None:
    [eid] = add(instance, launch_plan='lp "quoted" \\ é')
    row = queue.claim(instance, 'host:"7"', 30)
    assert row is not None and row.id == eid
    [started] = events(instance, "headwater.execution.started")
    assert started["payload"]["launch_plan"] == 'lp "quoted" \\ é'
    assert started["payload"]["worker"] == 'host:"7"'


def test_a_handed_back_execution_numbers_its_task_nodes_after_the_first_attempts(
    instance: Instance,
) -> None:
    from headwater.engine.execute.runner import run_claimed
    from headwater.engine.register.registry import ensure_registered

    from .._procs import enqueue
    from . import pipelines as p

    reg = ensure_registered(instance, p.boom_wf, instance.project, instance.domain)
    eid = enqueue(instance, reg, 2)
    first = queue.claim(instance, "w1", 30)
    assert first is not None and first.id == eid
    _running_node(instance, eid, "n0")  # what the first worker recorded before it stopped
    assert queue.hand_back(instance, eid, "w1", "the worker is stopping")
    row = queue.claim(instance, "w2", 30)
    assert row is not None and row.worker == "w2"
    # PostgreSQL's claim counts them (its first node can then start before its row is back)
    assert row.nodes_before == (1 if instance.db.dialect == "postgresql" else None)
    ex = run_claimed(instance, p.boom_wf, row)  # add(a=2) succeeds, boom(x=3) fails
    nodes = sorted((n.node_id, n.name.rsplit(".", 1)[-1], n.status.value) for n in ex.nodes)
    assert nodes == [("n0", "step", "failed"), ("n1", "add", "succeeded"), ("n2", "boom", "failed")]


def _lost_before_its_first_task(instance: Instance, marks: Path) -> str:
    """Run ``mark_wf`` on a claim handed back before it runs: ExecutionLost, no node."""
    import pytest

    from headwater.engine.execute.runner import ExecutionLost, run_claimed
    from headwater.engine.register.registry import ensure_registered

    from .._procs import enqueue
    from . import pipelines as p

    reg = ensure_registered(instance, p.mark_wf, instance.project, instance.domain)
    enqueue(instance, reg, 7)
    row = queue.claim(instance, "w1", 30)
    assert row is not None
    assert queue.hand_back(instance, row.id, "w1", "taken over")
    with pytest.raises(ExecutionLost):
        run_claimed(instance, p.mark_wf, row)
    with instance.db.read() as tx:
        assert node_rows.count_nodes(tx, row.id) == 0
    assert get(instance, row.id).status == "queued"  # for another worker, untouched
    return marks.read_text() if marks.exists() else ""


def test_a_task_of_an_execution_no_longer_held_does_not_start(
    instance: Instance, tmp_path: Path, monkeypatch: Any
) -> None:
    from headwater.engine.execute import runner

    monkeypatch.setenv("HW_TEST_MARKS", str(tmp_path / "marks"))
    monkeypatch.setattr(runner, "SEND_WINDOW", 0.0)  # past the claim's first moments
    assert _lost_before_its_first_task(instance, tmp_path / "marks") == ""


def test_the_first_task_after_a_claim_starts_while_its_node_is_written(
    instance: Instance, tmp_path: Path, monkeypatch: Any
) -> None:
    # On PostgreSQL the first node's row (with its lease check) is sent and the task starts
    # meanwhile; a lease lost in those milliseconds (only a cancel or a hand-back can)
    # records nothing of it. SQLite checks first, as every later node does.
    monkeypatch.setenv("HW_TEST_MARKS", str(tmp_path / "marks"))
    ran = _lost_before_its_first_task(instance, tmp_path / "marks")
    assert ran == ("7\n" if instance.db.dialect == "postgresql" else "")
