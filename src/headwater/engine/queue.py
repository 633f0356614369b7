"""The execution queue: claim with a lease, heartbeat, and reap what dead workers left behind.

An execution waits as ``queued``; a worker claims it (``running``, its name, a lease that it
renews by heartbeating) in the transaction that writes ``headwater.execution.started``. A
worker that stops heartbeating loses the execution to :func:`reap`, which puts it back in the
queue (while attempts remain) or fails it, each with its event in the same transaction — so a
claimed execution is never left ``running`` without a live lease (invariant 6).

The SQL runs on SQLite and PostgreSQL. On SQLite, ``BEGIN IMMEDIATE`` serialises claims. On
PostgreSQL the candidate row is taken ``FOR UPDATE SKIP LOCKED`` (claimers never wait on each
other nor take the same row) and a launch plan's concurrency limit is checked again under a
transaction-scoped advisory lock for that launch plan, so concurrent claimers cannot exceed it.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.storage.db import Tx, in_list
from headwater.storage.events import insert_event

log = logging.getLogger("headwater.worker")

if TYPE_CHECKING:
    from headwater.instance import Instance

#: Emitted when a running execution is put back in the queue (its worker was lost).
EXECUTION_RETRYING = event_names.EXECUTION_RETRYING

#: Seconds between a busy worker's checks that its execution was not cancelled.
CANCEL_CHECK = 0.25
_PG_LP_LOCK = 0x6877  # first key of the (int, int) advisory lock taken per launch plan
_MAX_CLAIM_TRIES = 8
_REAP_BATCH = 200

_CANDIDATE = (
    "SELECT id, launch_plan_id, concurrency_limit FROM executions e "
    "WHERE e.status = 'queued' AND (e.concurrency_limit IS NULL OR e.launch_plan_id IS NULL "
    "OR (SELECT COUNT(*) FROM executions r WHERE r.launch_plan_id = e.launch_plan_id "
    "AND r.status = 'running') < e.concurrency_limit){skip} "
    "ORDER BY e.created_at, e.id LIMIT 1{lock}"
)


def _event(tx: Tx, row: Any, name: str, now: float, extra: dict[str, Any] | None = None) -> None:
    """An execution event with the payload shape ``runner`` uses."""
    insert_event(
        tx,
        id=uuid.uuid4().hex,
        name=name,
        source=event_names.SOURCE,
        project=row["project"],
        domain=row["domain"],
        time=now,
        subject=row["id"],
        payload={
            "execution_id": row["id"],
            "workflow": row["workflow"],
            "launch_plan": row["launch_plan"],
            "project": row["project"],
            "domain": row["domain"],
            **(extra or {}),
        },
    )


def _get(tx: Tx, execution_id: str) -> Any:
    return tx.one("SELECT * FROM executions WHERE id = :id", {"id": execution_id})


def has_queued(inst: Instance) -> bool:
    """A cheap read (no write lock): is anything waiting?"""
    with inst.db.read() as tx:
        return tx.one("SELECT id FROM executions WHERE status = 'queued' LIMIT 1") is not None


def claim(inst: Instance, worker: str, lease_seconds: float) -> Any:
    """Take the oldest ``queued`` execution whose launch plan is under its concurrency limit.

    The row becomes ``running`` for ``worker`` with a lease of ``lease_seconds``, its
    ``attempts`` count goes up by one and ``headwater.execution.started`` is written in the
    same transaction. Returns the claimed row (read after the change), or None.
    """
    if not has_queued(inst):
        return None
    postgres = inst.db.dialect == "postgresql"
    full: list[int] = []  # launch plans found at their limit under the lock (PostgreSQL)
    for _ in range(_MAX_CLAIM_TRIES):
        params: dict[str, Any] = {}
        skip = ""
        if full:
            marks, params = in_list("lp", full)
            skip = f" AND (e.launch_plan_id IS NULL OR e.launch_plan_id NOT IN {marks})"
        sql = _CANDIDATE.format(skip=skip, lock=" FOR UPDATE SKIP LOCKED" if postgres else "")
        with inst.db.transaction() as tx:
            cand = tx.one(sql, params)
            if cand is None:
                return None
            limit, lp = cand["concurrency_limit"], cand["launch_plan_id"]
            if postgres and limit is not None and lp is not None:
                # Another claimer may have taken a row of this launch plan since our snapshot;
                # under the lock, a fresh count sees every claim committed before ours.
                tx.execute(
                    "SELECT pg_advisory_xact_lock(:k, :lp)",
                    {"k": _PG_LP_LOCK, "lp": int(lp) % 2_147_483_647},
                )
                running = tx.scalar(
                    "SELECT COUNT(*) FROM executions WHERE launch_plan_id = :lp "
                    "AND status = 'running'",
                    {"lp": lp},
                )
                if int(running) >= int(limit):
                    full.append(int(lp))
                    continue  # nothing written; the row lock goes with this transaction
            row = _take(tx, cand["id"], worker, lease_seconds)
            if row is None:  # cannot happen under the locks above; be safe anyway
                continue
        return row
    return None


def claim_id(inst: Instance, execution_id: str, worker: str, lease_seconds: float) -> Any:
    """Claim one particular queued execution (to run it in this process); None if it is not
    queued any more."""
    with inst.db.transaction() as tx:
        return _take(tx, execution_id, worker, lease_seconds)


def _take(tx: Tx, execution_id: str, worker: str, lease_seconds: float) -> Any:
    """Make a queued row ``running`` for ``worker`` and write its started event; None if it
    was not queued."""
    now = time.time()
    done = tx.scalar(
        "UPDATE executions SET status = 'running', worker = :w, lease_expires_at = :lease,"
        " attempts = attempts + 1, started_at = :now, finished_at = NULL "
        "WHERE id = :id AND status = 'queued' RETURNING id",
        {"w": worker, "lease": now + lease_seconds, "now": now, "id": execution_id},
    )
    if done is None:
        return None
    row = _get(tx, execution_id)
    _event(
        tx, row, event_names.EXECUTION_STARTED, now, {"attempt": row["attempts"], "worker": worker}
    )
    return row


def heartbeat(inst: Instance, execution_id: str, worker: str, lease_seconds: float) -> bool:
    """Extend the lease. False when the execution is no longer ``running`` for ``worker``."""
    with inst.db.transaction() as tx:
        got = tx.scalar(
            "UPDATE executions SET lease_expires_at = :lease WHERE id = :id AND worker = :w "
            "AND status = 'running' RETURNING id",
            {"lease": time.time() + lease_seconds, "id": execution_id, "w": worker},
        )
    return got is not None


def requeue(inst: Instance, execution_id: str, worker: str, reason: str) -> bool:
    """Give a claimed execution back without counting the attempt (the worker could not run
    it here, e.g. its snapshot conflicts with code already imported). False if not ours."""
    with inst.db.transaction() as tx:
        got = tx.scalar(
            "UPDATE executions SET status = 'queued', worker = NULL, lease_expires_at = NULL, "
            "started_at = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
            "WHERE id = :id AND worker = :w AND status = 'running' RETURNING id",
            {"id": execution_id, "w": worker},
        )
        if got is None:
            return False
        row = _get(tx, execution_id)
        _event(
            tx,
            row,
            EXECUTION_RETRYING,
            time.time(),
            {"attempt": row["attempts"], "worker": worker, "reason": reason},
        )
    return True


def give_back(inst: Instance, execution_id: str, worker: str, exc: BaseException) -> None:
    """The storage failed under a claimed execution (e.g. PostgreSQL restarted): queue it
    again, not counting the attempt, once the database answers (waits out the outage)."""
    log.warning("worker %s: execution %s interrupted: %s", worker, execution_id, exc)
    reason = f"storage unavailable: {exc}"
    inst.db.retrying(lambda: requeue(inst, execution_id, worker, reason), attempts=8)


def fail(inst: Instance, execution_id: str, worker: str, error: dict[str, Any]) -> bool:
    """End a claimed execution as ``failed`` with ``error`` before its code ran (e.g. the
    snapshot could not be loaded). False if the execution is no longer ours."""
    now = time.time()
    with inst.db.transaction() as tx:
        got = tx.scalar(
            "UPDATE executions SET status = 'failed', error = :err, outputs = :out, "
            "finished_at = :now, lease_expires_at = NULL "
            "WHERE id = :id AND worker = :w AND status = 'running' RETURNING id",
            {
                "err": json.dumps(error, sort_keys=True),
                "out": "{}",
                "now": now,
                "id": execution_id,
                "w": worker,
            },
        )
        if got is None:
            return False
        row = _get(tx, execution_id)
        _event(
            tx,
            row,
            event_names.EXECUTION_FAILED,
            now,
            {"status": "failed", "outputs": {}, "error": error},
        )
    return True


def expire_worker(inst: Instance, worker: str) -> int:
    """End the leases of a worker known to be dead (its process exited), so that
    :func:`reap` handles its executions now instead of when the leases run out."""
    now = time.time()
    with inst.db.transaction() as tx:
        ids = tx.all(
            "UPDATE executions SET lease_expires_at = :t WHERE worker = :w "
            "AND status = 'running' AND lease_expires_at > :t RETURNING id",
            {"t": now - 0.001, "w": worker},
        )
    return len(ids)


def reap(inst: Instance, now: float | None = None) -> int:
    """Handle every ``running`` execution whose lease has expired (its worker stopped
    heartbeating): back to ``queued`` while attempts remain, else ``failed``. Each change is
    committed with its event; a conditional update means two reapers never handle one
    execution twice. Returns how many executions were handled."""
    now = time.time() if now is None else now
    handled = 0
    while True:
        with inst.db.read() as tx:
            expired = tx.all(
                "SELECT id FROM executions WHERE status = 'running' "
                "AND lease_expires_at < :now ORDER BY lease_expires_at LIMIT :n",
                {"now": now, "n": _REAP_BATCH},
            )
        for cand in expired:
            handled += _reap_one(inst, cand["id"], now)
        if len(expired) < _REAP_BATCH:
            return handled


def _reap_one(inst: Instance, execution_id: str, now: float) -> int:
    with inst.db.transaction() as tx:
        row = _get(tx, execution_id)
        if row is None:
            return 0
        worker = row["worker"] or "?"
        cond = (
            "WHERE id = :id AND status = 'running' AND lease_expires_at < :now "
            "AND worker IS NOT DISTINCT FROM :w RETURNING id"
        )
        if inst.db.dialect == "sqlite":
            cond = cond.replace("IS NOT DISTINCT FROM", "IS")
        attempts, max_attempts = int(row["attempts"]), int(row["max_attempts"])
        message = (
            f"worker {worker} stopped heartbeating after {attempts} attempt(s); "
            f"the execution allows {max_attempts} attempt(s), so it is not retried "
            "(the worker process died or lost its connection to the database)"
        )
        return _give_up(
            tx,
            row,
            cond,
            {"id": execution_id, "now": now, "w": row["worker"]},
            "WorkerLost",
            f"worker {worker} stopped heartbeating",
            message,
        )


def abandon(inst: Instance, execution_id: str, worker: str, error_type: str, reason: str) -> str:
    """End ``worker``'s attempt at a running execution whose code it had to stop (e.g. a task
    outlived its timeout and was killed): back to ``queued`` while attempts remain (the budget
    is that of the task that was running, see ``runner.ExecutionFrame.enter_node``), else
    ``failed`` with ``error_type``. Running nodes fail with ``reason``. Returns the new status,
    or "" when the execution was no longer ``worker``'s."""
    with inst.db.transaction() as tx:
        row = _get(tx, execution_id)
        if row is None or row["status"] != "running" or row["worker"] != worker:
            return ""
        attempts, max_attempts = int(row["attempts"]), int(row["max_attempts"])
        message = (
            f"{reason}; attempt {attempts} of {max_attempts} allowed by the task's retries, "
            "so it is not retried"
        )
        cond = "WHERE id = :id AND status = 'running' AND worker = :w RETURNING id"
        got = _give_up(
            tx, row, cond, {"id": execution_id, "w": worker}, error_type, reason, message
        )
        if not got:
            return ""
        return "queued" if attempts < max_attempts else "failed"


