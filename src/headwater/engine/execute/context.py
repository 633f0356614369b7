"""``current``: what the running code can know about the execution it is part of."""

from __future__ import annotations

from typing import Any

from headwater.definitions import context as _context


class _Current:
    """Inside an execution: ``current.execution_id``, ``.workflow_name``, ``.launch_plan``,
    ``.project``, ``.domain``, ``.trigger`` (None when launched by hand), ``.node_id`` and
    ``.task_name`` (inside a task). Outside an execution every attribute is None.
    """

    @staticmethod
    def _frames() -> tuple[Any, Any]:
        frame = _context.ACTIVE.get()
        if frame is None:
            return None, None
        execution = getattr(frame, "execution", None)
        return execution, (frame if execution is not frame else None)

    @property
    def is_running(self) -> bool:
        return self._frames()[0] is not None

    @property
    def execution_id(self) -> str | None:
        ex, _ = self._frames()
        return ex.execution_id if ex else None

    @property
    def workflow_name(self) -> str | None:
        ex, _ = self._frames()
        return ex.workflow.name if ex else None

    @property
    def launch_plan(self) -> str | None:
        ex, _ = self._frames()
        return ex.launch_plan if ex else None

    @property
    def project(self) -> str | None:
        ex, _ = self._frames()
        return ex.project if ex else None

    @property
    def domain(self) -> str | None:
        ex, _ = self._frames()
        return ex.domain if ex else None

    @property
    def trigger(self) -> Any:
        """A ``TriggerInfo`` (``.event``, ``.artifact``, ``.run`` ...) or None (launched by hand)."""
        ex, _ = self._frames()
        if ex is None or not ex.trigger:
            return None
        from headwater.engine.execute.trigger_context import TriggerInfo

        return TriggerInfo(ex.inst, ex.trigger)

    @property
    def node_id(self) -> str | None:
        _, node = self._frames()
        return node.node_id if node else None

    @property
    def task_name(self) -> str | None:
        _, node = self._frames()
        return node.task.name if node else None

    def __repr__(self) -> str:
        if not self.is_running:
            return "<current: not inside an execution>"
        return f"<current execution={self.execution_id} workflow={self.workflow_name}>"


current = _Current()
