"""Launch plans: a workflow with inputs, a schedule and triggers, activated to run by itself."""

from __future__ import annotations

import sys
from typing import Any

from headwater.definitions.artifact import ArtifactQuery, InputRef
from headwater.definitions.entity import Entity, WorkflowDef
from headwater.definitions.names import DEFAULT_QUEUE as DEFAULT_QUEUE
from headwater.definitions.names import QUEUE_NAME, queue_problem
from headwater.definitions.triggers import (
    ConcurrencyPolicy,
    CronSchedule,
    FixedRate,
    Trigger,
)
from headwater.definitions.triggers.base import declared_name
from headwater.errors import DefinitionError

_QUEUE_NAME = QUEUE_NAME  # also the rule `headwater worker --queue` checks

# Launch plans declared in this process, by name: get_or_create returns the same object, and a
# second create() of a name with a different spec is a mistake worth an error.
_DECLARED: dict[str, LaunchPlan] = {}
# Launch plans by the module whose code called create() (then by name): registering a module
# registers these too, so a plan need not be assigned to a module variable (as in flytekit).
_CREATED_IN: dict[str, dict[str, LaunchPlan]] = {}


def _calling_modules() -> set[str]:
    """The module of the nearest caller outside Headwater's definitions, and the module whose
    top-level code is running (a plan made by a helper function while a module is imported
    belongs to that module too)."""
    found: set[str] = set()
    frame = sys._getframe(2)
    nearest = True
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if isinstance(name, str) and not name.startswith("headwater.definitions"):
            if nearest:
                found.add(name)
                nearest = False
            if frame.f_code.co_name == "<module>":
                found.add(name)
                break
        frame = frame.f_back  # type: ignore[assignment]
    return found


def created_in(module_name: str) -> list[LaunchPlan]:
    """Launch plans ``LaunchPlan.create`` made while code of ``module_name`` ran (e.g. while
    it was imported), whether or not they were assigned to a variable."""
    return list(_CREATED_IN.get(module_name, {}).values())


