"""Stored events and the reactor's decisions about them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from headwater.schemas._base import Wire


class Decision(Wire):
    launch_plan: str
    launch_plan_version: str
    trigger: str
    outcome: str
    reason: str
    execution_id: str | None


class ReplayedDecision(Decision):
    """A decision of a replay, with the event it is about."""

    event_id: str


class Event(Wire):
    seq: int
    id: str
    name: str
    source: str
    subject: str | None
    project: str
    domain: str
    time: str | None = Field(description="RFC 3339; null for a stored time out of range")
    payload: dict[str, Any]
    attributes: dict[str, Any]
    decided: bool | None
    decisions: list[Decision]
