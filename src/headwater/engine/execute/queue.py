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

import logging
import time
import traceback
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from headwater.definitions.launch_plan import DEFAULT_QUEUE as DEFAULT_QUEUE  # the workers' default
from headwater.engine import event_names
from headwater.engine.event_names import SOURCE
from headwater.engine.execute import execution_events
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows
from headwater.storage import openlineage_outbox
from headwater.storage.db import Tx
from headwater.storage.executions import ExecutionRow
from headwater.storage.notify import EVENTS, push_enabled

log = logging.getLogger("headwater.worker")

if TYPE_CHECKING:
    from headwater.instance import Instance

#: Emitted when a running execution is put back in the queue (its worker was lost).
EXECUTION_RETRYING = event_names.EXECUTION_RETRYING

#: Seconds between a busy worker's checks that its execution was not cancelled.
CANCEL_CHECK = 0.25
_MAX_CLAIM_TRIES = 8
_REAP_BATCH = 200


def _event(
    tx: Tx, row: ExecutionRow, name: str, now: float, extra: dict[str, Any] | None = None
) -> None:
    """An execution event about ``row``."""
    execution_events.emit(
        tx,
        name,
        now,
        execution_id=row.id,
        workflow=row.workflow,
        launch_plan=row.launch_plan,
        project=row.project,
        domain=row.domain,
        extra=extra,
    )


def _get(tx: Tx, execution_id: str) -> ExecutionRow:
    """The row of an execution known to exist (this transaction has just changed it)."""
    row = rows.get_execution(tx, execution_id)
    assert row is not None
    return row


def has_queued(inst: Instance, queues: Sequence[str] | None = None) -> bool:
    """A cheap read (no write lock): is anything waiting (on one of ``queues``; None: any)?"""
    with inst.db.read() as tx:
        return rows.has_queued(tx, queues)


def claim(
    inst: Instance,
    worker: str,
    lease_seconds: float,
    queues: Sequence[str] | None = None,
    *,
    look: bool = True,
) -> ExecutionRow | None:
    """Take the oldest ``queued`` execution on one of ``queues`` (None: on any queue) whose
    launch plan is under its concurrency limit.

    The row becomes ``running`` for ``worker`` with a lease of ``lease_seconds``, its
    ``attempts`` count goes up by one and ``headwater.execution.started`` is written in the
    same transaction. Returns the claimed row (read after the change), or None.

    ``look``: first check, without a transaction, whether anything is queued (what an idle
    poll wants); False when work is known to wait (woken by a NOTIFY), saving that round trip.
    On PostgreSQL the candidate is found and taken, and the event written, by one statement
    that commits on its own (one round trip) unless its launch plan has a concurrency limit:
    then a claim is ``BEGIN``, that statement, the lock and count, the event, ``COMMIT``.
    """
    if look and not has_queued(inst, queues):
        return None
    postgres = inst.db.dialect == "postgresql"
    if postgres and not openlineage_outbox.enabled():
        now = time.time()
        event = {"id": uuid.uuid4().hex, "name": event_names.EXECUTION_STARTED, "source": SOURCE}
        with inst.db.statements() as tx:
            cand, row = rows.take_oldest_started(
                tx,
                worker=worker,
                lease_expires_at=now + lease_seconds,
                now=now,
                queues=queues,
                event=event,
                notify=EVENTS if push_enabled() else None,
            )
        if cand is None or row is not None:
            return row
        # A launch plan with a concurrency limit (nothing was written): claimed under its lock.
    full: list[int] = []  # launch plans found at their limit under the lock (PostgreSQL)
    for _ in range(_MAX_CLAIM_TRIES):
        with inst.db.transaction() as tx:
            now = time.time()
            lease = now + lease_seconds
            if postgres and not full:
                cand, row = rows.take_oldest(
                    tx, worker=worker, lease_expires_at=lease, now=now, queues=queues
                )
            else:
                cand = rows.claim_candidate(tx, skip_launch_plans=full, queues=queues)
                row = None
            if cand is None:
                return None
            if row is None:
                limit, lp = cand.concurrency_limit, cand.launch_plan_id
                if postgres and limit is not None and lp is not None:
                    # Another claimer may have taken a row of this launch plan since our
                    # snapshot; under the lock, a fresh count sees every claim committed
                    # before ours.
                    rows.lock_launch_plan(tx, lp)
                    if rows.count_running(tx, lp) >= int(limit):
                        full.append(int(lp))
                        continue  # nothing written; the row lock goes with this transaction
                row = rows.take(tx, cand.id, worker=worker, lease_expires_at=lease, now=now)
                if row is None:  # cannot happen under the locks above; be safe anyway
                    continue
            _started(tx, row, worker, now)
        return row
    return None


