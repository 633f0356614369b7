"""From a FlowSpec class to the engine: its scope (project/branch), its launch plan (triggers
and schedule), deploying it, and running it here (with a simulated trigger if asked)."""

from __future__ import annotations

import getpass
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.errors import DefinitionError, NotFoundError, UserInputError
from headwater.flows._decorators import ProjectSettings, ScheduleSettings, TriggerSettings
from headwater.flows._spec import FlowSpec, parameters_of

if TYPE_CHECKING:
    from headwater.definitions.launch_plan import LaunchPlan
    from headwater.definitions.triggers import Trigger
    from headwater.engine.register.launch_plans import LaunchPlanInfo
    from headwater.handles import Execution
    from headwater.instance import Instance


def user_name() -> str:
    """``HEADWATER_USER``, else ``USER``, else the login name; made a valid name part."""
    name = os.environ.get("HEADWATER_USER") or os.environ.get("USER") or ""
    if not name:
        try:
            name = getpass.getuser()
        except Exception:
            name = "unknown"
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "unknown"


@dataclass(frozen=True)
class Scope:
    """Where a flow's runs and launch plan live: engine project/domain, and the names
    ``current.project_name`` / ``current.branch_name`` report (None without @project)."""

    project: str
    domain: str
    project_name: str | None
    branch_name: str | None


def branch_name(settings: ProjectSettings, branch: str | None, production: bool | None) -> str:
    branch = branch if branch is not None else settings.branch
    production = settings.production if production is None else production
    if production:
        return f"prod.{branch}" if branch else "prod"
    if branch:
        return f"test.{branch}"
    return f"user.{user_name()}"


def scope_of(
    cls: type[FlowSpec],
    inst: Instance,
    branch: str | None = None,
    production: bool | None = None,
) -> Scope:
    settings: ProjectSettings | None = getattr(cls, "_headwater_settings", {}).get("project")
    if settings is None:
        if branch or production:
            raise UserInputError(
                f"--branch/--production need @project on {cls.__name__}; it has none"
            )
        return Scope(inst.project, inst.domain, None, None)
    b = branch_name(settings, branch, production)
    return Scope(settings.name, b, settings.name, b)


@dataclass(frozen=True)
class DeployContext:
    """What a deploy-time callable receives."""

    flow_name: str
    user_name: str
    project_name: str | None = None
    branch_name: str | None = None
    parameter_name: str | None = None


def deploy_context(
    cls: type[FlowSpec],
    project_name: str | None,
    branch: str | None,
    parameter_name: str | None = None,
) -> DeployContext:
    return DeployContext(cls.__name__, user_name(), project_name, branch, parameter_name)


# -- namespaced event names --------------------------------------------------------------------
class NamespacedEventName:
    """``namespaced_event_name("x")`` outside a run: resolved to ``<project>.<branch>.x`` when
    the flow it triggers is deployed."""

    def __init__(self, name: str) -> None:
        self.name = name

    def resolve(self, scope: Scope) -> str:
        if scope.project_name is None:
            return self.name
        return f"{scope.project_name}.{scope.branch_name}.{self.name}"

    def __repr__(self) -> str:
        return f"namespaced_event_name({self.name!r})"


def namespaced_event_name(name: str) -> Any:
    """``<project>.<branch>.<name>``: an event name scoped to the running flow's project and
    branch (used to publish events only the same branch reacts to). Used in ``@trigger``
    outside a run, it is resolved with the deployed flow's project and branch."""
    from headwater.flows._runtime import RUN

    ctx = RUN.get()
    if ctx is None:
        return NamespacedEventName(name)
    if ctx.project_name is None:
        return name
    return f"{ctx.project_name}.{ctx.branch_name}.{name}"


# -- triggers ----------------------------------------------------------------------------------
@dataclass
class CompiledEvent:
    name: str
    parameters: dict[str, str] | None
    filter: dict[str, Any] | None


