"""Registering launch plans (content-versioned), activating them, and listing them.

Trigger input bindings are checked at registration against the workflow's input types and the
types the artifact is known to carry, so a mistake is refused now, not at 3 a.m. in a run.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import ArtifactQuery
from headwater.definitions.entity import Entity
from headwater.definitions.launch_plan import DEFAULT_QUEUE, LaunchPlan, created_in
from headwater.definitions.triggers import binding_spec
from headwater.engine.kinds import kind_named
from headwater.engine.register.registry import Registered, ensure_registered, entities_of
from headwater.errors import DefinitionError, NotFoundError
from headwater.storage import artifact_versions as version_rows
from headwater.storage import entities
from headwater.storage import launch_plan_state as state_rows
from headwater.storage import launch_plans as rows
from headwater.types import encode

if TYPE_CHECKING:
    from headwater import schemas
    from headwater.instance import Instance


@dataclass(frozen=True)
class LaunchPlanInfo:
    """A registered launch plan version."""

    id: int
    name: str
    version: str
    project: str
    domain: str
    workflow: str
    workflow_version: str
    active: bool
    spec: dict[str, Any]

    @property
    def kind(self) -> str:
        return "launch plan (active)" if self.active else "launch plan"

    @classmethod
    def from_model(cls, model: schemas.LaunchPlan) -> LaunchPlanInfo:
        """The launch plan a wire model describes (its ``spec`` holds only the triggers,
        schedule and concurrency the wire carries)."""
        spec = {"triggers": model.triggers, "schedule": model.schedule}
        spec["concurrency"] = model.concurrency
        return cls(
            model.id,
            model.name,
            model.version,
            model.project,
            model.domain,
            model.workflow,
            model.workflow_version,
            model.active,
            spec,
        )

    def to_model(self) -> schemas.LaunchPlan:
        """The wire form (what the API returns and ``--json`` prints)."""
        from headwater import schemas

        return schemas.LaunchPlan(
            kind="launch_plan",
            id=self.id,
            name=self.name,
            version=self.version,
            project=self.project,
            domain=self.domain,
            workflow=self.workflow,
            workflow_version=self.workflow_version,
            active=self.active,
            triggers=self.spec.get("triggers", []),
            schedule=self.spec.get("schedule"),
            concurrency=self.spec.get("concurrency"),
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")


def _info(row: rows.LaunchPlanRow, active: bool) -> LaunchPlanInfo:
    return LaunchPlanInfo(
        row.id,
        row.name,
        row.version,
        row.project,
        row.domain,
        row.workflow,
        row.workflow_version,
        active,
        json.loads(row.spec),
    )


def _task_retries(module_name: str) -> list[int]:
    import sys

    module = sys.modules.get(module_name)
    return [
        e.options.retries
        for e in (entities_of(module).values() if module else [])
        if e.kind == "task"
    ]


def _max_attempts(workflow: Entity, memo: dict[str, list[int]] | None = None) -> int:
    """A lost worker's execution runs again while the most patient task would still retry.

    ``memo`` keeps each module's task retries across the plans of one registration: a module
    declaring thousands of launch plans was walked once per plan (quadratic)."""
    if memo is None:
        retries = _task_retries(workflow.module)
    else:
        if workflow.module not in memo:
            memo[workflow.module] = _task_retries(workflow.module)
        retries = memo[workflow.module]
    return 1 + max(retries, default=workflow.options.retries)


def _artifact_types(inst: Instance, name: str) -> set[str]:
    """Type names the artifact is known to carry: registered outputs and stored versions."""
    found: set[str] = set()
    with inst.db.read() as tx:
        for spec in entities.all_specs(tx):
            for out in json.loads(spec).get("outputs", {}).values():
                if out.get("artifact") == name:
                    found.add(out["type"])
        latest = version_rows.latest_value_by_name(tx, name=name)
        if latest is not None:
            found.add(json.loads(latest).get("type", "Any"))
    return found - {"Any"}


def _check_bindings(inst: Instance, lp: LaunchPlan) -> list[str]:
    inputs = lp.workflow.interface.inputs
    problems = []
    covered_by_default = {n for n, s in inputs.items() if not s.required}
    covered_by_default |= set(lp.default_inputs) | set(lp.fixed_inputs)

    def artifact_types(name: str) -> set[str]:
        return _artifact_types(inst, name)

    for t in lp.triggers:
        provided: set[str] = set()
        leaves = t.leaves()
        if leaves != [t]:
            problems += kind_named(t.kind).check(t, inputs, artifact_types)
        for leaf in leaves:
            kind = kind_named(leaf.kind)
            provided |= kind.provided(leaf, inputs)
            problems += kind.check(leaf, inputs, artifact_types)
        if lp.schedule is not None and lp.schedule.kickoff_time_input_arg:
            provided.add(lp.schedule.kickoff_time_input_arg)
        missing = [
            n
            for n, s in inputs.items()
            if s.required and n not in provided and n not in covered_by_default
        ]
        if missing:
            problems.append(
                f"trigger {type(t).__name__} leaves required input(s) "
                f"{', '.join(missing)} without a value; bind them in the trigger or "
                "give default_inputs/fixed_inputs"
            )
    return problems


def launch_plan_spec(
    inst: Instance, lp: LaunchPlan, memo: dict[str, list[int]] | None = None
) -> dict[str, Any]:
    """The stored form: input literals (values in the blob store), queries, triggers, schedule.

    ``memo``: see ``_max_attempts`` (one per registration of many plans)."""
    inputs = lp.workflow.interface.inputs

    def literals(values: dict[str, Any], label: str) -> dict[str, Any]:
        return {
            k: encode(v, inputs[k].type, inst.blobs, what=f"{label} {k!r}")
            for k, v in values.items()
            if not isinstance(v, ArtifactQuery)
        }

    queries = {
        k: binding_spec(v, k)
        for k, v in {**lp.default_inputs, **lp.fixed_inputs}.items()
        if isinstance(v, ArtifactQuery)
    }
    spec: dict[str, Any] = {
        "workflow": lp.workflow.name,
        "default_inputs": literals(lp.default_inputs, "default input"),
        "fixed_inputs": literals(lp.fixed_inputs, "fixed input"),
        "query_inputs": queries,
        "schedule": lp.schedule.spec() if lp.schedule else None,
        "triggers": [t.spec() for t in lp.triggers],
        "concurrency": lp.concurrency.spec() if lp.concurrency else None,
        "labels": lp.labels,
        "notifications": [repr(n) for n in lp.notifications],
        "max_attempts": _max_attempts(lp.workflow, memo),
    }
    if lp.queue != DEFAULT_QUEUE:  # left out by default: existing versions keep their hash
        spec["queue"] = lp.queue
    return spec


def register_launch_plan(
    inst: Instance,
    lp: LaunchPlan,
    project: str | None = None,
    domain: str | None = None,
    activate: bool = False,
    *,
    memo: dict[str, list[int]] | None = None,
) -> LaunchPlanInfo:
    """Register a version of ``lp`` (same content, same version) and activate it if asked.

    ``memo``: an empty dict shared by the calls of one registration of many plans (what
    their modules declare is read once, not once per plan)."""
    project, domain = project or inst.project, domain or inst.domain
    problems = _check_bindings(inst, lp)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DefinitionError(
            f"launch plan {lp.name!r} is invalid for {len(problems)} "
            f"reason{'s' if len(problems) > 1 else ''}:\n{lines}"
        )
    reg: Registered = ensure_registered(inst, lp.workflow, project, domain)
    spec = launch_plan_spec(inst, lp, memo)
    version = hashlib.sha256((json.dumps(spec, sort_keys=True) + reg.version).encode()).hexdigest()[
        :20
    ]
    now = time.time()
    with inst.db.transaction() as tx:
        lp_id = rows.insert_launch_plan(
            tx,
            project=project,
            domain=domain,
            name=lp.name,
            version=version,
            workflow=lp.workflow.name,
            workflow_version=reg.version,
            spec=spec,
            now=now,
        )
        if activate or lp.auto_activate:
            state_rows.set_active(tx, project, domain, lp.name, lp_id, now)
        active = state_rows.active_id(tx, project, domain, lp.name) == lp_id
        row = rows.get_launch_plan(tx, lp_id)
    assert row is not None  # inserted or found above, in this transaction
    return _info(row, active)


def set_active(
    inst: Instance,
    name: str,
    version: str | None = None,
    active: bool = True,
    project: str | None = None,
    domain: str | None = None,
) -> LaunchPlanInfo:
    """Activate a version (the newest when None; others of the name stop) or deactivate."""
    project, domain = project or inst.project, domain or inst.domain
    with inst.db.transaction() as tx:
        row = rows.find_version(tx, project, domain, name, version)
        if row is None:
            what = f"{name}@{version}" if version else name
            raise NotFoundError(
                f"no launch plan {what!r} in {project}/{domain}; register it "
                "first (`headwater register FILE`) and list them with "
                "`headwater launchplans list`"
            )
        if active:
            state_rows.set_active(tx, project, domain, name, row.id, time.time())
        elif state_rows.active_id(tx, project, domain, name) is not None:
            state_rows.set_active(tx, project, domain, name, None, time.time())
        is_active = state_rows.active_id(tx, project, domain, name) == row.id
    return _info(row, is_active)


def list_launch_plans(
    inst: Instance, project: str | None = None, domain: str | None = None, active_only: bool = False
) -> list[LaunchPlanInfo]:
    with inst.db.read() as tx:
        found = rows.list_launch_plans(tx, project, domain)
    infos = [_info(r.plan, r.active) for r in found]
    return [i for i in infos if i.active] if active_only else infos


def launch_plans_of(module: Any) -> list[LaunchPlan]:
    """Launch plans a module declares, plus the default launch plan of each of its workflows.

    Declared means assigned to a module variable or made by ``LaunchPlan.create`` while the
    module's code ran (a bare ``LaunchPlan.create(...)`` statement counts)."""
    declared: dict[str, LaunchPlan] = {}
    for lp in [v for v in vars(module).values() if isinstance(v, LaunchPlan)] + created_in(
        module.__name__
    ):
        declared.setdefault(lp.name, lp)
    defaults = [
        LaunchPlan.default_for(e)
        for e in entities_of(module).values()
        if e.kind == "workflow" and e.name not in declared
    ]
    return list(declared.values()) + defaults


def is_reactive(lp: LaunchPlan) -> bool:
    """Whether the plan runs by itself once active (a trigger or a schedule)."""
    return bool(lp.triggers) or lp.schedule is not None
