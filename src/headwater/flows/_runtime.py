"""Running a flow's step graph inside its workflow execution.

Each step runs as a recorded node (a task named ``<Flow>.<step>``) whose outputs are the
artifacts the step set on ``self``; artifacts pass to the following steps in memory. Branches
and foreach items run one after the other in this process; a join step receives ``inputs``.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.definitions import context as _context
from headwater.definitions.entity import TaskDef
from headwater.definitions.interface import Interface, OutputSpec
from headwater.errors import FlowError

if TYPE_CHECKING:
    from headwater.flows._spec import FlowSpec


@dataclass
class _StepState:
    name: str
    transition: tuple[list[str], str | None] | None = None


@dataclass
class RunContext:
    """What ``headwater.flows.current`` knows about the running flow."""

    flow: type[FlowSpec]
    project_name: str | None
    branch_name: str | None
    step_name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


RUN: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "headwater_flow_run", default=None
)


class _Branch:
    """One branch arriving at a join: read its artifacts as attributes (``inp.x``)."""

    def __init__(
        self,
        step: str,
        params: dict[str, Any],
        artifacts: dict[str, Any],
        foreach: tuple[int, Any] | None,
    ) -> None:
        self._hw_step_name = step
        self._hw_params = params
        self._hw_values = artifacts
        self._hw_foreach = foreach

    @property
    def _hw_artifacts(self) -> dict[str, Any]:
        return self._hw_values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_hw"):
            raise AttributeError(name)
        if name == "input" and self._hw_foreach is not None:
            return self._hw_foreach[1]
        if name == "index" and self._hw_foreach is not None:
            return self._hw_foreach[0]
        if name in self._hw_values:
            return self._hw_values[name]
        if name in self._hw_params:
            return self._hw_params[name]
        raise AttributeError(
            f"branch {self._hw_step_name!r} has no artifact {name!r} "
            f"(it has: {', '.join(self._hw_values) or 'none'})"
        )

    def __repr__(self) -> str:
        return f"<input from step {self._hw_step_name}>"


class Inputs:
    """The ``inputs`` of a join step: iterate over the branches, or ``inputs.<step>``."""

    def __init__(self, branches: list[_Branch]) -> None:
        self._branches = branches

    def __iter__(self) -> Any:
        return iter(self._branches)

    def __len__(self) -> int:
        return len(self._branches)

    def __getitem__(self, i: int) -> _Branch:
        return self._branches[i]

    def __getattr__(self, name: str) -> _Branch:
        if name.startswith("_"):
            raise AttributeError(name)
        for b in self._branches:
            if b._hw_step_name == name:
                return b
        known = ", ".join(b._hw_step_name for b in self._branches)
        raise AttributeError(f"no branch ends in step {name!r} (branches: {known})")


def _scope_names(cls: type[FlowSpec], project: str | None, domain: str | None) -> tuple[Any, Any]:
    settings = getattr(cls, "_headwater_settings", {})
    if settings.get("project") is None:
        return None, None
    return project, domain


def run_flow(cls: type[FlowSpec], values: dict[str, Any]) -> Any:
    """The body of a flow's workflow: run the graph from ``start`` to ``end``."""
    from headwater.flows._spec import parameters_of

    frame = _context.ACTIVE.get()
    project = getattr(frame, "project", None)
    domain = getattr(frame, "domain", None)
    project_name, branch_name = _scope_names(cls, project, domain)
    params: dict[str, Any] = {}
    for pname, (attr, p) in parameters_of(cls).items():
        value = values.get(pname)
        if value is None and callable(p.default):
            from headwater.flows._compile import deploy_context

            value = p.default(deploy_context(cls, project_name, branch_name, pname))
        params[attr] = value
    ctx = RunContext(cls, project_name, branch_name, params=params)
    token = RUN.set(ctx)
    try:
        runner = _GraphRunner(cls, frame, ctx)
        final = runner.run_chain("start", {}, None)[1]
    finally:
        RUN.reset(token)
    return {**params, **final}


