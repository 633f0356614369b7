"""Schedules: ``CronSchedule`` and ``FixedRate`` (a launch plan's ``schedule=``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from headwater.errors import DefinitionError


@dataclass(frozen=True)
class CronSchedule:
    """Run on a cron schedule (``"0 * * * *"`` or ``@hourly``/``@daily``/``@weekly``/...)."""

    schedule: str
    kickoff_time_input_arg: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        from headwater.definitions.cron import get_zone, parse_cron

        parse_cron(self.schedule)
        if self.timezone is not None:
            get_zone(self.timezone)

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "cron",
            "schedule": self.schedule,
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class FixedRate:
    """Run every ``duration``."""

    duration: timedelta
    kickoff_time_input_arg: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.duration, timedelta) or self.duration < timedelta(seconds=1):
            raise DefinitionError(
                f"FixedRate duration must be a timedelta of at least 1 s, got {self.duration!r}"
            )

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "rate",
            "seconds": self.duration.total_seconds(),
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
        }