def _call(fn: Any, ctx: DeployContext) -> Any:
    return fn(ctx) if callable(fn) and not isinstance(fn, type) else fn


def _event(item: Any, cls: type[FlowSpec], scope: Scope) -> CompiledEvent:
    from headwater.definitions.triggers import parameters_spec

    ctx = deploy_context(cls, scope.project_name, scope.branch_name)
    item = _call(item, ctx)
    where = f"flow {cls.__name__!r} @trigger"
    if isinstance(item, NamespacedEventName):
        item = item.resolve(scope)
    if isinstance(item, str):
        return CompiledEvent(item, None, None)
    if not isinstance(item, dict) or "name" not in item:
        raise DefinitionError(
            f"{where}: an event is a name, a dict with 'name' (and 'parameters'), or a "
            f"callable returning one; got {item!r}"
        )
    name = _call(item["name"], ctx)
    if isinstance(name, NamespacedEventName):
        name = name.resolve(scope)
    if not isinstance(name, str):
        raise DefinitionError(f"{where}: event name must be a string, got {name!r}")
    raw = item.get("parameters")
    if callable(raw):
        raw = raw(ctx)
    if isinstance(raw, dict):
        raw = {
            k: _call(v, deploy_context(cls, scope.project_name, scope.branch_name, k))
            for k, v in raw.items()
        }
    mapping = parameters_spec(raw, f"{where} event {name!r}")
    params = parameters_of(cls)
    for p in mapping or {}:
        if p not in params:
            raise DefinitionError(
                f"{where} event {name!r} maps a field to {p!r}, which is not a Parameter of "
                f"{cls.__name__} (parameters: {', '.join(params) or 'none'})"
            )
    return CompiledEvent(name, mapping, item.get("filter"))


def _finish_target(item: Any, cls: type[FlowSpec], scope: Scope) -> tuple[str, str, str]:
    """(workflow name, project, domain) of a ``@trigger_on_finish`` flow reference."""
    ctx = deploy_context(cls, scope.project_name, scope.branch_name)
    item = _call(item, ctx)
    where = f"flow {cls.__name__!r} @trigger_on_finish"
    if isinstance(item, dict):
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise DefinitionError(
                f"{where}: a dict flow needs 'name', got {item!r}; e.g. "
                "{'name': 'Up', 'project_branch': 'prod'}"
            )
        project = item.get("project") or scope.project
        branch = item.get("project_branch") or item.get("branch")
        if branch is None:
            domain = scope.domain
        elif item.get("project") and not _is_full_branch(branch):
            domain = f"test.{branch}"
        else:
            domain = branch
        return name, project, domain
    if isinstance(item, type) and issubclass(item, FlowSpec):
        return item.__name__, scope.project, scope.domain
    if not isinstance(item, str) or not item:
        raise DefinitionError(
            f"{where}: a flow is a name ('Up'), 'project.branch.Flow' or a dict with 'name', "
            f"got {item!r}"
        )
    parts = item.split(".")
    if len(parts) >= 3:  # project.branch.Flow (the branch may hold dots: user.alice)
        return parts[-1], parts[0], ".".join(parts[1:-1])
    return item, scope.project, scope.domain


def _is_full_branch(branch: str) -> bool:
    return branch == "prod" or branch.split(".", 1)[0] in ("user", "test", "prod")