class _GraphRunner:
    def __init__(self, cls: type[FlowSpec], frame: Any, ctx: RunContext) -> None:
        self.cls = cls
        self.graph = cls._headwater_graph
        self.frame = frame
        self.ctx = ctx

    def run_chain(
        self,
        step: str,
        artifacts: dict[str, Any],
        foreach: tuple[int, Any] | None,
        inputs: Inputs | None = None,
    ) -> tuple[str | None, dict[str, Any], str]:
        """Run from ``step`` until a join is next (returns its name, the state and the last
        step) or ``end`` has run (returns None)."""
        while True:
            targets, foreach_attr, artifacts = self.run_step(step, artifacts, foreach, inputs)
            inputs = None
            if step == "end":
                return None, artifacts, step
            if len(targets) == 1 and foreach_attr is None:
                nxt = targets[0]
                if self.graph[nxt].is_join:
                    return nxt, artifacts, step
                step = nxt
                continue
            branches: list[_Branch] = []
            joins: set[str | None] = set()
            if foreach_attr is not None:
                items = list(artifacts[foreach_attr])
                if not items:
                    raise FlowError(
                        f"step {step!r}: foreach over {foreach_attr!r} has no items; "
                        "a foreach needs at least one"
                    )
                for i, item in enumerate(items):
                    join, state, last = self.run_chain(targets[0], dict(artifacts), (i, item))
                    joins.add(join)
                    branches.append(_Branch(last, self.ctx.params, state, (i, item)))
            else:
                for target in targets:
                    join, state, last = self.run_chain(target, dict(artifacts), foreach)
                    joins.add(join)
                    branches.append(_Branch(last, self.ctx.params, state, foreach))
            if len(joins) != 1 or None in joins:
                raise FlowError(
                    f"the branches of step {step!r} do not meet at one join step "
                    f"(they reach: {', '.join(sorted(str(j) for j in joins))})"
                )
            step = joins.pop() or ""
            artifacts = {}
            inputs = Inputs(branches)

    def run_step(
        self,
        step: str,
        artifacts: dict[str, Any],
        foreach: tuple[int, Any] | None,
        inputs: Inputs | None,
    ) -> tuple[list[str], str | None, dict[str, Any]]:
        from headwater.flows._spec import _init_state

        cls = self.cls
        method = getattr(cls, step)
        obj = cls.__new__(cls)
        _init_state(obj, self.ctx.params, artifacts, foreach)
        state = _StepState(step)
        obj.__dict__["_hw_step"] = state

        def body() -> Any:
            self.ctx.step_name = step
            try:
                if inputs is not None:
                    method(obj, inputs)
                elif self.graph[step].is_join:
                    raise FlowError(f"step {step!r} is a join but no branches reached it")
                else:
                    method(obj)
            finally:
                self.ctx.step_name = None
            if step != "end" and state.transition is None:
                raise FlowError(
                    f"step {step!r} ended without calling self.next(); end it with e.g. "
                    "self.next(self.end)"
                )
            changed = [n for n in obj.__dict__["_hw_changed"] if n in obj.__dict__]
            task.interface = Interface(
                {}, {n: OutputSpec(n, Any) for n in changed}, tuple if changed else None
            )
            return tuple(obj.__dict__[n] for n in changed) if changed else None

        body.__module__ = cls.__module__
        body.__name__ = step
        body.__qualname__ = f"{cls.__qualname__}.{step}"
        task = TaskDef(body, "task", name=f"{cls.__name__}.{step}")
        if self.frame is not None and hasattr(self.frame, "execution_id"):
            from headwater.engine.execute.runner import run_node

            run_node(self.frame, task, (), {})
        else:
            body()
        transition = state.transition or ([], None)
        return transition[0], transition[1], obj._hw_artifacts()
