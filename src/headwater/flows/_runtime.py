"""Running a flow's step graph inside its workflow execution.

Each step runs as a recorded node (a task named ``<Flow>.<step>``) whose outputs are the
artifacts the step set on ``self``; artifacts pass to the following steps in memory (a step
inside a foreach also records its ``foreach_index`` input, e.g. ``"3"`` or ``"1.3"`` when
nested). The branches of a static split and the items of a foreach run in parallel, at most
``max_workers`` steps at a time (:mod:`headwater.flows._parallel`); a join step waits for all
its branches and receives ``inputs``. With ``max_workers=1`` everything runs in order here.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from headwater.definitions import context as _context
from headwater.definitions.entity import TaskDef
from headwater.definitions.interface import Interface, OutputSpec
from headwater.errors import FlowError
from headwater.flows._parallel import (
    CAN_FORK,
    DEFAULT_MAX_WORKERS,
    IN_BRANCH,
    dask_address,
    fan_out,
    run_forked,
    run_on_dask,
)
from headwater.flows._step_decorators import CaughtException, StepOptions, step_options

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


#: Set by ``resume``: the outputs of the origin run's succeeded steps, by step key.
RESUME: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar(
    "headwater_flow_resume", default=None
)
#: Set by ``python flow.py run --max-workers N``; else DEFAULT_MAX_WORKERS.
MAX_WORKERS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "headwater_flow_max_workers", default=None
)


def step_key(step: str, path: tuple[int, ...]) -> str:
    """A step's task within a run: its name and foreach indices (``train[3]``)."""
    return step + "".join(f"[{i}]" for i in path)


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
        runner = _GraphRunner(cls, frame, ctx, MAX_WORKERS.get(), RESUME.get())
        final = runner.run_chain("start", {}, None, (), reuse=True)[1]
    finally:
        RUN.reset(token)
    return {**params, **final}


