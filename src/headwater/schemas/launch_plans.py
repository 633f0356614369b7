"""Registered launch plan versions."""

from __future__ import annotations

from typing import Any

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