def _give_up(
    tx: Tx,
    row: Any,
    cond: str,
    base: dict[str, Any],
    error_type: str,
    reason: str,
    message: str,
) -> int:
    """Requeue (attempts remain) or fail a running execution under ``cond``; its running
    nodes fail with ``error_type``/``reason``. One transaction with its event."""
    execution_id = row["id"]
    attempts, max_attempts = int(row["attempts"]), int(row["max_attempts"])
    stamp = time.time()
    node = tx.scalar(
        "SELECT node_id FROM node_executions WHERE execution_id = :id "
        "AND status = 'running' ORDER BY id DESC LIMIT 1",
        {"id": execution_id},
    )
    if attempts < max_attempts:
        got = tx.scalar(
            "UPDATE executions SET status = 'queued', worker = NULL, "
            f"lease_expires_at = NULL, started_at = NULL {cond}",
            base,
        )
        if got is None:
            return 0
        _fail_nodes(tx, execution_id, reason, stamp, error_type)
        _event(
            tx,
            row,
            EXECUTION_RETRYING,
            stamp,
            {
                "attempt": attempts,
                "max_attempts": max_attempts,
                "worker": row["worker"],
                "node": node,
                "reason": reason,
            },
        )
        return 1
    error = {"type": error_type, "message": message, "traceback": "", "node": node}
    got = tx.scalar(
        "UPDATE executions SET status = 'failed', error = :err, outputs = :out, "
        f"finished_at = :t, lease_expires_at = NULL {cond}",
        {**base, "err": json.dumps(error, sort_keys=True), "out": "{}", "t": stamp},
    )
    if got is None:
        return 0
    _fail_nodes(tx, execution_id, reason, stamp, error_type)
    _event(
        tx,
        row,
        event_names.EXECUTION_FAILED,
        stamp,
        {"status": "failed", "outputs": {}, "error": error},
    )
    return 1


