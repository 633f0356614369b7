"""Running a workflow as a recorded execution: eager Python, every task call a node.

Transactions (each one commits a change together with its events, the outbox):
  1. execution row (running) + ``execution.started`` + consumed lineage edges
  2. per node: node row (running); then node result + its artifact versions + their events
     + produced edges
  3. execution result + workflow-level artifact versions + ``execution.succeeded|failed``
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import traceback
from typing import TYPE_CHECKING, Any

from headwater.definitions import context as _context
from headwater.definitions.artifact import Artifact
from headwater.definitions.cards import Card
from headwater.definitions.entity import Entity, TaskDef
from headwater.definitions.storable import check_strings
from headwater.engine import event_names
from headwater.engine.execute import execution_events
from headwater.engine.execute.binding import (
    BoundInputs,
    BoundOutput,
    LiteralMemo,
    OutputMeta,
    bind_inputs,
    bind_outputs,
    split_result,
)
from headwater.engine.execute.timeouts import call_with_timeout
from headwater.engine.publish import artifacts
from headwater.engine.register.registry import ensure_registered
from headwater.errors import HeadwaterError, UserInputError
from headwater.handles import Execution, ExecutionStatus
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows
from headwater.storage.db import Tx
from headwater.storage.execution_links import insert_links
from headwater.storage.executions import ExecutionRow
from headwater.storage.faults import PASSING
from headwater.storage.lineage_edges import CONSUMED, PRODUCED, insert_edges
from headwater.types import decode

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.storage.sent import Sent

# Seconds after a claim (a quarter of the lease at most) in which its first node may start
# before its row is confirmed.
SEND_WINDOW = 1.0
# JSON text as storage/executions.py writes its columns: a row's stored inputs compare equal.
_STORED = json.JSONEncoder(sort_keys=True)


def new_execution_id() -> str:
    """Sortable by creation time: milliseconds in hex, then randomness."""
    return f"{int(time.time() * 1000):011x}{secrets.token_hex(4)}"


def _error(exc: BaseException, node: str | None = None) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "traceback": "".join(traceback.format_exception(exc)),
        "node": node,
    }


class _MetaCollector:
    def __init__(self) -> None:
        self.pending: list[OutputMeta] = []

    def add_output_metadata(
        self,
        artifact: Artifact,
        value: Any,
        cards: list[Card],
        time_partition: Any,
        partitions: dict[str, str],
    ) -> None:
        self.pending.append(OutputMeta(artifact, value, cards, time_partition, partitions))


class NodeFrame(_MetaCollector):
    """Active while a task body runs. Tasks called from inside a task are plain calls."""

    def __init__(self, execution: ExecutionFrame, node_id: str, task: Entity) -> None:
        super().__init__()
        self.execution = execution
        self.node_id = node_id
        self.task = task

    def call(self, entity: Entity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return entity.fn(*args, **kwargs)


class ExecutionFrame(_MetaCollector):
    """Active while a workflow body runs; records each task call as a node."""

    def __init__(
        self,
        inst: Instance,
        execution_id: str,
        workflow: Entity,
        project: str,
        domain: str,
        launch_plan: str | None,
        trigger: dict[str, Any] | None,
    ) -> None:
        super().__init__()
        self.inst = inst
        self.execution = self
        self.execution_id = execution_id
        self.workflow = workflow
        self.project = project
        self.domain = domain
        self.launch_plan = launch_plan
        self.trigger = trigger
        self.memo = LiteralMemo()
        self.node_count = 0
        # False until the nodes an earlier attempt recorded are counted (numbering goes on
        # after them): a claimed execution counts them with its first node's lease check.
        self.nodes_counted = True
        self.failed_node: str | None = None
        # The worker holding the lease (None when run in-process): results are written only
        # while it still does, so a worker that lost its lease (reaped, or the execution was
        # cancelled) cannot overwrite a retry or a cancellation.
        self.worker: str | None = None
        self.max_attempts = 1  # as stored on the row; follows the running task's retries
        # Until then (monotonic), the first node may start before its row is confirmed: the
        # claim is fresh, so its lease cannot have run out (see run_node).
        self.send_first_until = 0.0

    def holds_lease(self, tx: Tx) -> bool:
        """True in-process, and on a worker while its claim on the execution holds."""
        return self.worker is None or rows.still_leased(tx, self.execution_id, self.worker)

    def enter_node(self, tx: Tx, task: Entity) -> None:
        """On a worker: check the claim still holds (else raise :class:`ExecutionLost`) and
        make the execution's attempt budget that of the task about to run, so that losing
        the worker (or killing a task past its timeout) retries as often as *this* task's
        ``retries`` allow. Before the first node: count those an earlier attempt recorded
        (with the lease check, one statement)."""
        if self.worker is None:
            if not self.nodes_counted:
                self.node_count = node_rows.count_nodes(tx, self.execution_id)
                self.nodes_counted = True
            return
        if self.nodes_counted:
            held = self.holds_lease(tx)
        else:
            counted = rows.nodes_if_leased(tx, self.execution_id, self.worker)
            held = counted is not None
            if counted is not None:
                self.node_count, self.nodes_counted = counted, True
        if not held:
            raise ExecutionLost(self.execution_id)
        budget = 1 + task.options.retries
        if budget != self.max_attempts:
            rows.set_max_attempts(tx, self.execution_id, budget)
            self.max_attempts = budget

    def call(self, entity: Entity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not isinstance(entity, TaskDef):
            return entity.fn(*args, **kwargs)  # a sub-workflow runs inline, its tasks recorded
        return run_node(self, entity, args, kwargs)

    def map_items(
        self, task: TaskDef, calls: list[dict[str, Any]], concurrency: int | None
    ) -> list[Any]:
        """``headwater.map`` inside this execution: one recorded node per call, in parallel."""
        from headwater.engine.execute.map_run import run_map

        return run_map(self, task, calls, concurrency)

    # -- writing results ---------------------------------------------------------------------
    def write_outputs(
        self, tx: Tx, outputs: list[BoundOutput], now: float, node_id: str | None
    ) -> None:
        edges = []
        for out in outputs:
            if out.emission is None:
                continue
            vid, _ = artifacts.write_version(
                tx, self.inst, out.emission, out.literal, now, self.execution_id, node_id, out.name
            )
            edges.append(
                {
                    "execution_id": self.execution_id,
                    "version_id": vid,
                    "direction": PRODUCED,
                    "name": out.name,
                    "node_id": node_id,
                }
            )
        insert_edges(tx, edges)


def _bind_call(task: Entity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    if not args and all(k in task.interface.inputs for k in kwargs):
        return kwargs  # the common keyword-only call; defaults are applied by bind_inputs
    try:
        bound = task.signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise UserInputError(f"task {task.name!r} was called wrongly: {exc}") from None
    return dict(bound.arguments)


def _cache_key(task: Entity, literals: dict[str, dict[str, Any]]) -> str:
    ident = {
        k: v.get("blob") or json.dumps([v.get("format"), v.get("value")], sort_keys=True)
        for k, v in sorted(literals.items())
    }
    body = json.dumps([task.name, task.options.cache_version, ident], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def run_node(
    frame: ExecutionFrame, task: Entity, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inst = frame.inst
    started = time.time()
    bound = bind_inputs(
        inst, task, _bind_call(task, args, kwargs), frame.project, frame.domain, frame.memo
    )
    cache_key = _cache_key(task, bound.literals) if task.options.cache else None
    fields = {
        "execution_id": frame.execution_id,
        "name": task.name,
        "kind": task.kind,
        "status": "running",
        "inputs": bound.literals,
        "attempts": 0,
        "cache_key": cache_key,
        "started_at": started,
    }
    sent: Sent | None = None  # the node's row, sent and not yet confirmed
    row_id = 0
    # On a worker, the common node (PostgreSQL, no consumed artifact, the attempt budget as
    # stored) skips the transaction: None when it is not one.
    worker = (
        frame.worker
        if inst.db.dialect == "postgresql"
        and not bound.consumed
        and 1 + task.options.retries == frame.max_attempts
        else None
    )
    if (
        worker is not None
        and frame.nodes_counted
        and _context.ACTIVE.get() is frame
        and time.monotonic() < frame.send_first_until
    ):
        # The first node right after the claim, its id known: the lease check and the insert
        # are one statement, sent, and the task starts meanwhile (a round trip sooner). Its
        # result is read before anything else of the node is written (or a retry waits); a
        # lease lost meanwhile (only a cancel can, this soon) ends the node there, unrecorded.
        frame.send_first_until = 0.0
        node_id = f"n{frame.node_count}"
        frame.node_count += 1
        sent = node_rows.send_node_if_leased(inst.db, worker=worker, node_id=node_id, **fields)
    elif worker is not None:
        # The lease check (and the count of an earlier attempt's nodes) and the insert in one
        # statement, no transaction around it.
        with inst.db.statements() as tx:
            got = node_rows.insert_node_if_leased(
                tx,
                worker=worker,
                node_id=f"n{frame.node_count}" if frame.nodes_counted else None,
                **fields,
            )
        if got is None:
            raise ExecutionLost(frame.execution_id)
        row_id, node_id = got
        frame.node_count, frame.nodes_counted = int(node_id[1:]) + 1, True
    else:
        with inst.db.transaction() as tx:
            frame.enter_node(tx, task)  # numbers the nodes on, after an earlier attempt's
            node_id = f"n{frame.node_count}"
            frame.node_count += 1
            row_id = node_rows.insert_node(tx, node_id=node_id, **fields)
            _consumed_edges(tx, frame, bound.consumed, node_id)
    attempts = 0
    retry_log: list[dict[str, Any]] = []
    cached_from = None
    node = NodeFrame(frame, node_id, task)
    try:
        cached = None
        if cache_key is not None:
            with inst.db.read() as tx:
                cached = node_rows.find_cached(tx, cache_key)
        if cached is not None:
            literals = json.loads(cached.outputs or "{}")
            cached_from = f"{cached.execution_id}/{cached.node_id}"
            values = [
                decode(literals[n], s.type, inst.blobs) for n, s in task.interface.outputs.items()
            ]
            nt = task.interface.named_tuple
            result = (nt(*values) if nt else values[0]) if values else None
        else:
            while True:
                attempts += 1
                token = _context.ACTIVE.set(node)
                try:
                    result = call_with_timeout(task.fn, bound.values, task.options.timeout)
                    break
                except Exception as exc:
                    node.pending.clear()
                    if attempts > task.options.retries:
                        raise
                    retry_log.append(retry_entry(task, attempts + 1, exc))
                finally:
                    _context.ACTIVE.reset(token)
                if sent is not None:
                    row_id, sent = _confirmed(frame, sent), None
                wait_before_retry(frame, row_id, attempts, retry_log)
        if sent is not None:
            row_id, sent = _confirmed(frame, sent), None
        outputs = bind_outputs(
            inst, task, result, bound.values, node.pending, frame.project, frame.domain, frame.memo
        )
    except BaseException as exc:
        if sent is not None:  # a lost lease or storage fault replaces the task's error
            row_id, sent = _confirmed(frame, sent), None
        frame.failed_node = node_id
        with inst.db.transaction() as tx:
            if frame.holds_lease(tx):
                node_rows.update_node(
                    tx,
                    row_id,
                    status="failed",
                    error=_error(exc, node_id),
                    attempts=attempts,
                    finished_at=time.time(),
                    **({"retry_log": retry_log} if retry_log else {}),
                )
        raise
    now = time.time()
    with inst.db.transaction() as tx:
        if not frame.holds_lease(tx):  # cancelled or reaped meanwhile: store nothing more
            raise ExecutionLost(frame.execution_id)
        frame.write_outputs(tx, outputs, now, node_id)
        node_rows.update_node(
            tx,
            row_id,
            status="succeeded",
            attempts=attempts,
            outputs={o.name: o.literal for o in outputs},
            cached_from=cached_from,
            finished_at=now,
            **({"retry_log": retry_log} if retry_log else {}),
        )
    return result


def _confirmed(frame: ExecutionFrame, sent: Sent) -> int:
    """The row id of a node whose row was sent; ExecutionLost when the lease was gone."""
    got = sent.one()
    if got is None:
        raise ExecutionLost(frame.execution_id)
    return int(got["id"] or 0)


def retry_entry(task: Entity, attempt: int, exc: BaseException) -> dict[str, Any]:
    """What the node's retry log keeps about the retry ``attempt`` (2: the first retry)."""
    return {
        "attempt": attempt,
        "wait": task.options.retry_wait(attempt),
        "error": f"{type(exc).__name__}: {exc}"[:500],
    }


