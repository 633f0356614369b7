"""The workflow side of ``headwater.map``: record a node per item, run them, collect results.

All node rows are written first (status ``queued``), in one transaction with the inputs'
lineage; the executor then runs the items (``map_item.run_item``), each recording its own
node. Results come back as literals and are decoded here, in the items' order.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from headwater.engine.execute.binding import bind_inputs
from headwater.engine.execute.executors import executor_for
from headwater.engine.execute.map_item import MapItem
from headwater.errors import MapItemError
from headwater.storage import node_executions as node_rows
from headwater.storage.lineage_edges import CONSUMED, insert_edges
from headwater.types import decode

if TYPE_CHECKING:
    from headwater.definitions.entity import TaskDef
    from headwater.engine.execute.runner import ExecutionFrame


def run_map(
    frame: ExecutionFrame, task: TaskDef, calls: list[dict[str, Any]], concurrency: int | None
) -> list[Any]:
    import cloudpickle

    from headwater.engine.execute.runner import ExecutionLost, _cache_key, _error

    if not calls:
        return []
    inst = frame.inst
    executor = executor_for(inst.settings.executor)  # a bad setting fails before recording
    bound = [
        bind_inputs(inst, task, kwargs, frame.project, frame.domain, frame.memo) for kwargs in calls
    ]
    blob = cloudpickle.dumps(task)
    started = time.time()
    items: list[MapItem] = []
    with inst.db.transaction() as tx:
        frame.enter_node(tx, task)
        edges = []
        for b in bound:
            node_id = f"n{frame.node_count}"
            frame.node_count += 1
            cache_key = _cache_key(task, b.literals) if task.options.cache else None
            row_id = node_rows.insert_node(
                tx,
                execution_id=frame.execution_id,
                node_id=node_id,
                name=task.name,
                kind=task.kind,
                status="queued",
                inputs=b.literals,
                attempts=0,
                cache_key=cache_key,
                started_at=started,
            )
            edges += [
                {
                    "execution_id": frame.execution_id,
                    "version_id": vid,
                    "direction": CONSUMED,
                    "name": name,
                    "node_id": node_id,
                }
                for name, vid in b.consumed
            ]
            items.append(
                MapItem(
                    settings=inst.settings,
                    execution_id=frame.execution_id,
                    workflow=frame.workflow.name,
                    project=frame.project,
                    domain=frame.domain,
                    launch_plan=frame.launch_plan,
                    trigger=frame.trigger,
                    worker=frame.worker,
                    node_id=node_id,
                    row_id=row_id,
                    task=blob,
                    inputs=b.literals,
                    cache_key=cache_key,
                )
            )
        insert_edges(tx, edges)

    literals: list[dict[str, Any] | None] = [None] * len(items)
    failure: tuple[int, str] | None = None
    lost = False
    runs = executor.run(items, concurrency)
    try:
        for index, outcome in runs:
            item = items[index]
            if isinstance(outcome, BaseException):  # the process running it failed
                error = _error(outcome, item.node_id)
                with inst.db.transaction() as tx:
                    if frame.holds_lease(tx):
                        node_rows.end_node(
                            tx, item.row_id, status="failed", error=error, finished_at=time.time()
                        )
                outcome = {"status": "failed", "error": error}
            if outcome["status"] == "lost":
                lost = True
                break
            if outcome["status"] == "failed":
                err = outcome["error"]
                failure = (index, f"{err['type']}: {err['message']}")
                break
            literals[index] = outcome["outputs"]
    finally:
        runs.close()  # waits for what is running; starts nothing more
    if lost:
        raise ExecutionLost(frame.execution_id)
    if failure is not None:
        index, message = failure
        _skip_unstarted(frame, items, literals, index)
        frame.failed_node = items[index].node_id
        raise MapItemError(
            f"headwater.map({task.name}): item {index} (node {items[index].node_id}) failed: "
            f"{message}"
        )
    return [_decode(frame, task, lits) for lits in literals]


def _skip_unstarted(
    frame: ExecutionFrame, items: list[MapItem], literals: list[Any], failed: int
) -> None:
    """Nodes still ``queued`` after a failure end as ``cancelled``: they were never run."""
    inst = frame.inst
    reason = {
        "type": "MapCancelled",
        "message": f"not run: item {failed} (node {items[failed].node_id}) of the map failed",
        "traceback": "",
        "node": None,
    }
    with inst.db.transaction() as tx:
        if not frame.holds_lease(tx):
            return
        now = time.time()
        for item in items:
            node_rows.cancel_queued_node(tx, item.row_id, reason, now)


def _decode(frame: ExecutionFrame, task: TaskDef, lits: dict[str, Any] | None) -> Any:
    inst = frame.inst
    lits = lits or {}
    values = []
    for name, spec in task.interface.outputs.items():
        value = decode(lits[name], spec.type, inst.blobs)
        frame.memo.remember(value, lits[name])
        values.append(value)
    nt = task.interface.named_tuple
    return (nt(*values) if nt else values[0]) if values else None
