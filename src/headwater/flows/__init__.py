"""Authoring style B: FlowSpec flows, compiled into Headwater workflows::

    from headwater.flows import FlowSpec, step, Parameter, trigger, current

    @trigger(event="data.updated")
    class Refresh(FlowSpec):
        table = Parameter("table", default="sales")

        @step
        def start(self):
            self.rows = 10
            self.next(self.end)

        @step
        def end(self):
            print(self.table, self.rows)

    if __name__ == "__main__":
        Refresh()     # python refresh.py run | resume | show | deploy

Branches and foreach items run in parallel (``run --max-workers N``, default 16); steps take
``@retry(times=, minutes_between_retries=)``, ``@catch(var=)`` and ``@timeout(seconds=)``.
``@queue("gpu")`` above the class puts its deployed runs on a named worker queue.

A flow is one workflow named after its class; each step is a recorded node whose outputs are
the ``self.x`` values it set; the run's outputs are every artifact at ``end``.
"""

from headwater.client import Event
from headwater.flows._client import DataArtifacts, Flow, FlowTrigger, Run, Step
from headwater.flows._compile import DeployContext, deploy, namespaced_event_name, run
from headwater.flows._current import current
from headwater.flows._decorators import project, queue, schedule, trigger, trigger_on_finish
from headwater.flows._resume import resume
from headwater.flows._spec import FlowSpec, Parameter, step
from headwater.flows._step_decorators import CaughtException, catch, retry, timeout

__all__ = [
    "CaughtException",
    "DataArtifacts",
    "DeployContext",
    "Event",
    "Flow",
    "FlowSpec",
    "FlowTrigger",
    "Parameter",
    "Run",
    "Step",
    "catch",
    "current",
    "deploy",
    "namespaced_event_name",
    "project",
    "queue",
    "resume",
    "retry",
    "run",
    "schedule",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
]