def wait_before_retry(
    frame: ExecutionFrame, row_id: int, attempts: int, retry_log: list[dict[str, Any]]
) -> None:
    """Record the retry about to happen (the attempts so far and the log), then wait its
    delay; a cancelled or taken-over execution stops here instead of retrying."""
    if not retry_log or retry_log[-1]["attempt"] != attempts + 1:
        return
    with frame.inst.db.transaction() as tx:
        if not frame.holds_lease(tx):
            raise ExecutionLost(frame.execution_id)
        node_rows.update_node(tx, row_id, attempts=attempts, retry_log=retry_log)
    wait = float(retry_log[-1]["wait"])
    if wait > 0:
        time.sleep(wait)


def _execution_event(
    tx: Tx, frame: ExecutionFrame, name: str, now: float, extra: dict[str, Any] | None = None
) -> None:
    execution_events.emit(
        tx,
        name,
        now,
        execution_id=frame.execution_id,
        workflow=frame.workflow.name,
        launch_plan=frame.launch_plan,
        project=frame.project,
        domain=frame.domain,
        extra=extra,
    )


def _consumed_edges(
    tx: Tx, frame: ExecutionFrame, consumed: list[tuple[str, int]], node_id: str | None = None
) -> None:
    insert_edges(
        tx,
        [
            {
                "execution_id": frame.execution_id,
                "version_id": vid,
                "direction": CONSUMED,
                "name": name,
                "node_id": node_id,
            }
            for name, vid in consumed
        ],
    )


