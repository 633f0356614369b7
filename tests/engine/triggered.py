"""Workflows that look at what triggered them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from headwater import (
    Artifact,
    FixedRate,
    LaunchPlan,
    OnArtifact,
    OnEvent,
    OnFinish,
    current,
    task,
    workflow,
)

Source = Artifact(name="source", partition_keys=["region"])
Lookup = Artifact(name="lookup")


@task
def publish(region: str, n: int) -> Annotated[int, Source]:
    return Source.create_from(n, region=region)


@workflow
def producer(region: str = "EU", n: int = 1) -> int:
    return publish(region=region, n=n)


@task
def inspect_trigger() -> dict:
    t = current.trigger
    body: dict = {"launch_plan": current.launch_plan, "kind": t.kind if t else None}
    if t is None:
        return body
    if t.event is not None:
        body.update(event=t.event.name, payload=t.event.payload, n_events=len(t.events))
    if t.artifact is not None:
        body.update(artifact=t.artifact.uri, value=t.artifact.value())
    if t.run is not None:
        body.update(
            run=t.run.id,
            run_outputs=t.run.outputs,
            pathspec=t.run.pathspec,
            flow_name=t.run.parent.flow_name,
            by_name=t["producer"].id,
        )
    return body


@workflow
def consumer(x: int = 0, mode: str = "normal", looked_up: int = -1) -> dict:
    body = inspect_trigger()
    body.update(x=x, mode=mode, looked_up=looked_up)
    return body


on_source = LaunchPlan.create(
    "on_source",
    consumer,
    fixed_inputs={"mode": "fixed"},
    default_inputs={"looked_up": Lookup.query()},
    trigger=OnArtifact(trigger_on=Source, inputs={"x": Source}),
)
on_event = LaunchPlan.create("on_event", consumer, trigger=OnEvent("poke", parameters=["x"]))
on_done = LaunchPlan.create("on_done", consumer, trigger=OnFinish(producer))


@workflow
def ticking(when: datetime) -> str:
    return when.isoformat()


every_minute = LaunchPlan.create(
    "every_minute", ticking, schedule=FixedRate(timedelta(minutes=1), kickoff_time_input_arg="when")
)
