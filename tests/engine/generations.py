"""The self-triggering loop: each generation consumes the latest and publishes the next."""

from __future__ import annotations

import time
from typing import Annotated

from headwater import Artifact, LaunchPlan, OnArtifact, OnEvent, task, workflow

Gen = Artifact(name="generation")


@task
def next_generation(previous: int) -> Annotated[int, Gen]:
    return previous + 1


@workflow
def evolve(previous: int) -> int:
    return next_generation(previous=previous)


loop = LaunchPlan.create(
    "evolve_loop", evolve, trigger=OnArtifact(trigger_on=Gen, inputs={"previous": Gen})
)


@task(retries=3)  # a worker killed mid-task: the execution runs again, up to 3 more times
def slow_echo(n: int) -> int:
    time.sleep(0.02)
    return n


@workflow
def on_tick(n: int) -> int:
    return slow_echo(n=n)


ticks = LaunchPlan.create("on_tick", on_tick, trigger=OnEvent("tick"))