def execute(
    inst: Instance,
    workflow: Entity,
    inputs: dict[str, Any],
    *,
    launch_plan: str | None = None,
    trigger: dict[str, Any] | None = None,
    project: str | None = None,
    domain: str | None = None,
) -> Execution:
    """Run ``workflow`` here and now as a recorded execution; returns when it has ended.

    Bad input raises before anything is stored; a failure inside the workflow is recorded
    (status ``failed`` with the traceback) and does not raise.
    """
    if _context.ACTIVE.get() is not None:
        raise UserInputError(
            "headwater.run() was called inside a running execution; call the "
            "workflow or task directly to run it as part of this execution"
        )
    project, domain = project or inst.project, domain or inst.domain
    reg = ensure_registered(inst, workflow, project, domain)
    frame = ExecutionFrame(
        inst, new_execution_id(), workflow, project, domain, launch_plan, trigger
    )
    bound = bind_inputs(inst, workflow, inputs, project, domain, frame.memo)
    for name in inputs:  # what the caller gave is stored as text: refused if unstorable
        check_strings(bound.literals.get(name), f"{workflow.kind} {workflow.name!r} input {name!r}")
    now = time.time()
    with inst.db.transaction() as tx:
        rows.insert_execution(
            tx,
            id=frame.execution_id,
            project=project,
            domain=domain,
            workflow=workflow.name,
            workflow_version=reg.version,
            launch_plan=launch_plan,
            status="running",
            inputs=bound.literals,
            resolved=bound.resolved,
            trigger=trigger,
            created_at=now,
            started_at=now,
            attempts=1,
        )
        _consumed_edges(tx, frame, bound.consumed)
        if trigger and trigger.get("runs"):  # e.g. a local run simulating a trigger
            insert_links(tx, frame.execution_id, list(trigger["runs"]), "triggered")
        _execution_event(tx, frame, event_names.EXECUTION_STARTED, now)
    return _run_and_finish(frame, bound)