class _GraphRunner:
    def __init__(
        self,
        cls: type[FlowSpec],
        frame: Any,
        ctx: RunContext,
        max_workers: int | None,
        reuse: dict[str, dict[str, Any]] | None,
    ) -> None:
        self.cls = cls
        self.graph = cls._headwater_graph
        self.frame = frame
        self.ctx = ctx
        workers = DEFAULT_MAX_WORKERS if max_workers is None else max_workers
        if workers < 1:
            raise FlowError(f"max_workers must be at least 1, got {workers}")
        self.parallel = workers > 1
        self.slots = threading.BoundedSemaphore(workers)
        self.reuse = reuse or {}
        # Nodes are numbered as they start: one branch at a time until its row is written.
        self.start_lock = threading.Lock()

    def run_chain(
        self,
        step: str,
        artifacts: dict[str, Any],
        foreach: tuple[int, Any] | None,
        path: tuple[int, ...],
        reuse: bool,
        inputs: Inputs | None = None,
    ) -> tuple[str | None, dict[str, Any], str, bool]:
        """Run from ``step`` until a join is next (returns its name, the state, the last
        step and whether every step was reused from the origin run) or ``end`` has run
        (returns None as the join)."""
        while True:
            targets, foreach_attr, artifacts, reuse = self.run_step(
                step, artifacts, foreach, path, inputs, reuse
            )
            inputs = None
            if step == "end":
                return None, artifacts, step, reuse
            if len(targets) == 1 and foreach_attr is None:
                nxt = targets[0]
                if self.graph[nxt].is_join:
                    return nxt, artifacts, step, reuse
                step = nxt
                continue
            calls: list[Any] = []
            tags: list[tuple[int, Any] | None] = []
            if foreach_attr is not None:
                items = list(artifacts[foreach_attr])
                if not items:
                    raise FlowError(
                        f"step {step!r}: foreach over {foreach_attr!r} has no items; "
                        "a foreach needs at least one"
                    )
                for i, item in enumerate(items):
                    calls.append(
                        functools.partial(
                            self.run_chain,
                            targets[0],
                            dict(artifacts),
                            (i, item),
                            (*path, i),
                            reuse,
                        )
                    )
                    tags.append((i, item))
            else:
                for target in targets:
                    calls.append(
                        functools.partial(
                            self.run_chain, target, dict(artifacts), foreach, path, reuse
                        )
                    )
                    tags.append(foreach)
            if self.parallel and len(calls) > 1:
                results = fan_out(calls)
            else:
                results = [call() for call in calls]
            joins = {r[0] for r in results}
            if len(joins) != 1 or None in joins:
                raise FlowError(
                    f"the branches of step {step!r} do not meet at one join step "
                    f"(they reach: {', '.join(sorted(str(j) for j in joins))})"
                )
            branches = [
                _Branch(last, self.ctx.params, state, tag)
                for (_, state, last, _), tag in zip(results, tags, strict=True)
            ]
            reuse = all(r[3] for r in results)
            step = joins.pop() or ""
            artifacts = {}
            inputs = Inputs(branches)

    def run_step(
        self,
        step: str,
        artifacts: dict[str, Any],
        foreach: tuple[int, Any] | None,
        path: tuple[int, ...],
        inputs: Inputs | None,
        reuse: bool,
    ) -> tuple[list[str], str | None, dict[str, Any], bool]:
        """Run one step as a node; (next steps, foreach attribute, artifacts after it,
        whether its outputs were reused from the origin run)."""

        cls = self.cls
        method = getattr(cls, step)
        opts = step_options(method)
        node = self.graph[step]
        origin = self.reuse.get(step_key(step, path)) if reuse else None
        if origin is not None and node.checked and (step == "end" or node.transitions):
            return self._reused(step, artifacts, path, origin)
        in_branch = self.parallel and IN_BRANCH.get()
        on_dask = self._dask_address() if in_branch else None
        forked = in_branch and CAN_FORK and on_dask is None
        ctx = dataclasses.replace(self.ctx, step_name=step)
        attempts = [0]
        result: dict[str, Any] = {}
        # A module-level function with its arguments: it may be pickled to a Dask worker.
        attempt = functools.partial(
            _attempt, cls, step, self.ctx.params, artifacts, foreach, inputs, ctx, node.is_join
        )

        def body() -> Any:
            if held[0]:
                held[0] = False
                self.start_lock.release()
            attempts[0] += 1
            if attempts[0] > 1 and opts.retry_delay:
                time.sleep(opts.retry_delay)
            try:
                if on_dask is not None:
                    got = run_on_dask(attempt, opts.timeout, f"step {step!r}", on_dask)
                elif forked:
                    got = run_forked(attempt, opts.timeout, f"step {step!r}")
                else:
                    got = attempt()
            except Exception as exc:
                if opts.catch_var is None or attempts[0] <= opts.retries:
                    raise
                got = self._caught(step, node, artifacts, opts, exc)
            transition, state, changed = got
            if opts.catch_var and opts.catch_var not in changed:
                state[opts.catch_var] = None
                changed.append(opts.catch_var)
            result.update(transition=transition, artifacts=state)
            task.interface = Interface(
                {k: v for k, v in task.interface.inputs.items()},
                {n: OutputSpec(n, Any) for n in changed},
                tuple if changed else None,
            )
            return tuple(state[n] for n in changed) if changed else None

        task = self._task(step, body, path)
        if not forked and on_dask is None and opts.timeout is not None:
            task.options = dataclasses.replace(
                task.options, timeout=timedelta(seconds=opts.timeout)
            )
        task.options = dataclasses.replace(task.options, retries=opts.retries)
        held = [False]
        self._record(task, body, path, held)
        targets, foreach_attr = result.get("transition") or ([], None)
        return targets, foreach_attr, result["artifacts"], False

    def _dask_address(self) -> str | None:
        """The Dask scheduler of the running execution's ``executor`` setting, or None."""
        inst = getattr(self.frame, "inst", None)
        return dask_address(inst.settings.executor) if inst is not None else None

    def _caught(
        self,
        step: str,
        node: Any,
        artifacts: dict[str, Any],
        opts: StepOptions,
        exc: Exception,
    ) -> tuple[tuple[list[str], str | None] | None, dict[str, Any], list[str]]:
        """``@catch``: the step's error on ``self.<var>``, the graph's transition."""
        text = "".join(traceback.format_exception(exc))
        if opts.catch_print:
            print(f"@catch: step {step!r} failed and the flow goes on:\n{text}", file=sys.stderr)
        if step != "end" and not node.transitions:
            raise exc
        if node.foreach is not None and node.foreach not in artifacts:
            raise exc  # nothing to iterate over: the flow cannot go on
        state = dict(artifacts)
        changed: list[str] = []
        if opts.catch_var:
            state[opts.catch_var] = CaughtException(type(exc).__name__, str(exc), text)
            changed.append(opts.catch_var)
        transition = None if step == "end" else (list(node.targets), node.foreach)
        return transition, state, changed

    def _reused(
        self,
        step: str,
        artifacts: dict[str, Any],
        path: tuple[int, ...],
        origin: dict[str, Any],
    ) -> tuple[list[str], str | None, dict[str, Any], bool]:
        """A step that succeeded in the origin run: recorded again with its outputs, not run."""
        node = self.graph[step]
        values: dict[str, Any] = origin["values"]
        state = {**artifacts, **values}
        names = list(values)
        node_ids: list[str] = []

        def body() -> Any:
            if held[0]:
                held[0] = False
                self.start_lock.release()
            active = _context.ACTIVE.get()
            node_ids.append(getattr(active, "node_id", ""))
            task.interface = Interface(
                dict(task.interface.inputs),
                {n: OutputSpec(n, Any) for n in names},
                tuple if names else None,
            )
            return tuple(values[n] for n in names) if names else None

        task = self._task(step, body, path)
        held = [False]
        self._record(task, body, path, held)
        if node_ids and node_ids[0] and self.frame is not None:
            mark_reused(self.frame, node_ids[0], origin["from"])
        if step == "end":
            return [], None, state, True
        return list(node.targets), node.foreach, state, True

    def _task(self, step: str, body: Any, path: tuple[int, ...]) -> TaskDef:
        if path:

            def with_index(foreach_index: str) -> Any:
                return body()

            fn: Any = with_index
        else:
            fn = body
        fn.__module__ = self.cls.__module__
        fn.__name__ = step
        fn.__qualname__ = f"{self.cls.__qualname__}.{step}"
        return TaskDef(fn, "task", name=f"{self.cls.__name__}.{step}")

    def _record(self, task: TaskDef, body: Any, path: tuple[int, ...], held: list[bool]) -> None:
        """Run ``task`` as a node of the execution (or plainly, outside one)."""
        kwargs = {"foreach_index": ".".join(map(str, path))} if path else {}
        with self.slots if self.parallel else contextlib.nullcontext():
            if self.frame is not None and hasattr(self.frame, "execution_id"):
                from headwater.engine.execute.runner import run_node

                self.start_lock.acquire()
                held[0] = True
                try:
                    run_node(self.frame, task, (), kwargs)
                finally:
                    if held[0]:
                        held[0] = False
                        self.start_lock.release()
            else:
                task.fn(**kwargs)


