"""The FlowSpec client: ``Flow("X")`` and ``Run("X/123")``, and ``current.trigger`` objects.

A flow's runs are executions of the workflow named after the flow, so a run id is the
execution id and ``Run("X/<id>").data`` reads the execution's outputs (the artifacts at
``end``). Inside a running flow, ``Flow("X")`` looks at runs in the same project and branch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError

if TYPE_CHECKING:
    from headwater.handles import Execution
    from headwater.instance import Instance


def _inst() -> Instance:
    from headwater.instance import get_instance

    return get_instance()


def _flow_name(workflow: str) -> str:
    return workflow.rsplit(".", 1)[-1]


class DataArtifacts:
    """``run.data.x``: the artifacts of a run by attribute (or ``run.data["x"]``)."""

    def __init__(self, values: dict[str, Any], where: str) -> None:
        self._values = values
        self._where = where

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"{self._where} has no artifact {name!r} "
                f"(it has: {', '.join(self._values) or 'none'})"
            ) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"<data of {self._where}: {', '.join(self._values)}>"


class Flow:
    """A flow's runs: ``Flow("Train").latest_successful_run.data.model``.

    Inside a running flow, runs of the same project and branch; elsewhere all runs of that
    name unless ``project``/``branch`` narrow them.
    """

    def __init__(self, name: str, project: str | None = None, branch: str | None = None) -> None:
        from headwater.flows._runtime import RUN

        self.name = name
        self.id = name
        self.pathspec = name
        self.flow_name = name
        if project is None and branch is None:
            ctx = RUN.get()
            from headwater.engine.execute.context import current as engine_current

            if ctx is not None:
                project, branch = engine_current.project, engine_current.domain
        self.project = project
        self.branch = branch

    def runs(self, limit: int = 1000) -> Iterator[Run]:
        """Runs newest first."""
        from headwater.storage import executions as rows

        inst = _inst()
        with inst.db.read() as tx:
            found = rows.list_executions(
                tx, workflow=self.name, project=self.project, domain=self.branch, limit=limit
            )
        from headwater.handles import Execution

        for row in found:
            yield Run._of(Execution(inst, row))

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    @property
    def latest_run(self) -> Run | None:
        return next(self.runs(limit=1), None)

    @property
    def latest_successful_run(self) -> Run | None:
        from headwater.storage import executions as rows

        inst = _inst()
        with inst.db.read() as tx:
            found = rows.list_executions(
                tx,
                workflow=self.name,
                project=self.project,
                domain=self.branch,
                status="succeeded",
                limit=1,
            )
        from headwater.handles import Execution

        return Run._of(Execution(inst, found[0])) if found else None

    def __getitem__(self, run_id: str) -> Run:
        return Run(f"{self.name}/{run_id}")

    def __repr__(self) -> str:
        return f"Flow('{self.name}')"


class Run:
    """One run of a flow: ``Run("Train/0192ab...")`` with ``.data``, ``.successful``,
    ``.finished``, ``.pathspec``, ``.id``, ``.parent`` (its Flow) and ``.trigger``."""

    def __init__(self, pathspec: str) -> None:
        from headwater.handles import Execution
        from headwater.storage import executions as rows

        flow, _, run_id = str(pathspec).partition("/")
        if not run_id or "/" in run_id:
            raise NotFoundError(f"a run pathspec is 'FlowName/run_id', got {pathspec!r}")
        inst = _inst()
        with inst.db.read() as tx:
            row = rows.get_execution(tx, run_id)
        if row is None or flow not in (row.workflow, _flow_name(row.workflow)):
            raise NotFoundError(f"no run {pathspec!r}")
        self._set(Execution(inst, row))

    @classmethod
    def _of(cls, execution: Execution) -> Run:
        run = cls.__new__(cls)
        run._set(execution)
        return run

    def _set(self, execution: Execution) -> None:
        self.execution = execution
        self.id: str = execution.id
        self.flow_name = _flow_name(execution.workflow)
        self.pathspec = f"{self.flow_name}/{execution.id}"
        self.parent = Flow.__new__(Flow)
        self.parent.name = self.parent.id = self.parent.pathspec = self.flow_name
        self.parent.flow_name = self.flow_name
        self.parent.project, self.parent.branch = execution.project, execution.domain

    @property
    def data(self) -> DataArtifacts:
        return DataArtifacts(self.execution.outputs, self.pathspec)

    @property
    def status(self) -> str:
        return self.execution.status.value

    @property
    def successful(self) -> bool:
        return self.execution.status.value == "succeeded"

    @property
    def finished(self) -> bool:
        return self.execution.status.terminal

    @property
    def finished_at(self) -> datetime | None:
        return self.execution.finished_at

    @property
    def created_at(self) -> datetime | None:
        return self.execution.created_at

    @property
    def project(self) -> str:
        return self.execution.project

    @property
    def branch(self) -> str:
        return self.execution.domain

    @property
    def trigger(self) -> FlowTrigger | None:
        body = self.execution.trigger
        return FlowTrigger(self.execution._inst, body) if body else None

    def steps(self) -> list[Step]:
        """The steps that ran, in order (a foreach step appears once per item)."""
        return [Step(self, n) for n in self.execution.nodes]

    def __getitem__(self, step: str) -> Step:
        for node in self.execution.nodes:
            if node.name.rsplit(".", 1)[-1] == step:
                return Step(self, node)
        raise KeyError(f"{self.pathspec} has no step {step!r}")

    def refresh(self) -> Run:
        self.execution.refresh()
        self.execution.__dict__.pop("outputs", None)
        return self

    def __repr__(self) -> str:
        return f"Run('{self.pathspec}')"


class Step:
    """A step of a run, its node execution: ``run["start"].task.data.x`` (what it set)."""

    def __init__(self, run: Run, node: Any) -> None:
        self.run = run
        self.node = node
        self.id = node.name.rsplit(".", 1)[-1]
        self.pathspec = f"{run.pathspec}/{self.id}"

    @property
    def task(self) -> Step:
        return self

    @property
    def data(self) -> DataArtifacts:
        from headwater.handles import known_type
        from headwater.types import decode

        blobs = self.run.execution._blobs()
        values = {k: decode(v, known_type(v), blobs) for k, v in self.node.output_literals.items()}
        return DataArtifacts(values, self.pathspec)

    @property
    def successful(self) -> bool:
        return self.node.status.value == "succeeded"

    def __repr__(self) -> str:
        return f"Step('{self.pathspec}')"


class FlowTrigger:
    """``current.trigger``: ``.event``/``.events`` (name, id, timestamp, payload),
    ``.run``/``.runs`` (upstream runs as :class:`Run`), ``trigger["Flow"]``."""

    def __init__(self, inst: Instance, body: dict[str, Any]) -> None:
        from headwater.engine.execute.trigger_context import TriggerInfo

        self._info = TriggerInfo(inst, body)
        self._body = body

    @property
    def events(self) -> list[Any]:
        return self._info.events

    @property
    def event(self) -> Any:
        return self._info.event

    @property
    def runs(self) -> list[Run]:
        return [Run._of(u.execution) for u in self._info.runs]

    @property
    def run(self) -> Run | None:
        runs = self.runs
        return runs[0] if runs else None

    @property
    def artifacts(self) -> list[Any]:
        return self._info.artifacts

    @property
    def type(self) -> str:
        return "run" if self._body.get("runs") else "event"

    def __getitem__(self, name: str) -> Run:
        for run in self.runs:
            if name in (run.flow_name, run.execution.workflow):
                return run
        for ev in self.events:
            if ev.name == name:
                return ev
        known = ", ".join(r.flow_name for r in self.runs) or "none"
        raise NotFoundError(f"no upstream run of {name!r} triggered this run (runs: {known})")

    def __repr__(self) -> str:
        return f"<Trigger {self._info.kind}>"
