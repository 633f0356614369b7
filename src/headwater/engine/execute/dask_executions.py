"""Whole claimed executions as Dask tasks (``headwater worker --executor dask://host:8786``).

The Headwater worker claims executions and keeps their leases (heartbeats) as always; each
one runs as a single Dask task, :func:`run_execution`, in a process of the Dask cluster. That
task opens the instance from the worker's settings (its own connection to the database and
the blob store), imports the registered code snapshot and calls ``run_claimed`` exactly as a
forked execution process does, so every node is recorded the same way, under the claiming
worker's name (a write after the claim is lost is refused, as everywhere).

A Dask worker process lives on between tasks: when an execution's code conflicts with modules
it imported for an earlier one (another version of the same module), the execution runs in a
fresh interpreter started for it (``python -m headwater.engine.execute.dask_executions``).
Task timeouts are enforced inside the process only (as when ``os.fork`` is missing). While an
execution runs, the Dask worker process may start processes of its own (a local
``headwater.map`` pool, a flow's forked steps) although Dask made it daemonic.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from headwater.engine.execute import queue
from headwater.engine.execute.map_item import _instance
from headwater.storage.executions import ExecutionRow
from headwater.storage.faults import PASSING

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.settings import Settings

log = logging.getLogger("headwater.worker")

SUCCEEDED = "succeeded"
LOST = "lost"  # cancelled or taken over meanwhile: nothing more was written
GIVEN_BACK = "given back"  # the storage failed: queued again without counting the attempt


def task_key(row: ExecutionRow) -> str:
    """The Dask key of one claim of an execution (a new claim is a new task)."""
    return f"headwater-execution-{row.id}-{row.attempts}"


def run_execution(settings: Settings, row: ExecutionRow) -> str:
    """The Dask task: run the claimed execution ``row`` here; its final status, or
    :data:`LOST` / :data:`GIVEN_BACK`."""
    from headwater.engine.register.snapshots import SnapshotConflict

    inst = _instance(settings)
    try:
        with inst.use(), _may_start_processes():
            return _run(inst, row)
    except SnapshotConflict:
        return _in_fresh_process(settings, row)


@contextlib.contextmanager
def _may_start_processes() -> Iterator[None]:
    """A Dask worker process is daemonic, and multiprocessing refuses children to a daemonic
    process; an execution starts some (``headwater.map``'s local pool, a flow's forked
    steps), as it does on a Headwater worker. They end with the execution or with the pool."""
    current = multiprocessing.current_process()
    daemonic = current.daemon
    if daemonic:
        current.daemon = False
    try:
        yield
    finally:
        if daemonic:
            current.daemon = True


def _run(inst: Instance, row: ExecutionRow) -> str:
    """Load and run; raises SnapshotConflict when this process holds other code already."""
    from headwater.engine.execute.runner import ExecutionLost, run_claimed
    from headwater.engine.register.snapshots import SnapshotConflict, load_entity

    worker = row.worker or ""
    try:
        entity = load_entity(inst, row.project, row.domain, row.workflow, row.workflow_version)
    except SnapshotConflict:
        raise
    except PASSING as exc:
        queue.give_back(inst, row.id, worker, exc)
        return GIVEN_BACK
    except (Exception, SystemExit) as exc:  # user code may exit while imported
        what = f"could not load {row.workflow} version {row.workflow_version} on a Dask worker"
        queue.fail(inst, row.id, worker, queue.error_record(what, exc))
        return "failed"
    try:
        return run_claimed(inst, entity, row).status.value
    except ExecutionLost:
        return LOST
    except PASSING as exc:  # the storage failed, not the workflow
        queue.give_back(inst, row.id, worker, exc)
        return GIVEN_BACK
    except KeyboardInterrupt:  # user code raised SystemExit/KeyboardInterrupt: cancelled
        return "cancelled"
    except Exception as exc:  # an engine failure, not the user's code
        log.exception("execution %s crashed the runner on a Dask worker", row.id)
        queue.fail(
            inst,
            row.id,
            worker,
            queue.error_record("the worker could not record the execution", exc),
        )
        return "failed"


def _in_fresh_process(settings: Settings, row: ExecutionRow) -> str:
    done = subprocess.run(
        [sys.executable, "-m", __name__],
        input=pickle.dumps((settings, row)),
        stdout=subprocess.PIPE,
        check=False,
    )
    status = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not status:
        raise RuntimeError(
            f"the fresh process running execution {row.id} exited with {done.returncode}"
        )
    return status[-1]


if __name__ == "__main__":
    _settings, _row = pickle.loads(sys.stdin.buffer.read())
    print(run_execution(_settings, _row), flush=True)
