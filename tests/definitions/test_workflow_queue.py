"""``@workflow(queue=...)``: a workflow names the queue its executions wait on; its launch
plans (declared or default) use it unless they name their own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import headwater
from headwater import LaunchPlan, workflow
from headwater.engine.react.reactor import Reactor
from headwater.errors import DefinitionError
from headwater.instance import Instance
from headwater.storage import executions as rows
from tests.engine.conftest import instance

__all__ = ["instance"]

MODULE = """
from headwater import LaunchPlan, OnEvent, task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow(queue="gpu")
def trained(x: int = 1) -> int:
    return double(x=x)


on_train = LaunchPlan.create("on_train", trained, trigger=OnEvent("train.go", parameters=["x"]))
on_cpu = LaunchPlan.create(
    "on_cpu", trained, trigger=OnEvent("train.cpu", parameters=["x"]), queue="default"
)
"""


@workflow(queue="gpu")
def wf(x: int = 1) -> int:
    return x


@workflow
def plain(x: int = 1) -> int:
    return x


def test_a_launch_plan_without_a_queue_uses_its_workflows() -> None:
    assert wf.queue == "gpu"
    assert LaunchPlan.create("wq_inherits", wf).queue == "gpu"
    assert LaunchPlan.create("wq_overrides", wf, queue="io").queue == "io"
    assert LaunchPlan.default_for(wf).queue == "gpu"
    assert plain.queue == "default"
    assert LaunchPlan.create("wq_plain", plain).queue == "default"


@pytest.mark.parametrize("bad", ["", "gpu queue", "-gpu", "a" * 64, 3])
def test_a_bad_workflow_queue_is_refused_with_the_rule(bad: object) -> None:
    with pytest.raises(DefinitionError, match=r"@workflow: queue .* is not a queue name"):
        workflow(queue=bad)  # type: ignore[arg-type]


def test_registered_plans_fire_on_the_workflows_queue_and_warn_when_unserved(
    instance: Instance, tmp_path: Path
) -> None:
    path = tmp_path / "flows" / "wf_queue_flow.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(MODULE))
    registered = headwater.register(path, activate=True)
    plans = {r.name: r for r in registered if getattr(r, "kind", "").startswith("launch plan")}
    assert plans["on_train"].spec["queue"] == "gpu"
    assert plans["wf_queue_flow.trained"].spec["queue"] == "gpu"  # the default plan too
    assert "queue" not in plans["on_cpu"].spec  # its own queue= wins, even "default"
    warned = [w for w in registered.warnings if "no worker has served" in w]
    assert any("'on_train' queues its executions on 'gpu'" in w for w in warned), warned
    assert not any("'on_cpu'" in w for w in warned)

    headwater.emit_event("train.go", {"x": 2})
    headwater.emit_event("train.cpu", {"x": 3})
    while Reactor(instance).run_once():
        pass
    with instance.db.read() as tx:
        found = {r.launch_plan: r for r in rows.list_executions(tx)}
    assert found["on_train"].queue == "gpu"
    assert found["on_cpu"].queue == "default"
    ex = headwater.get_execution(found["on_train"].id)
    assert ex.waiting is not None and ex.waiting.startswith("queued on 'gpu'")