def compile_triggers(cls: type[FlowSpec], scope: Scope, inst: Instance) -> list[Trigger]:
    from headwater.definitions.triggers import AllOf, OnEvent, OnFinish

    settings = getattr(cls, "_headwater_settings", {})
    out: list[Trigger] = []
    params = parameters_of(cls)
    required = [n for n, (_, p) in params.items() if p.required]
    for ts in settings.get("triggers", []):
        assert isinstance(ts, TriggerSettings)
        leaves: list[Trigger] = []
        covered: list[set[str]] = []
        for item in ts.items:
            if ts.kind == "event":
                ev = _event(item, cls, scope)
                leaves.append(
                    OnEvent(
                        ev.name,
                        parameters=ev.parameters,
                        filter=ev.filter,
                        # Custom events are global (as in Metaflow): they are matched in the
                        # instance's default scope whatever the flow's project and branch.
                        project=inst.project,
                        domain=inst.domain,
                    )
                )
                covered.append(set(params) if ev.parameters is None else set(ev.parameters))
            else:
                name, project, domain = _finish_target(item, cls, scope)
                leaves.append(OnFinish(name, project=project, domain=domain))
                covered.append(set())
        if ts.require == "all" and len(leaves) > 1:
            out.append(AllOf(*leaves, within=ts.within))
            sets = [set().union(*covered)]
        else:
            out.extend(leaves)
            sets = covered
        for i, got in enumerate(sets):
            missing = [n for n in required if n not in got]
            if missing:
                what = "@trigger" if ts.kind == "event" else "@trigger_on_finish"
                which = "" if len(sets) == 1 else f" ({describe_leaf(leaves[i])})"
                raise DefinitionError(
                    f"flow {cls.__name__!r}: required Parameter "
                    f"{', '.join(map(repr, missing))} is not mapped by {what}{which}; "
                    "map it from the event payload or give it a default"
                )
    return out  # a list of triggers: any of them fires the flow


def describe_leaf(t: Any) -> str:
    return getattr(t, "name", None) or getattr(t, "workflow_name", "") or type(t).__name__


def launch_plan(cls: type[FlowSpec], scope: Scope, inst: Instance) -> LaunchPlan:
    from headwater.definitions.launch_plan import LaunchPlan
    from headwater.definitions.triggers import CronSchedule

    sched: ScheduleSettings | None = getattr(cls, "_headwater_settings", {}).get("schedule")
    return LaunchPlan(
        cls.__name__,
        cls._headwater_workflow,
        schedule=CronSchedule(sched.expression, timezone=sched.timezone) if sched else None,
        trigger=compile_triggers(cls, scope, inst) or None,
    )


def deploy(
    cls: type[FlowSpec],
    inst: Instance | None = None,
    branch: str | None = None,
    production: bool | None = None,
) -> LaunchPlanInfo:
    """Register the flow and its launch plan (triggers, schedule) and activate it."""
    from headwater.engine.register.launch_plans import register_launch_plan
    from headwater.instance import get_instance

    inst = inst or get_instance()
    scope = scope_of(cls, inst, branch, production)
    lp = launch_plan(cls, scope, inst)
    return register_launch_plan(inst, lp, scope.project, scope.domain, activate=True)


# -- running here ------------------------------------------------------------------------------
def _finish_trigger(inst: Instance, ref: str) -> dict[str, Any]:
    from headwater.storage import executions as rows

    flow, _, run_id = ref.rpartition("/")
    run_id = run_id or ref
    with inst.db.read() as tx:
        row = rows.get_execution(tx, run_id)
    if row is None:
        raise NotFoundError(f"--trigger {ref}: no run {run_id!r}")
    if flow and row.workflow != flow and row.workflow.rsplit(".", 1)[-1] != flow:
        raise NotFoundError(f"--trigger {ref}: run {run_id} is of {row.workflow}, not {flow}")
    payload = {
        "execution_id": row.id,
        "workflow": row.workflow,
        "launch_plan": row.launch_plan,
        "project": row.project,
        "domain": row.domain,
        "status": row.status,
    }
    return {
        "launch_plan": None,
        "kind": "finish",
        "trigger": "local",
        "events": [
            {
                "id": f"local-{uuid.uuid4().hex}",
                "name": f"headwater.execution.{row.status}",
                "source": "local --trigger",
                "subject": row.id,
                "time": row.finished_at or time.time(),
                "payload": payload,
            }
        ],
        "artifacts": [],
        "runs": [row.id],
    }


