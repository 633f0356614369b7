"""Two versions of one launch plan for the launch-plan page tests: version 1 fires on any
``lp.demo`` event, version 2 (registered last, active) only on ``env = prod``."""

from __future__ import annotations

from headwater import LaunchPlan, OnEvent
from headwater.engine.register.launch_plans import LaunchPlanInfo, register_launch_plan
from headwater.instance import Instance

from . import flows

NAME = "review_versions"


def register_two_versions(inst: Instance) -> tuple[LaunchPlanInfo, LaunchPlanInfo]:
    """(version 1, version 2); version 2 is the active one. ``tests.ui.flows`` must be
    registered first."""
    first = register_launch_plan(
        inst,
        LaunchPlan(NAME, flows.review, trigger=OnEvent("lp.demo", parameters={"seed": "seed"})),
    )
    second = register_launch_plan(
        inst,
        LaunchPlan(
            NAME,
            flows.review,
            trigger=OnEvent("lp.demo", parameters={"seed": "seed"}, filter={"env": "prod"}),
        ),
        activate=True,
    )
    return first, second