def _attempt(
    cls: type[FlowSpec],
    step: str,
    params: dict[str, Any],
    artifacts: dict[str, Any],
    foreach: tuple[int, Any] | None,
    inputs: Inputs | None,
    ctx: RunContext,
    is_join: bool,
) -> tuple[tuple[list[str], str | None] | None, dict[str, Any], list[str]]:
    """One try of a step's code: (transition, artifacts, names it set)."""
    from headwater.flows._spec import _init_state

    method = getattr(cls, step)
    obj = cls.__new__(cls)
    _init_state(obj, params, artifacts, foreach)
    state = _StepState(step)
    obj.__dict__["_hw_step"] = state
    token = RUN.set(ctx)
    try:
        if inputs is not None:
            method(obj, inputs)
        elif is_join:
            raise FlowError(f"step {step!r} is a join but no branches reached it")
        else:
            method(obj)
    finally:
        RUN.reset(token)
    if step != "end" and state.transition is None:
        raise FlowError(
            f"step {step!r} ended without calling self.next(); end it with e.g. self.next(self.end)"
        )
    changed = [n for n in obj.__dict__["_hw_changed"] if n in obj.__dict__]
    return state.transition, obj._hw_artifacts(), changed


def mark_reused(frame: Any, node_id: str, origin: str) -> None:
    """Note on a resumed run's node which origin node its outputs come from."""
    from headwater.storage.node_executions import set_cached_from

    with frame.inst.db.transaction() as tx:
        set_cached_from(tx, frame.execution_id, node_id, origin)