def cancel(inst: Instance, execution_id: str, by: str | None = None) -> Any:
    """Cancel a queued or running execution: it becomes ``cancelled`` at once, with its
    running nodes, and ``headwater.execution.failed`` (status ``cancelled``) is written in the
    same transaction. A worker running it notices within :data:`CANCEL_CHECK` seconds and
    kills the process running the code; nothing that process writes afterwards is stored.
    Raises NotFoundError for an unknown id and ConflictError when the execution has ended or
    runs in the process that started it (``headwater.run``). Returns the updated row."""
    from headwater.errors import ConflictError, NotFoundError

    now = time.time()
    who = f" by {by}" if by else ""
    with inst.db.transaction() as tx:
        lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
        row = tx.one("SELECT * FROM executions WHERE id = :id" + lock, {"id": execution_id})
        if row is None:
            raise NotFoundError(
                f"no execution {execution_id!r}; list them with `headwater executions list`"
            )
        status = row["status"]
        if status not in ("queued", "running"):
            raise ConflictError(
                f"execution {execution_id} has already ended ({status}); only a queued or "
                "running execution can be cancelled"
            )
        if status == "running" and row["worker"] is None:
            raise ConflictError(
                f"execution {execution_id} runs inside the process that started it "
                "(headwater.run), not on a worker; stop that process (Ctrl-C) to end it"
            )
        message = f"cancelled{who} while {status}"
        error = {
            "type": "Cancelled",
            "message": message,
            "traceback": "",
            "node": None,
        }
        got = tx.scalar(
            "UPDATE executions SET status = 'cancelled', error = :err, outputs = :out, "
            "finished_at = :t, lease_expires_at = NULL "
            "WHERE id = :id AND status = :s RETURNING id",
            {
                "err": json.dumps(error, sort_keys=True),
                "out": "{}",
                "t": now,
                "id": execution_id,
                "s": status,
            },
        )
        assert got is not None  # the row is locked (PostgreSQL) or we are the writer (SQLite)
        _fail_nodes(tx, execution_id, message, now, "Cancelled", status="cancelled")
        _event(
            tx,
            row,
            event_names.EXECUTION_FAILED,
            now,
            {"status": "cancelled", "outputs": {}, "error": error},
        )
        return _get(tx, execution_id)


def _fail_nodes(
    tx: Tx,
    execution_id: str,
    reason: str,
    now: float,
    error_type: str = "WorkerLost",
    status: str = "failed",
) -> None:
    """Node executions the stopped attempt was running end as failed (or cancelled)."""
    nodes = tx.all(
        "SELECT id, node_id FROM node_executions WHERE execution_id = :id AND status = 'running'",
        {"id": execution_id},
    )
    for node in nodes:
        error = {"type": error_type, "message": reason, "traceback": "", "node": node["node_id"]}
        tx.execute(
            "UPDATE node_executions SET status = :s, error = :err, finished_at = :t WHERE id = :id",
            {"s": status, "err": json.dumps(error, sort_keys=True), "t": now, "id": node["id"]},
        )


def queue_depth(inst: Instance) -> int:
    """How many executions are waiting to be claimed."""
    with inst.db.read() as tx:
        return int(tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'queued'"))
