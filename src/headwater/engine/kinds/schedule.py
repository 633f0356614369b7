"""Schedules (``CronSchedule``, ``FixedRate``): the scheduler's ticks for one launch plan.

The scheduler emits a tick per due time, addressed to a launch plan (and the version it was
scheduled for); the launch plan's schedule is indexed as a leaf listening to exactly those.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.engine.kinds.base import Key, Kind

if TYPE_CHECKING:
    from headwater.engine.matching import Listener
    from headwater.engine.trigger_inputs import Binder


class Schedule(Kind):
    """A tick fires the launch plan version it was scheduled for; ``kickoff_time_input_arg``
    receives the scheduled time."""

    spec_kinds = ("cron", "rate")
    events = (event_names.SCHEDULE_TICK,)

    def leaf_key(self, leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> Key:
        return ("schedule", lp_id)

    def event_key(self, name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
        return ("schedule", payload.get("launch_plan_id"))

    def match(self, listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
        if payload.get("launch_plan_version") not in (None, listener.lp_version):
            return "the tick was scheduled for another launch plan version"
        return None

    def bind(
        self,
        binder: Binder,
        leaf: dict[str, Any],
        row: Any,
        payload: dict[str, Any],
        inputs: dict[str, Any],
    ) -> dict[str, Any]:
        arg = leaf.get("kickoff_time_input_arg")
        if arg and row["name"] == event_names.SCHEDULE_TICK:
            return {arg: datetime.fromisoformat(payload["scheduled_time"])}
        return {}

    def describe(self, leaf: dict[str, Any]) -> str:
        return "schedule"

    def summary(self, spec: dict[str, Any]) -> str:
        if spec["kind"] == "cron":
            return str(spec["schedule"])
        return f"every {spec['seconds']:g} s"
