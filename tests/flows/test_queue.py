"""``@queue("gpu")`` on a flow: its deployed runs wait on the named queue."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import headwater
from headwater.errors import DefinitionError
from headwater.flows import FlowSpec, deploy, queue, step
from headwater.flows._compile import user_name

FLOW = """
from headwater.flows import FlowSpec, project, queue, step, trigger


@project(name="vision")
@queue("gpu")
@trigger(event="images.ready")
class Train(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@queue("gpu")
class OnGpu(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


class AlsoOnGpu(OnGpu):
    """A subclass keeps its base's queue."""


class Anywhere(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def test_a_deployed_flow_queues_on_its_queue(instance):
    assert deploy(OnGpu).spec["queue"] == "gpu"
    assert deploy(AlsoOnGpu).spec["queue"] == "gpu"
    assert "queue" not in deploy(Anywhere).spec
    assert Anywhere._headwater_workflow.queue == "default"


def test_registering_a_flow_on_an_unserved_queue_warns(instance, tmp_path: Path):
    path = tmp_path / "train_flow.py"
    path.write_text(textwrap.dedent(FLOW))
    registered = headwater.register(path, activate=True)
    plans = [r for r in registered if r.name == "Train" and r.kind.startswith("launch plan")]
    assert ("vision", "user." + user_name()) in {(p.project, p.domain) for p in plans}
    assert [p.spec["queue"] for p in plans] == ["gpu"] * len(plans)
    assert any(
        "'Train' queues its executions on 'gpu'" in w and "headwater worker --queue gpu" in w
        for w in registered.warnings
    ), registered.warnings


def test_a_bad_queue_name_is_refused():
    with pytest.raises(DefinitionError, match=r"@queue: queue 'gpu queue' is not a queue name"):
        queue("gpu queue")
    with pytest.raises(DefinitionError, match="decorates a FlowSpec class"):
        queue("gpu")(object)
