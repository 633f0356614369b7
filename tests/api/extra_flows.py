"""Workflows for the replay and relaunch tests: an event-triggered launch plan of its own, and
a workflow whose input is a File (which a server must not read from a path it is sent)."""

from __future__ import annotations

from headwater import File, LaunchPlan, OnEvent, task, workflow


@task
def double(value: int) -> int:
    return value * 2


@workflow
def on_replay(value: int = 0) -> int:
    return double(value=value)


on_replayed = LaunchPlan.create(
    "on_replayed", on_replay, trigger=OnEvent("sensor.replayed", parameters={"value": "reading"})
)


@task
def size_of(f: File) -> int:
    return len(f.read_bytes())


@workflow
def file_size(f: File) -> int:
    return size_of(f=f)
