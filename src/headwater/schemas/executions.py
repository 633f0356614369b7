"""Executions and the task calls (node executions) recorded inside them."""

from __future__ import annotations

from typing import Any

from headwater.schemas._base import Wire


class NodeExecution(Wire):
    node_id: str
    name: str
    kind: str
    status: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: dict[str, Any] | None
    attempts: int
    cached_from: str | None
    started_at: str | None
    finished_at: str | None
    retry_log: list[dict[str, Any]] = []  # per retry: attempt, seconds waited before, error


class Execution(Wire):
    id: str
    project: str
    domain: str
    workflow: str
    workflow_version: str
    launch_plan: str | None
    status: str
    inputs: dict[str, Any]
    resolved_inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: dict[str, Any] | None
    trigger: dict[str, Any] | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    duration: float | None
    nodes: list[NodeExecution] | None = None
    queue: str = "default"
    waiting: str | None = None  # set while queued on a queue no worker serves
