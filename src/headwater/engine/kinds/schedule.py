"""Schedules (``CronSchedule``, ``FixedRate``): the scheduler's ticks for one launch plan.

The scheduler emits a tick per due time, addressed to a launch plan (and the version it was
scheduled for); the launch plan's schedule is indexed as a leaf listening to exactly those.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.engine.kinds.base import Key, Kind

if TYPE_CHECKING:
    from headwater.engine.react.matching import Listener
    from headwater.engine.react.trigger_inputs import Binder


# Look-back windows to find the most recent missed cron tick without walking every tick.
_WINDOWS = tuple(timedelta(minutes=m) for m in (1, 60, 1440, 32 * 1440, 367 * 1440))


class Schedule(Kind):
    """A tick fires the launch plan version it was scheduled for; ``kickoff_time_input_arg``
    receives the scheduled time. Subclasses say when ticks are due."""

    events = (event_names.SCHEDULE_TICK,)

    def first(self, spec: dict[str, Any], now: datetime) -> datetime:
        """The first tick of a schedule first seen (or re-activated) at ``now``."""
        raise NotImplementedError

    def latest(
        self, spec: dict[str, Any], due: datetime, now: datetime
    ) -> tuple[datetime, datetime]:
        """The most recent tick at or before ``now`` (``due`` is the earliest unfired one) and
        the tick after it."""
        raise NotImplementedError

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
        if arg and row.name == event_names.SCHEDULE_TICK:
            return {arg: datetime.fromisoformat(payload["scheduled_time"])}
        return {}

    def describe(self, leaf: dict[str, Any]) -> str:
        return "schedule"


class Cron(Schedule):
    """``CronSchedule``: ticks at the cron expression's fire times (in its timezone)."""

    spec_kinds = ("cron",)

    def first(self, spec: dict[str, Any], now: datetime) -> datetime:
        from headwater.definitions.cron import parse_cron

        return parse_cron(spec["schedule"]).next_after(now, spec.get("timezone"))

    def latest(
        self, spec: dict[str, Any], due: datetime, now: datetime
    ) -> tuple[datetime, datetime]:
        from headwater.definitions.cron import parse_cron

        expr, tz = parse_cron(spec["schedule"]), spec.get("timezone")
        latest = due
        for window in _WINDOWS:
            if now - window <= due:
                break
            candidate = expr.next_after(now - window, tz)
            if candidate <= now:
                latest = candidate
                break
        while (following := expr.next_after(latest, tz)) <= now:
            latest = following
        return latest, following

    def summary(self, spec: dict[str, Any]) -> str:
        return str(spec["schedule"])


class Rate(Schedule):
    """``FixedRate``: first at now (whole seconds) + duration, then every duration."""

    spec_kinds = ("rate",)

    def first(self, spec: dict[str, Any], now: datetime) -> datetime:
        return now.replace(microsecond=0) + timedelta(seconds=spec["seconds"])

    def latest(
        self, spec: dict[str, Any], due: datetime, now: datetime
    ) -> tuple[datetime, datetime]:
        period = timedelta(seconds=spec["seconds"])
        latest = due + ((now - due) // period) * period
        return latest, latest + period

    def summary(self, spec: dict[str, Any]) -> str:
        return f"every {spec['seconds']:g} s"
