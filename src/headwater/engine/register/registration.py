"""Registering an imported module: its tasks and workflows, its launch plans (declared or made
by ``LaunchPlan.create`` while it was imported, plus each workflow's default one), the flows
that deploy themselves, which of them to activate, and warnings about triggers that listen to
names nothing declares.

What ``activate`` means::

    False          nothing (except plans created with auto_activate=True)
    True           the launch plans that run by themselves: those with a trigger or a schedule
    "all"          every launch plan, default ones included
    ["a", "b"]     the launch plans (or flows) of these names
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from headwater.definitions.launch_plan import LaunchPlan
from headwater.engine.register.launch_plans import (
    is_reactive,
    launch_plans_of,
    register_launch_plan,
)
from headwater.engine.register.registry import ensure_registered, entities_of
from headwater.engine.register.trigger_warnings import undeclared_names
from headwater.errors import UserInputError

if TYPE_CHECKING:
    from headwater.instance import Instance

Activate = bool | str | Sequence[str]


class Registration(list[Any]):
    """What a registration stored (entities, then launch plan versions, as a list), with
    ``.warnings``: things that are allowed but probably a mistake."""

    def __init__(self, items: Any = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(items)
        self.warnings = list(warnings)


def check_activate(activate: Any) -> Activate:
    """``activate`` as given, or a UserInputError saying which forms are accepted."""
    if isinstance(activate, bool) or activate == "all":
        return activate
    if isinstance(activate, list | tuple) and all(
        isinstance(n, str) and n.strip() for n in activate
    ):
        return list(activate)
    raise UserInputError(
        f"activate={activate!r} is not understood; give True (the launch plans with a trigger "
        "or schedule), 'all' (every launch plan) or a list of launch plan names"
    )


def _flows_of(module: ModuleType) -> dict[str, Any]:
    """Classes of the module that deploy themselves (FlowSpec flows), by name."""
    found = {}
    for value in vars(module).values():
        hook = getattr(value, "_headwater_deploy", None) if isinstance(value, type) else None
        if callable(hook) and value.__module__ == module.__name__:
            found[value.__name__] = value
    return found


def _flow_is_reactive(flow: type) -> bool:
    # A flow's triggers compile only when it is deployed (they need its project and branch);
    # whether it has any is in the settings its decorators recorded.
    settings = getattr(flow, "_headwater_settings", None) or {}
    return bool(settings.get("triggers") or settings.get("schedule"))


def _chosen(
    plans: list[LaunchPlan], flows: dict[str, Any], activate: Activate
) -> tuple[set[str], set[str]]:
    """(launch plan names, flow names) to activate. A flow's own launch plan is the one its
    deploy makes, so the default plan of the same name is not activated with it."""
    plan_names, flow_names = _wanted(plans, flows, activate)
    return plan_names - flow_names, flow_names


def _wanted(
    plans: list[LaunchPlan], flows: dict[str, Any], activate: Activate
) -> tuple[set[str], set[str]]:
    if activate is False:
        return set(), set()
    if activate is True:
        return (
            {lp.name for lp in plans if is_reactive(lp)},
            {n for n, f in flows.items() if _flow_is_reactive(f)},
        )
    if activate == "all":
        return {lp.name for lp in plans}, set(flows)
    names = set(activate)
    unknown = names - {lp.name for lp in plans} - set(flows)
    if unknown:
        known = ", ".join(sorted({lp.name for lp in plans} | set(flows))) or "none"
        raise UserInputError(
            f"cannot activate {', '.join(sorted(unknown))}: the module declares no launch plan "
            f"of that name (it declares: {known})"
        )
    return names & {lp.name for lp in plans}, names & set(flows)


def register_module(
    inst: Instance,
    module: ModuleType,
    project: str | None = None,
    domain: str | None = None,
    activate: Activate = False,
) -> Registration:
    """Register everything ``module`` declares; activate what ``activate`` asks for."""
    activate = check_activate(activate)
    plans = launch_plans_of(module)
    flows = _flows_of(module)
    plan_names, flow_names = _chosen(plans, flows, activate)
    out = Registration(
        ensure_registered(inst, e, project, domain) for e in entities_of(module).values()
    )
    memo: dict[str, list[int]] = {}
    for lp in plans:
        out.append(
            register_launch_plan(inst, lp, project, domain, lp.name in plan_names, memo=memo)
        )
    for name in sorted(flow_names):  # flows deploy themselves, in their own project and branch
        out.append(flows[name]._headwater_deploy())
    out.warnings = undeclared_names(inst, module, out)
    return out