def claim_id(
    inst: Instance, execution_id: str, worker: str, lease_seconds: float
) -> ExecutionRow | None:
    """Claim one particular queued execution (to run it in this process); None if it is not
    queued any more."""
    with inst.db.transaction() as tx:
        return _take(tx, execution_id, worker, lease_seconds)


def _take(tx: Tx, execution_id: str, worker: str, lease_seconds: float) -> ExecutionRow | None:
    """Make a queued row ``running`` for ``worker`` and write its started event; None if it
    was not queued."""
    now = time.time()
    row = rows.take(tx, execution_id, worker=worker, lease_expires_at=now + lease_seconds, now=now)
    if row is not None:
        _started(tx, row, worker, now)
    return row


def _started(tx: Tx, row: ExecutionRow, worker: str, now: float) -> None:
    _event(tx, row, event_names.EXECUTION_STARTED, now, {"attempt": row.attempts, "worker": worker})


def heartbeat(inst: Instance, execution_id: str, worker: str, lease_seconds: float) -> bool:
    """Extend the lease. False when the execution is no longer ``running`` for ``worker``."""
    with inst.db.transaction() as tx:
        return rows.extend_lease(
            tx, execution_id, worker=worker, lease_expires_at=time.time() + lease_seconds
        )


def requeue(inst: Instance, execution_id: str, worker: str, reason: str) -> bool:
    """Give a claimed execution back without counting the attempt (the worker could not run
    it here, e.g. its snapshot conflicts with code already imported). False if not ours."""
    with inst.db.transaction() as tx:
        if not rows.unclaim(tx, execution_id, worker=worker):
            return False
        row = _get(tx, execution_id)
        _event(
            tx,
            row,
            EXECUTION_RETRYING,
            time.time(),
            {"attempt": row.attempts, "worker": worker, "reason": reason},
        )
    return True


def hand_back(inst: Instance, execution_id: str, worker: str, reason: str) -> bool:
    """A stopping worker gives back a running execution whose code it has killed: it is
    queued again at once for another worker (the attempt not counted), and the node
    executions it was running end as failed with ``WorkerStopped``. One transaction with its
    event. False when the execution was no longer ``worker``'s."""
    now = time.time()
    with inst.db.transaction() as tx:
        if not rows.unclaim(tx, execution_id, worker=worker):
            return False
        _fail_nodes(tx, execution_id, reason, now, "WorkerStopped")
        row = _get(tx, execution_id)
        _event(
            tx,
            row,
            EXECUTION_RETRYING,
            now,
            {"attempt": row.attempts, "worker": worker, "reason": reason},
        )
    return True


def give_back(inst: Instance, execution_id: str, worker: str, exc: BaseException) -> None:
    """The storage failed under a claimed execution (e.g. PostgreSQL restarted): queue it
    again, not counting the attempt, once the database answers (waits out the outage)."""
    log.warning("worker %s: execution %s interrupted: %s", worker, execution_id, exc)
    reason = f"storage unavailable: {exc}"
    inst.db.retrying(lambda: requeue(inst, execution_id, worker, reason), attempts=8)


def error_record(what: str, exc: BaseException) -> dict[str, Any]:
    """The ``error`` of an execution that failed outside its workflow's code (``what`` went
    wrong, then the exception), as :func:`fail` takes it."""
    return {
        "type": type(exc).__name__,
        "message": f"{what}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
        "node": None,
    }


