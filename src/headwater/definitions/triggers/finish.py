"""``OnFinish``: fire when an execution of another workflow ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.definitions.triggers.base import Trigger, check_scope
from headwater.errors import DefinitionError

FINISH_EVENTS = {
    "succeeded": ("headwater.execution.succeeded",),
    "failed": ("headwater.execution.failed",),
    "any": ("headwater.execution.succeeded", "headwater.execution.failed"),
}


@dataclass(frozen=True, eq=False)
class OnFinish(Trigger):
    """Fire when an execution of another workflow ends with ``status``."""

    workflow: Any
    status: str = "succeeded"
    project: str | None = None
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.status not in FINISH_EVENTS:
            raise DefinitionError(
                f"OnFinish status must be 'succeeded', 'failed' or 'any', got {self.status!r}"
            )
        if not isinstance(self.workflow_name, str) or not self.workflow_name:
            raise DefinitionError("OnFinish takes a @workflow or its registered name")
        check_scope(self.project, self.domain)

    @property
    def kind(self) -> str:
        return "finish"

    @property
    def workflow_name(self) -> str:
        name = getattr(self.workflow, "name", self.workflow)
        return name if isinstance(name, str) else ""

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "finish",
            "workflow": self.workflow_name,
            "status": self.status,
            "project": self.project,
            "domain": self.domain,
        }