def run_claimed(inst: Instance, workflow: Entity, row: ExecutionRow) -> Execution:
    """Run an execution a worker has claimed (its row is ``running``; the claim wrote the
    ``execution.started`` event). Inputs stored on the row are decoded with the workflow's
    types; the rest come from defaults and query defaults, resolved now and recorded.
    A stored input that no longer fits the workflow fails the execution with the reason.
    """
    trigger = json.loads(row.trigger) if row.trigger else None
    frame = ExecutionFrame(
        inst, row.id, workflow, row.project, row.domain, row.launch_plan, trigger
    )
    frame.worker = row.worker
    frame.max_attempts = int(row.max_attempts)
    # A retry after a lost worker numbers its nodes after the old ones: counted by the claim
    # (PostgreSQL), else with the first node's lease check.
    if row.nodes_before is None:
        frame.nodes_counted = False
    else:
        frame.node_count = row.nodes_before
        lease = (row.lease_expires_at or 0.0) - (row.started_at or 0.0)
        frame.send_first_until = time.monotonic() + min(SEND_WINDOW, lease / 4)
    specs = workflow.interface.inputs
    try:
        given = {}
        for name, literal in json.loads(row.inputs).items():
            value = decode(literal, specs[name].type if name in specs else None, inst.blobs)
            frame.memo.remember(value, literal)
            given[name] = value
        bound = bind_inputs(inst, workflow, given, frame.project, frame.domain, frame.memo)
    except HeadwaterError as exc:
        return _finish(frame, ExecutionStatus.FAILED, [], _error(exc))
    resolved = {**json.loads(row.resolved or "{}"), **bound.resolved}
    # A triggered execution arrives with every input bound and recorded by the reactor: then
    # nothing is left to write, and the workflow starts without a transaction.
    if (
        bound.consumed
        or _STORED.encode(bound.literals) != row.inputs
        or _STORED.encode(resolved) != row.resolved
    ):
        with inst.db.transaction() as tx:
            rows.update_execution(tx, frame.execution_id, inputs=bound.literals, resolved=resolved)
            _consumed_edges(tx, frame, bound.consumed)
    return _run_and_finish(frame, bound)


