"""The child side of ``headwater.map``: run one item and record its node, as ``run_node`` does.

Runs in a process of the local pool or on a Dask worker. Inputs arrive as literals (inline
values or blob references) and outputs leave the same way, so values flow through the blob
store; the node row is updated here, in this process's own connection to the database.
Every start of the item counts as an attempt, also when the previous one died with its
process (a Dask worker killed mid-task: Dask runs the item again elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from headwater.definitions import context as _context

if TYPE_CHECKING:
    from headwater.definitions.entity import TaskDef
    from headwater.engine.execute.runner import ExecutionFrame
    from headwater.instance import Instance
    from headwater.settings import Settings


@dataclass(frozen=True)
class MapItem:
    """Everything a process needs to run one item of a map (picklable)."""

    settings: Settings
    execution_id: str
    workflow: str
    project: str
    domain: str
    launch_plan: str | None
    trigger: dict[str, Any] | None
    worker: str | None
    node_id: str
    row_id: int
    task: bytes  # the task, cloudpickled once per map
    inputs: dict[str, dict[str, Any]]
    cache_key: str | None


@dataclass(frozen=True)
class _WorkflowName:
    name: str


_instances: dict[Settings, Instance] = {}
_tasks: dict[str, TaskDef] = {}


def _instance(settings: Settings) -> Instance:
    from headwater.instance import Instance

    inst = _instances.get(settings)
    if inst is None:
        for old in _instances.values():  # one instance at a time per process
            old.close()
        _instances.clear()
        inst = _instances[settings] = Instance(settings)
    return inst


def _task(blob: bytes) -> TaskDef:
    import cloudpickle

    key = hashlib.sha256(blob).hexdigest()
    task = _tasks.get(key)
    if task is None:
        task = _tasks[key] = cloudpickle.loads(blob)
    return task


def run_item(item: MapItem) -> dict[str, Any]:
    """Run one item; returns ``{"status": "succeeded", "outputs": {...literals}}``,
    ``{"status": "failed", "error": {...}}`` or ``{"status": "lost"}`` (the execution was
    cancelled or taken over: nothing was written)."""
    from headwater.engine.execute.binding import bind_outputs
    from headwater.engine.execute.runner import ExecutionFrame, NodeFrame, _error, retry_entry
    from headwater.engine.execute.timeouts import call_with_timeout
    from headwater.storage import node_executions as node_rows
    from headwater.types import decode

    inst = _instance(item.settings)
    task = _task(item.task)
    frame = ExecutionFrame(
        inst,
        item.execution_id,
        cast(Any, _WorkflowName(item.workflow)),
        item.project,
        item.domain,
        item.launch_plan,
        item.trigger,
    )
    frame.worker = item.worker
    specs = task.interface.inputs
    values = {}
    for name, literal in item.inputs.items():
        value = decode(literal, specs[name].type if name in specs else None, inst.blobs)
        frame.memo.remember(value, literal)
        values[name] = value

    if item.cache_key is not None:
        with inst.db.read() as tx:
            cached = node_rows.find_cached(tx, item.cache_key)
        if cached is not None:
            literals = json.loads(cached.outputs or "{}")
            with inst.db.transaction() as tx:
                if not frame.holds_lease(tx):
                    return {"status": "lost"}
                node_rows.update_node(
                    tx,
                    item.row_id,
                    status="succeeded",
                    outputs=literals,
                    cached_from=f"{cached.execution_id}/{cached.node_id}",
                    finished_at=time.time(),
                )
            return {"status": "succeeded", "outputs": literals}

    node = NodeFrame(frame, item.node_id, task)
    first = True
    attempts = 0
    retry_log: list[dict[str, Any]] = []
    while True:
        with inst.db.transaction() as tx:
            if not frame.holds_lease(tx):
                return {"status": "lost"}
            row = node_rows.node_progress(tx, item.row_id)
            if row is not None and row.status == "succeeded":
                # Run again after its result was written (its process died before Dask
                # heard back): the recorded result stands, nothing is published twice.
                return {"status": "succeeded", "outputs": row.outputs}
            attempts = 1 + (row.attempts if row is not None else 0)
            fields: dict[str, Any] = {"status": "running", "attempts": attempts}
            if first:
                fields["started_at"] = time.time()
            if retry_log:
                fields["retry_log"] = retry_log
            node_rows.update_node(tx, item.row_id, **fields)
        first = False
        token = _context.ACTIVE.set(node)
        try:
            result = call_with_timeout(task.fn, values, task.options.timeout)
            break
        except Exception as exc:
            node.pending.clear()
            # A retry spent by a lost process counts too: at least one run per start.
            if attempts > task.options.retries:
                return _failed(inst, frame, item, _error(exc, item.node_id), retry_log)
            retry_log.append(retry_entry(task, attempts + 1, exc))
        finally:
            _context.ACTIVE.reset(token)
        wait = float(retry_log[-1]["wait"])
        if wait > 0:
            time.sleep(wait)
    try:
        outputs = bind_outputs(
            inst, task, result, values, node.pending, frame.project, frame.domain, frame.memo
        )
    except Exception as exc:
        return _failed(inst, frame, item, _error(exc, item.node_id))
    now = time.time()
    literals = {o.name: o.literal for o in outputs}
    with inst.db.transaction() as tx:
        if not frame.holds_lease(tx):
            return {"status": "lost"}
        frame.write_outputs(tx, outputs, now, item.node_id)
        node_rows.update_node(
            tx, item.row_id, status="succeeded", outputs=literals, finished_at=now
        )
    return {"status": "succeeded", "outputs": literals}


def _failed(
    inst: Instance,
    frame: ExecutionFrame,
    item: MapItem,
    error: dict[str, Any],
    retry_log: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    from headwater.storage import node_executions as node_rows

    extra = {"retry_log": retry_log} if retry_log else {}
    with inst.db.transaction() as tx:
        if not frame.holds_lease(tx):
            return {"status": "lost"}
        node_rows.update_node(
            tx, item.row_id, status="failed", error=error, finished_at=time.time(), **extra
        )
    return {"status": "failed", "error": error}
