"""Registered launch plan versions."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from headwater.schemas._base import Wire


class LaunchPlan(Wire):
    kind: str
    id: int
    name: str
    version: str
    project: str
    domain: str
    workflow: str
    workflow_version: str
    active: bool
    triggers: list[Any]
    schedule: Any
    concurrency: Any


class PlanDecision(Wire):
    """A decision about one launch plan, with the event it is about."""

    launch_plan: str
    launch_plan_version: str
    trigger: str
    outcome: str
    reason: str
    execution_id: str | None
    event_id: str
    event_name: str
    event_source: str
    decided_at: str = Field(description="RFC 3339")


class PlanDecisions(Wire):
    """A page of a launch plan's decisions, newest first; ``next_before`` continues with
    older ones (null: none are left)."""

    decisions: list[PlanDecision]
    next_before: int | None
