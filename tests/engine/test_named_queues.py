"""Named queues: a launch plan names one, its executions wait on it, and only workers that
serve it take them; a queue nothing serves is called out at registration and on the execution.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater import LaunchPlan
from headwater.daemon.worker import Worker, host_id, shared_storage_problem
from headwater.engine.execute import queue
from headwater.engine.react.reactor import Reactor
from headwater.errors import DefinitionError
from headwater.instance import Instance
from headwater.storage import executions as rows
from headwater.storage import worker_registry

MODULE = """
from headwater import LaunchPlan, OnEvent, task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow
def wf(x: int = 1) -> int:
    return double(x=x)


on_gpu = LaunchPlan.create(
    "on_gpu", wf, trigger=OnEvent("go.gpu", parameters=["x"]), queue="gpu"
)
on_default = LaunchPlan.create("on_default", wf, trigger=OnEvent("go.default", parameters=["x"]))
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "flows" / "queues_flow.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(MODULE))
    return path


def fired(inst: Instance, name: str, x: int) -> Any:
    """The one execution the event ``name`` queues."""
    with inst.db.read() as tx:
        before = {r.id for r in rows.list_executions(tx)}
    headwater.emit_event(name, {"x": x})
    while Reactor(inst).run_once():
        pass
    with inst.db.read() as tx:
        found = [r for r in rows.list_executions(tx) if r.id not in before]
    assert [r.status for r in found] == ["queued"]
    return found[0]


def test_a_launch_plan_queues_its_executions_on_its_queue(instance: Instance, flow: Path) -> None:
    registered = headwater.register(flow, activate=True)
    plans = {r.name: r for r in registered if getattr(r, "kind", "").startswith("launch plan")}
    assert plans["on_gpu"].spec["queue"] == "gpu"
    assert "queue" not in plans["on_default"].spec  # the default keeps existing versions
    row = fired(instance, "go.gpu", 3)
    assert row.queue == "gpu"


def test_workers_claim_only_their_queues(instance: Instance, flow: Path) -> None:
    headwater.register(flow, activate=True)
    on_gpu = fired(instance, "go.gpu", 1)
    assert queue.claim(instance, "cpu-worker", 30, ["default"]) is None
    assert queue.claim(instance, "other", 30, ["io", "batch"]) is None
    on_default = fired(instance, "go.default", 2)
    assert on_default.queue == "default"
    taken = queue.claim(instance, "cpu-worker", 30, ["default"])
    assert taken is not None and taken.id == on_default.id
    taken = queue.claim(instance, "gpu-worker", 30, ["gpu"])
    assert taken is not None and taken.id == on_gpu.id and taken.worker == "gpu-worker"


def test_a_worker_runs_its_queue_and_the_relaunch_keeps_the_queue(
    instance: Instance, flow: Path
) -> None:
    from headwater.engine.execute.relaunch import relaunch

    headwater.register(flow, activate=True)
    row = fired(instance, "go.gpu", 5)
    worker = Worker(instance, "gpu-worker", 30, queues=["gpu"], isolate=False)
    claimed = queue.claim(instance, worker.name, 30, worker.queues)
    assert claimed is not None
    worker.run_one(claimed)
    done = headwater.get_execution(row.id)
    assert done.status == "succeeded" and done.output == 10 and done.queue == "gpu"
    again = relaunch(instance, row.id)
    with instance.db.read() as tx:
        assert rows.get_execution(tx, again).queue == "gpu"


def test_an_unserved_queue_warns_at_registration_and_shows_on_the_execution(
    instance: Instance, flow: Path
) -> None:
    registered = headwater.register(flow, activate=True)
    warnings = [w for w in registered.warnings if "queue" in w]
    assert len(warnings) == 1
    assert "'on_gpu' queues its executions on 'gpu', which no worker has served" in warnings[0]
    assert "headwater worker --queue gpu" in warnings[0]
    row = fired(instance, "go.gpu", 1)
    ex = headwater.get_execution(row.id)
    assert ex.queue == "gpu"
    assert ex.waiting is not None
    assert ex.waiting.startswith("queued on 'gpu': no worker serves it")
    assert ex.to_dict()["waiting"] == ex.waiting
    # a worker serving 'gpu' records itself: the execution only waits its turn
    Worker(instance, "gpu-1", queues=["gpu"], isolate=False).record(force=True)
    assert headwater.get_execution(row.id).waiting is None
    again = headwater.register(flow, activate=True)
    assert not [w for w in again.warnings if "queue" in w]
    # once it stops in order, the queue is unserved again
    Worker(instance, "gpu-1", queues=["gpu"], isolate=False).forget()
    assert headwater.get_execution(row.id).waiting is not None


def test_a_bad_queue_name_is_refused_with_the_rule(flow: Path) -> None:
    from headwater import workflow

    @workflow
    def wf(x: int = 1) -> int:
        return x

    for bad in ("", "gpu queue", "-gpu", "a" * 64, 3):
        with pytest.raises(DefinitionError, match="is not a queue name"):
            LaunchPlan.create(f"bad_queue_{abs(hash(str(bad)))}", wf, queue=bad)  # type: ignore[arg-type]


def test_host_check_refuses_local_files_when_the_server_is_elsewhere(instance: Instance) -> None:
    assert shared_storage_problem(instance, host_id()) is None  # no server recorded yet
    with instance.db.transaction() as tx:
        worker_registry.record_server_host(
            tx, host="server-a", database="db", storage="blobs", now=1.0
        )
    assert shared_storage_problem(instance, "server-a") is None
    problem = shared_storage_problem(instance, "machine-b")
    assert problem is not None
    assert "this worker runs on host 'machine-b' but `headwater up` runs on 'server-a'" in problem
    assert "HEADWATER_STORAGE_URL to an object store both hosts reach (s3://" in problem
    assert "HEADWATER_HOST_ID" in problem
    if instance.db.dialect == "sqlite":
        assert "HEADWATER_DATABASE_URL to a PostgreSQL database" in problem
    else:
        assert "PostgreSQL" not in problem  # the database is shared already
