"""Flow-level decorators: ``@project``, ``@trigger``, ``@trigger_on_finish``, ``@schedule``,
``@queue``.

They only record their settings on the class; ``deploy`` compiles them into a launch plan
(see :mod:`headwater.flows._compile`), so deploy-time callables run at deploy time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from headwater.definitions.names import check_name, queue_problem
from headwater.errors import DefinitionError

C = TypeVar("C", bound=type)


def _is_flow(cls: Any) -> bool:
    from headwater.flows._spec import FlowSpec

    return isinstance(cls, type) and issubclass(cls, FlowSpec)


def _settings(cls: Any, what: str) -> dict[str, Any]:
    if not _is_flow(cls):
        raise DefinitionError(
            f"@{what} decorates a FlowSpec class, got {cls!r}; put it right above "
            "`class MyFlow(FlowSpec):`"
        )
    # Each class gets its own dict (a subclass must not add to its base's settings).
    if "_headwater_settings" not in vars(cls):
        inherited = dict(getattr(cls, "_headwater_settings", {}))
        cls._headwater_settings = inherited
    settings: dict[str, Any] = cls._headwater_settings
    return settings


@dataclass(frozen=True)
class ProjectSettings:
    name: str
    branch: str | None = None
    production: bool = False


def project(
    name: str | None = None, branch: str | None = None, production: bool = False
) -> Callable[[C], C]:
    """``@project(name="fraud", branch=None, production=False)``: the flow's runs, deployment and
    ``@trigger_on_finish`` triggers live in that project and a branch: ``user.<user>`` by
    default, ``test.<branch>`` with a branch, ``prod`` / ``prod.<branch>`` in production."""
    if not name:
        raise DefinitionError("@project needs a name, e.g. @project(name='fraud')")
    check_name(name, "project name")
    if branch is not None:
        check_name(branch, "project branch")
    settings = ProjectSettings(name, branch, bool(production))

    def wrap(cls: C) -> C:
        _settings(cls, "project")["project"] = settings
        return cls

    return wrap


@dataclass
class TriggerSettings:
    kind: str  # "event" | "finish"
    items: list[Any]
    require: str = "any"
    within: timedelta | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _require(require: str, within: Any, what: str) -> None:
    if require not in ("any", "all"):
        raise DefinitionError(f"@{what}(require=...) is 'any' or 'all', got {require!r}")
    if within is not None:
        if not isinstance(within, timedelta) or within <= timedelta(0):
            raise DefinitionError(f"@{what}(within=...) takes a positive timedelta, got {within!r}")
        if require != "all":
            raise DefinitionError(f"@{what}(within=...) goes with require='all'")


def trigger(
    cls: Any = None,
    *,
    event: Any = None,
    events: list[Any] | None = None,
    options: dict[str, Any] | None = None,
    require: str = "any",
    within: timedelta | None = None,
) -> Any:
    """Start the flow on custom events::

        @trigger(event="data.updated")
        @trigger(event={"name": "data.updated", "parameters": {"table": "table_name"}})
        @trigger(events=["a", "b"], require="all", within=timedelta(hours=1))

    ``parameters`` maps flow parameters to payload fields: a dict ``{"param": "field"}`` or a
    list of ``"name"`` / ``("param", "field")``; omitted, same-named fields map. An event (or its
    name or parameters) may be a callable, called at deploy time with a context that has
    ``flow_name``, ``user_name``, ``project_name``, ``branch_name`` and ``parameter_name``.
    """
    if cls is not None:
        raise DefinitionError("@trigger needs an event: @trigger(event='name')")
    if (event is None) == (events is None):
        raise DefinitionError("@trigger takes exactly one of event=... or events=[...]")
    items = [event] if event is not None else list(events or [])
    if not items:
        raise DefinitionError("@trigger(events=[...]) needs at least one event")
    _require(require, within, "trigger")
    ts = TriggerSettings("event", items, require, within, dict(options or {}))

    def wrap(c: C) -> C:
        _settings(c, "trigger").setdefault("triggers", []).append(ts)
        return c

    return wrap


def trigger_on_finish(
    cls: Any = None,
    *,
    flow: Any = None,
    flows: list[Any] | None = None,
    options: dict[str, Any] | None = None,
    require: str = "any",
    within: timedelta | None = None,
) -> Any:
    """Start the flow when another flow's run succeeds::

        @trigger_on_finish(flow="Train")                 # same project and branch
        @trigger_on_finish(flow="fraud.prod.Train")      # fully qualified
        @trigger_on_finish(flow={"name": "Train", "project": "fraud", "project_branch": "prod"})
        @trigger_on_finish(flows=["A", "B"], require="all")

    ``current.trigger.run`` (or ``current.trigger["Train"]``) is the upstream run.
    """
    if cls is not None:
        raise DefinitionError("@trigger_on_finish needs a flow: @trigger_on_finish(flow='Up')")
    if (flow is None) == (flows is None):
        raise DefinitionError("@trigger_on_finish takes exactly one of flow=... or flows=[...]")
    items = [flow] if flow is not None else list(flows or [])
    if not items:
        raise DefinitionError("@trigger_on_finish(flows=[...]) needs at least one flow")
    _require(require, within, "trigger_on_finish")
    ts = TriggerSettings("finish", items, require, within, dict(options or {}))

    def wrap(c: C) -> C:
        _settings(c, "trigger_on_finish").setdefault("triggers", []).append(ts)
        return c

    return wrap


@dataclass(frozen=True)
class ScheduleSettings:
    expression: str
    timezone: str | None = None


def schedule(
    cls: Any = None,
    *,
    hourly: bool = False,
    daily: bool = True,
    weekly: bool = False,
    cron: str | None = None,
    timezone: str | None = None,
) -> Any:
    """Run the flow on a schedule once deployed: ``@schedule(hourly=True)``, ``@schedule(daily=
    True)`` (the default), ``@schedule(weekly=True)`` or ``@schedule(cron="0 6 * * *",
    timezone="Europe/Paris")``."""
    from headwater.definitions.triggers import CronSchedule

    if cron:
        expr = cron
    elif weekly:
        expr = "@weekly"
    elif hourly:
        expr = "@hourly"
    elif daily:
        expr = "@daily"
    else:
        raise DefinitionError(
            "@schedule needs hourly, daily, weekly or cron, e.g. @schedule(daily=True) or "
            "@schedule(cron='0 6 * * *')"
        )
    CronSchedule(expr, timezone=timezone)  # validates now, at import
    settings = ScheduleSettings(expr, timezone)

    def wrap(c: C) -> C:
        _settings(c, "schedule")["schedule"] = settings
        return c

    return wrap(cls) if cls is not None else wrap


def queue(name: str) -> Callable[[C], C]:
    """``@queue("gpu")``: the flow's deployed runs wait on that named queue, taken only by
    workers started with ``headwater worker --queue gpu`` (default ``"default"``). Local
    ``python flow.py run`` runs in the calling process and ignores it."""
    problem = queue_problem(name)
    if problem:
        raise DefinitionError(f"@queue: {problem}")

    def wrap(cls: C) -> C:
        _settings(cls, "queue")["queue"] = name
        cls._headwater_workflow.queue = name  # type: ignore[attr-defined]
        return cls

    return wrap