def _run_and_finish(frame: ExecutionFrame, bound: BoundInputs) -> Execution:
    inst, workflow = frame.inst, frame.workflow
    status, outputs, error = ExecutionStatus.SUCCEEDED, [], None
    interrupted = False
    token: Any = _context.ACTIVE.set(frame)
    try:
        if isinstance(workflow, TaskDef):  # a task run on its own: an execution of one node
            result = run_node(frame, workflow, (), dict(bound.values))
            outputs = [
                BoundOutput(
                    n,
                    v,
                    frame.memo.encode(v, workflow.interface.outputs[n].type, inst, f"output {n!r}"),
                    None,
                )
                for n, v in split_result(workflow, result).items()
            ]
        else:
            result = workflow.fn(**bound.values)
            _context.ACTIVE.reset(token)
            token = None
            outputs = bind_outputs(
                inst,
                workflow,
                result,
                bound.values,
                frame.pending,
                frame.project,
                frame.domain,
                frame.memo,
            )
    except ExecutionLost:
        raise  # nothing to record: the execution is no longer this worker's
    except BaseException as exc:
        if isinstance(exc, PASSING) and frame.worker is not None:
            raise  # the storage failed, not the workflow: the worker gives the execution back
        # Ctrl-C still ends the process, but the execution is recorded as ended, not running.
        interrupted = not isinstance(exc, Exception)
        status = ExecutionStatus.CANCELLED if interrupted else ExecutionStatus.FAILED
        error = _error(exc, frame.failed_node)
    finally:
        if token is not None:
            _context.ACTIVE.reset(token)
    execution = _finish(frame, status, outputs, error)
    if interrupted:
        raise KeyboardInterrupt
    return execution


def _finish(
    frame: ExecutionFrame,
    status: ExecutionStatus,
    outputs: list[BoundOutput],
    error: dict[str, Any] | None,
) -> Execution:
    """Commit the result, its artifact versions and its event together."""
    inst = frame.inst
    now = time.time()
    out_literals = {o.name: o.literal for o in outputs}
    try:
        with inst.db.transaction() as tx:
            if frame.worker is not None and not rows.still_leased(
                tx, frame.execution_id, frame.worker
            ):
                raise _LeaseLost
            if status is ExecutionStatus.SUCCEEDED:
                frame.write_outputs(tx, outputs, now, None)
            rows.update_execution(
                tx,
                frame.execution_id,
                status=status.value,
                outputs=out_literals,
                error=error,
                finished_at=now,
                lease_expires_at=None,
            )
            name = (
                event_names.EXECUTION_SUCCEEDED
                if status is ExecutionStatus.SUCCEEDED
                else event_names.EXECUTION_FAILED
            )
            _execution_event(
                tx,
                frame,
                name,
                now,
                {"status": status.value, "outputs": out_literals, "error": error},
            )
    except _LeaseLost:
        pass  # another attempt owns the execution now; this one's result is dropped
    with inst.db.read() as tx:
        row = rows.get_execution(tx, frame.execution_id)
    return Execution(inst, row, frame.workflow)


class ExecutionLost(BaseException):
    """A worker's claim on the execution ended while it ran (it was cancelled, or its lease
    expired and it was reaped): the run stops and writes nothing more. A BaseException so
    that ``except Exception`` in user code does not swallow it."""


class _LeaseLost(Exception):
    """The worker's lease ended (it was reaped) before it could write the result."""
