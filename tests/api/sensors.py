"""A module registered over HTTP: an event-triggered launch plan."""

from __future__ import annotations

from headwater import LaunchPlan, OnEvent, current, task, workflow


@task
def scale(value: int, factor: int) -> dict:
    event = current.trigger.event if current.trigger else None
    return {"scaled": value * factor, "event": event.id if event else None}


@workflow
def on_reading(value: int = 0, factor: int = 2) -> dict:
    return scale(value=value, factor=factor)


on_sensor = LaunchPlan.create(
    "on_sensor", on_reading, trigger=OnEvent("sensor.reading", parameters={"value": "reading"})
)
