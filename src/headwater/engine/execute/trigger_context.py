"""``current.trigger``: what started a triggered execution — events, artifact versions, runs."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from headwater.definitions.storable import utc_or_none
from headwater.errors import NotFoundError

if TYPE_CHECKING:
    from headwater.handles import ArtifactVersion, Execution
    from headwater.instance import Instance


class TriggerEvent:
    """One event that fired the execution: ``.name .id .timestamp .source .payload``."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.name: str = body["name"]
        self.id: str = body["id"]
        self.source: str = body["source"]
        self.subject: str | None = body.get("subject")
        self.timestamp: datetime | None = utc_or_none(body["time"])
        self.payload: dict[str, Any] = body.get("payload") or {}

    def __repr__(self) -> str:
        return f"<TriggerEvent {self.name} {self.id}>"


class UpstreamRun:
    """An upstream execution whose completion fired this one."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.id = execution.id
        self.pathspec = f"{execution.workflow}/{execution.id}"
        self.status = execution.status
        self.parent = _Parent(execution.workflow)

    @property
    def outputs(self) -> dict[str, Any]:
        return self.execution.outputs

    @property
    def data(self) -> dict[str, Any]:
        """The upstream run's outputs (the name FlowSpec users know)."""
        return self.execution.outputs

    @property
    def successful(self) -> bool:
        return self.execution.status == "succeeded"

    def __repr__(self) -> str:
        return f"<UpstreamRun {self.pathspec}>"


class _Parent:
    def __init__(self, workflow: str) -> None:
        self.flow_name = workflow.rsplit(".", 1)[-1]
        self.workflow = workflow
        self.id = workflow


class TriggerInfo:
    """``.event``/``.events``, ``.artifact``/``.artifacts``, ``.run``/``.runs``; also
    ``trigger["WorkflowOrFlowName"]`` for the upstream run of that workflow."""

    def __init__(self, inst: Instance, body: dict[str, Any]) -> None:
        self._inst = inst
        self.launch_plan: str = body.get("launch_plan", "")
        self.kind: str = body.get("kind", "")
        self._body = body

    @cached_property
    def events(self) -> list[TriggerEvent]:
        return [TriggerEvent(e) for e in self._body.get("events", [])]

    @property
    def event(self) -> TriggerEvent | None:
        return self.events[0] if self.events else None

    @cached_property
    def artifacts(self) -> list[ArtifactVersion]:
        from headwater.engine.publish.artifacts import resolve_uri

        return [resolve_uri(self._inst, uri) for uri in self._body.get("artifacts", [])]

    @property
    def artifact(self) -> ArtifactVersion | None:
        return self.artifacts[0] if self.artifacts else None

    @cached_property
    def runs(self) -> list[UpstreamRun]:
        from headwater.handles import Execution
        from headwater.storage import executions as rows

        out = []
        with self._inst.db.read() as tx:
            for run_id in self._body.get("runs", []):
                row = rows.get_execution(tx, run_id)
                if row is not None:
                    out.append(UpstreamRun(Execution(self._inst, row)))
        return out

    @property
    def run(self) -> UpstreamRun | None:
        return self.runs[0] if self.runs else None

    def __getitem__(self, name: str) -> UpstreamRun:
        for run in self.runs:
            if name in (run.execution.workflow, run.parent.flow_name):
                return run
        known = ", ".join(r.parent.flow_name for r in self.runs) or "none"
        raise NotFoundError(f"no upstream run of {name!r} triggered this execution (runs: {known})")

    def __repr__(self) -> str:
        return f"<TriggerInfo {self.kind} via {self.launch_plan}>"
