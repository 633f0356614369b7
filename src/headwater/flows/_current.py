"""``headwater.flows.current``: what a running step knows about its run."""

from __future__ import annotations

from typing import Any


class FlowCurrent:
    """``current.flow_name``, ``.run_id``, ``.step_name``, ``.task_id``, ``.pathspec``,
    ``.project_name``, ``.branch_name``, ``.username``, ``.trigger`` (None when started by
    hand). Outside a running flow every attribute is None."""

    @staticmethod
    def _ctx() -> Any:
        from headwater.flows._runtime import RUN

        return RUN.get()

    @staticmethod
    def _engine() -> Any:
        from headwater.engine.execute.context import current

        return current

    @property
    def is_running_flow(self) -> bool:
        return self._ctx() is not None

    @property
    def flow_name(self) -> str | None:
        ctx = self._ctx()
        return ctx.flow.__name__ if ctx else None

    @property
    def run_id(self) -> str | None:
        return self._engine().execution_id if self._ctx() else None

    @property
    def step_name(self) -> str | None:
        ctx = self._ctx()
        return ctx.step_name if ctx else None

    @property
    def task_id(self) -> str | None:
        return self._engine().node_id if self._ctx() else None

    @property
    def pathspec(self) -> str | None:
        ctx = self._ctx()
        if ctx is None:
            return None
        parts = [ctx.flow.__name__, self.run_id, ctx.step_name, self.task_id]
        return "/".join(str(p) for p in parts if p)

    @property
    def project_name(self) -> str | None:
        ctx = self._ctx()
        return ctx.project_name if ctx else None

    @property
    def branch_name(self) -> str | None:
        ctx = self._ctx()
        return ctx.branch_name if ctx else None

    @property
    def project_flow_name(self) -> str | None:
        ctx = self._ctx()
        if ctx is None or ctx.project_name is None:
            return None
        return f"{ctx.project_name}.{ctx.branch_name}.{ctx.flow.__name__}"

    @property
    def username(self) -> str:
        from headwater.flows._compile import user_name

        return user_name()

    @property
    def trigger(self) -> Any:
        ex = self._engine()._frames()[0]
        if ex is None or not ex.trigger:
            return None
        from headwater.flows._client import FlowTrigger

        return FlowTrigger(ex.inst, ex.trigger)

    def __repr__(self) -> str:
        if not self.is_running_flow:
            return "<current: not inside a running flow>"
        return f"<current {self.pathspec}>"


current = FlowCurrent()