def event_inputs(
    cls: type[FlowSpec], scope: Scope, inst: Instance, name: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Parameters a custom event maps, as the flow's ``@trigger`` says (the first trigger that
    listens to ``name``; same-named fields when it maps none). A name the flow does not
    listen to is refused with the names it does."""
    mapping: dict[str, str] | None = None
    listened: list[str] = []
    for ts in getattr(cls, "_headwater_settings", {}).get("triggers", []):
        if ts.kind != "event":
            continue
        for item in ts.items:
            ev = _event(item, cls, scope)
            listened.append(ev.name)
            if ev.name == name:
                mapping = ev.parameters
                break
        else:
            continue
        break
    if name not in listened:
        hint = (
            f"it listens to {', '.join(map(repr, listened))}"
            if listened
            else "it has no @trigger(event=...)"
        )
        raise UserInputError(
            f"{cls.__name__} does not listen to event {name!r}: {hint}; "
            "give one of those to --trigger-event"
        )
    params = parameters_of(cls)
    if mapping is None:
        mapping = {n: n for n in params if n in payload}
    out = {}
    for pname, fld in mapping.items():
        if fld not in payload:
            if params[pname][1].required:
                raise UserInputError(
                    f"the payload has no field {fld!r} for required parameter {pname!r}"
                )
            continue
        out[pname] = params[pname][1].convert(
            payload[fld], f"payload field {fld!r} (parameter {pname!r})"
        )
    return out


def run(
    cls: type[FlowSpec],
    inst: Instance | None = None,
    *,
    trigger: str | None = None,
    trigger_event: str | None = None,
    payload: dict[str, Any] | None = None,
    branch: str | None = None,
    production: bool | None = None,
    max_workers: int | None = None,
    **params: Any,
) -> Execution:
    """Run the flow here as a recorded execution (``python flow.py run``). ``trigger="Up/123"``
    simulates a finish trigger from that run; ``trigger_event``/``payload`` a custom event.
    ``max_workers`` bounds how many steps of parallel branches run at once (default 16)."""
    from headwater.engine.execute.runner import execute
    from headwater.flows._runtime import MAX_WORKERS
    from headwater.instance import get_instance

    inst = inst or get_instance()
    scope = scope_of(cls, inst, branch, production)
    known = parameters_of(cls)
    unknown = [k for k in params if k not in known]
    if unknown:
        raise UserInputError(
            f"{cls.__name__} has no parameter {', '.join(map(repr, unknown))} "
            f"(parameters: {', '.join(known) or 'none'})"
        )
    trig: dict[str, Any] | None = None
    inputs: dict[str, Any] = {}
    if trigger is not None:
        trig = _finish_trigger(inst, trigger)
    if trigger_event is not None:
        body = payload or {}
        if not isinstance(body, dict):
            raise UserInputError("--payload must be a JSON object")
        inputs.update(event_inputs(cls, scope, inst, trigger_event, body))
        event = {
            "id": f"local-{uuid.uuid4().hex}",
            "name": trigger_event,
            "source": "local --trigger-event",
            "subject": None,
            "time": time.time(),
            "payload": body,
        }
        if trig is None:
            trig = {
                "launch_plan": None,
                "kind": "event",
                "trigger": "local",
                "events": [],
                "artifacts": [],
                "runs": [],
            }
        trig["events"].append(event)
    for k, v in params.items():
        inputs[k] = known[k][1].convert(v, f"parameter {k!r}") if isinstance(v, str) else v
    token = MAX_WORKERS.set(max_workers)
    try:
        return execute(
            inst,
            cls._headwater_workflow,
            inputs,
            trigger=trig,
            project=scope.project,
            domain=scope.domain,
        )
    finally:
        MAX_WORKERS.reset(token)


def parse_payload(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"--payload is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise UserInputError("--payload must be a JSON object, e.g. '{\"k\": 1}'")
    return body