def fail(inst: Instance, execution_id: str, worker: str, error: dict[str, Any]) -> bool:
    """End a claimed execution as ``failed`` with ``error`` before its code ran (e.g. the
    snapshot could not be loaded). False if the execution is no longer ours."""
    now = time.time()
    with inst.db.transaction() as tx:
        if not rows.fail_claimed(tx, execution_id, worker=worker, error=error, now=now):
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
        return rows.expire_leases(tx, worker=worker, expires_at=now - 0.001)


def reap(inst: Instance, now: float | None = None) -> int:
    """Handle every ``running`` execution whose lease has expired (its worker stopped
    heartbeating): back to ``queued`` while attempts remain, else ``failed``. Each change is
    committed with its event; a conditional update means two reapers never handle one
    execution twice. Returns how many executions were handled."""
    now = time.time() if now is None else now
    handled = 0
    while True:
        with inst.db.read() as tx:
            expired = rows.expired(tx, now=now, limit=_REAP_BATCH)
        for execution_id in expired:
            handled += _reap_one(inst, execution_id, now)
        if len(expired) < _REAP_BATCH:
            return handled


def _reap_one(inst: Instance, execution_id: str, now: float) -> int:
    with inst.db.transaction() as tx:
        row = rows.get_execution(tx, execution_id)
        if row is None:
            return 0
        worker = row.worker or "?"
        attempts, max_attempts = int(row.attempts), int(row.max_attempts)
        message = (
            f"worker {worker} stopped heartbeating after {attempts} attempt(s); "
            f"the execution allows {max_attempts} attempt(s), so it is not retried "
            "(the worker process died or lost its connection to the database)"
        )
        return _give_up(
            tx,
            row,
            row.worker,
            now,
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
        row = rows.get_execution(tx, execution_id)
        if row is None or row.status != "running" or row.worker != worker:
            return ""
        attempts, max_attempts = int(row.attempts), int(row.max_attempts)
        message = (
            f"{reason}; attempt {attempts} of {max_attempts} allowed by the task's retries, "
            "so it is not retried"
        )
        got = _give_up(tx, row, worker, None, error_type, reason, message)
        if not got:
            return ""
        return "queued" if attempts < max_attempts else "failed"


def _give_up(
    tx: Tx,
    row: ExecutionRow,
    worker: str | None,
    expired_before: float | None,
    error_type: str,
    reason: str,
    message: str,
) -> int:
    """Requeue (attempts remain) or fail the execution while it runs for ``worker`` (and,
    given ``expired_before``, its lease ended before then); its running nodes fail with
    ``error_type``/``reason``. One transaction with its event."""
    execution_id = row.id
    attempts, max_attempts = int(row.attempts), int(row.max_attempts)
    stamp = time.time()
    node = node_rows.last_running_node_id(tx, execution_id)
    if attempts < max_attempts:
        if not rows.requeue_attempt(tx, execution_id, worker=worker, expired_before=expired_before):
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
                "worker": row.worker,
                "node": node,
                "reason": reason,
            },
        )
        return 1
    error = {"type": error_type, "message": message, "traceback": "", "node": node}
    if not rows.fail_attempt(
        tx, execution_id, worker=worker, error=error, now=stamp, expired_before=expired_before
    ):
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


def cancel(inst: Instance, execution_id: str, by: str | None = None) -> ExecutionRow:
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
        row = rows.get_execution(tx, execution_id, for_update=True)
        if row is None:
            raise NotFoundError(
                f"no execution {execution_id!r}; list them with `headwater executions list`"
            )
        status = row.status
        if status not in ("queued", "running"):
            raise ConflictError(
                f"execution {execution_id} has already ended ({status}); only a queued or "
                "running execution can be cancelled"
            )
        if status == "running" and row.worker is None:
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
        got = rows.mark_cancelled(tx, execution_id, status=status, error=error, now=now)
        assert got  # the row is locked (PostgreSQL) or we are the writer (SQLite)
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
    for node in node_rows.running_nodes(tx, execution_id):
        error = {"type": error_type, "message": reason, "traceback": "", "node": node.node_id}
        node_rows.end_node(tx, node.id, status=status, error=error, finished_at=now)


def queue_depth(inst: Instance) -> int:
    """How many executions are waiting to be claimed."""
    with inst.db.read() as tx:
        return rows.count_queued(tx)