class LaunchPlan:
    """A named way to launch a workflow, with its own inputs, schedule and triggers::

        lp = LaunchPlan.create("daily_eu", train_wf, default_inputs={"region": "EU"},
                               trigger=OnArtifact(trigger_on=Daily.query(region="EU"),
                                                  inputs={"df": Daily}),
                               auto_activate=True)

    Its version is derived from its content, so changing a trigger makes a new version; at most
    one version of a name is active, and only the active one fires.
    """

    def __init__(
        self,
        name: str,
        workflow: Entity,
        default_inputs: dict[str, Any] | None = None,
        fixed_inputs: dict[str, Any] | None = None,
        schedule: CronSchedule | FixedRate | None = None,
        trigger: Trigger | list[Trigger] | None = None,
        concurrency: ConcurrencyPolicy | None = None,
        auto_activate: bool = False,
        labels: dict[str, str] | None = None,
        notifications: list[Any] | None = None,
        *,
        queue: str | None = None,
    ) -> None:
        self.name = declared_name(name, "launch plan name")
        if not isinstance(workflow, WorkflowDef):
            raise DefinitionError(
                f"launch plan {name!r} needs a @workflow, got {type(workflow).__name__}"
            )
        self.workflow = workflow
        self.default_inputs = dict(default_inputs or {})
        self.fixed_inputs = dict(fixed_inputs or {})
        self.schedule = schedule
        triggers = trigger if isinstance(trigger, list | tuple) else [trigger] if trigger else []
        self.triggers: list[Trigger] = list(triggers)
        self.concurrency = concurrency
        self.auto_activate = bool(auto_activate)
        self.labels = dict(labels or {})
        self.notifications = list(notifications or [])
        # A plan without a queue of its own uses its workflow's (@workflow(queue=...)).
        self.queue = getattr(workflow, "queue", DEFAULT_QUEUE) if queue is None else queue
        problems = self._problems()
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise DefinitionError(
                f"launch plan {name!r} is invalid for {len(problems)} "
                f"reason{'s' if len(problems) > 1 else ''}:\n{lines}"
            )

    def _problems(self) -> list[str]:
        inputs = self.workflow.interface.inputs
        known = ", ".join(inputs) or "none"
        out = []
        bad_queue = queue_problem(self.queue)
        if bad_queue:
            out.append(bad_queue)
        for label, values in (
            ("default_inputs", self.default_inputs),
            ("fixed_inputs", self.fixed_inputs),
        ):
            for k in values:
                if k not in inputs:
                    out.append(
                        f"{label} names {k!r}, which {self.workflow.name} does not take "
                        f"(inputs: {known})"
                    )
        for k in set(self.default_inputs) & set(self.fixed_inputs):
            out.append(f"input {k!r} is both a default and a fixed input; keep one")
        if self.schedule is not None and not isinstance(self.schedule, CronSchedule | FixedRate):
            out.append(
                f"schedule must be CronSchedule or FixedRate, got {type(self.schedule).__name__}"
            )
        arg = getattr(self.schedule, "kickoff_time_input_arg", None)
        if arg is not None and arg not in inputs:
            out.append(f"kickoff_time_input_arg {arg!r} is not an input (inputs: {known})")
        if self.concurrency is not None and not isinstance(self.concurrency, ConcurrencyPolicy):
            out.append("concurrency must be a ConcurrencyPolicy")
        for t in self.triggers:
            if not isinstance(t, Trigger):
                out.append(
                    f"trigger must be OnArtifact, OnEvent, OnFinish, AnyOf or AllOf, got "
                    f"{type(t).__name__}"
                )
                continue
            for leaf in t.leaves():
                out += leaf.problems(inputs, set(self.fixed_inputs))
        for k, v in {**self.default_inputs, **self.fixed_inputs}.items():
            if isinstance(v, InputRef):
                out.append(
                    f"input {k!r} is Inputs.{v.name}; launch plan inputs are values or "
                    "artifact queries"
                )
            if isinstance(v, ArtifactQuery) and not v.is_static():
                out.append(f"input {k!r}: a launch plan's query must use literal values")
        return out

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        workflow: Entity,
        default_inputs: dict[str, Any] | None = None,
        fixed_inputs: dict[str, Any] | None = None,
        schedule: CronSchedule | FixedRate | None = None,
        trigger: Trigger | list[Trigger] | None = None,
        concurrency: ConcurrencyPolicy | None = None,
        auto_activate: bool = False,
        labels: dict[str, str] | None = None,
        notifications: list[Any] | None = None,
        *,
        queue: str | None = None,
    ) -> LaunchPlan:
        """Declare a launch plan. Declaring a name twice with different settings is an error.

        ``queue``: the named queue its executions wait on; only workers started with
        ``--queue NAME`` take them (default: the workflow's, ``@workflow(queue=...)``, else
        ``"default"``, the queue every worker serves unless told otherwise)."""
        lp = cls(
            name,
            workflow,
            default_inputs,
            fixed_inputs,
            schedule,
            trigger,
            concurrency,
            auto_activate,
            labels,
            notifications,
            queue=queue,
        )
        existing = _DECLARED.get(name)
        if existing is not None and existing.workflow.name != workflow.name:
            raise DefinitionError(
                f"launch plan {name!r} is already declared for "
                f"{existing.workflow.name}; choose another name"
            )
        _DECLARED[name] = lp
        for module in _calling_modules():
            _CREATED_IN.setdefault(module, {})[name] = lp
        return lp

    @classmethod
    def get_or_create(
        cls, workflow: Entity, name: str | None = None, **settings: Any
    ) -> LaunchPlan:
        """The launch plan ``name`` (default: the workflow's own, with no triggers)."""
        key = name or workflow.name
        existing = _DECLARED.get(key)
        if existing is not None and existing.workflow.name == workflow.name and not settings:
            return existing
        return cls.create(key, workflow, **settings)

    @classmethod
    def default_for(cls, workflow: Entity) -> LaunchPlan:
        """The default launch plan of a workflow: its name, no inputs, no triggers."""
        return cls(workflow.name, workflow)

    def __repr__(self) -> str:
        return f"<LaunchPlan {self.name} -> {self.workflow.name}>"
