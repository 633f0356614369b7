"""``python flow.py resume [--origin-run-id ID]``: run a flow again, reusing what succeeded.

The new run takes the origin run's parameters (and trigger). A step task (a step, and its
foreach indices inside a foreach) that succeeded in the origin run is not run again: its node
in the new run is recorded with the origin's outputs and ``cached_from`` naming the origin
node. Everything from the first step that did not succeed (or from the step given) on runs
anew. The new run is linked
to its origin (``execution_links`` kind ``resumed``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError, UserInputError
from headwater.flows._runtime import MAX_WORKERS, RESUME, step_key

if TYPE_CHECKING:
    from headwater.flows._spec import FlowSpec
    from headwater.handles import Execution
    from headwater.instance import Instance
    from headwater.storage.executions import ExecutionRow

RESUMED = "resumed"  # execution_links kind: the run resumes its upstream


def _origin(cls: type[FlowSpec], inst: Instance, run_id: str | None, scope: Any) -> ExecutionRow:
    from headwater.storage import executions as rows

    name = cls.__name__
    with inst.db.read() as tx:
        if run_id is None:
            found = rows.list_executions(
                tx, workflow=name, project=scope.project, domain=scope.domain, limit=1
            )
            if not found:
                raise NotFoundError(
                    f"{name} has no run to resume in {scope.project}/{scope.domain}; "
                    "run it first (python flow.py run)"
                )
            return found[0]
        row = rows.get_execution(tx, run_id.rpartition("/")[2])
    if row is None:
        raise NotFoundError(f"--origin-run-id {run_id}: no such run")
    if row.workflow.rsplit(".", 1)[-1] != name:
        raise UserInputError(
            f"--origin-run-id {run_id} is a run of {row.workflow}, not {name}; give a run of {name}"
        )
    return row


def reusable_steps(cls: type[FlowSpec], inst: Instance, origin_id: str) -> dict[str, Any]:
    """The origin run's succeeded step tasks by step key: their output values and node."""
    from headwater.handles import known_type
    from headwater.storage import node_executions as node_rows
    from headwater.types import decode

    prefix = f"{cls.__name__}."
    with inst.db.read() as tx:
        nodes = node_rows.list_nodes(tx, origin_id)
    out: dict[str, Any] = {}
    for n in nodes:
        if n.status != "succeeded" or not n.name.startswith(prefix):
            continue
        step = n.name[len(prefix) :]
        index = json.loads(n.inputs or "{}").get("foreach_index")
        path: tuple[int, ...] = ()
        if index is not None:
            text = index.get("value") if isinstance(index, dict) else index
            path = tuple(int(p) for p in str(text).split(".") if p != "")
        literals = json.loads(n.outputs or "{}")
        values = {k: decode(v, known_type(v), inst.blobs) for k, v in literals.items()}
        out[step_key(step, path)] = {
            "values": values,
            "from": n.cached_from or f"{origin_id}/{n.node_id}",
        }
    return out


def resume(
    cls: type[FlowSpec],
    inst: Instance | None = None,
    *,
    origin_run_id: str | None = None,
    step: str | None = None,
    max_workers: int | None = None,
    branch: str | None = None,
    production: bool | None = None,
) -> Execution:
    """Resume a run of ``cls`` (by default its latest run): a new recorded run with the same
    parameters that reuses the outputs of the origin's succeeded steps and runs the rest.
    ``step`` runs that step (and everything after it) again even where it succeeded."""
    from headwater.engine.execute.runner import execute
    from headwater.flows._compile import scope_of
    from headwater.instance import get_instance
    from headwater.storage.execution_links import insert_links
    from headwater.types import decode

    inst = inst or get_instance()
    if step is not None and step not in cls._headwater_graph:
        raise UserInputError(
            f"{cls.__name__} has no step {step!r} to resume from "
            f"(steps: {', '.join(cls._headwater_graph.nodes)})"
        )
    scope = scope_of(cls, inst, branch, production)
    origin = _origin(cls, inst, origin_run_id, scope)
    if origin.status in ("queued", "running"):
        raise UserInputError(
            f"run {origin.id} of {cls.__name__} is still {origin.status}; resume it once it ended"
        )
    reuse = reusable_steps(cls, inst, origin.id)
    if step is not None:
        reuse = {k: v for k, v in reuse.items() if k.split("[", 1)[0] != step}
    wf = cls._headwater_workflow
    specs = wf.interface.inputs
    inputs = {
        k: decode(v, specs[k].type if k in specs else None, inst.blobs)
        for k, v in json.loads(origin.inputs or "{}").items()
        if k in specs
    }
    trigger = json.loads(origin.trigger) if origin.trigger else None
    t1, t2 = RESUME.set(reuse), MAX_WORKERS.set(max_workers)
    try:
        ex = execute(
            inst, wf, inputs, trigger=trigger, project=origin.project, domain=origin.domain
        )
    finally:
        RESUME.reset(t1)
        MAX_WORKERS.reset(t2)
    with inst.db.transaction() as tx:
        insert_links(tx, ex.id, [origin.id], RESUMED)
    return ex
