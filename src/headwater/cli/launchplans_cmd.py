"""``headwater launchplans list|activate|deactivate``."""

from __future__ import annotations

from typing import Any

import click

from headwater.cli._output import emit_json, table
from headwater.cli.app import CONTEXT_SETTINGS

HEADERS = ["NAME", "VERSION", "ACTIVE", "WORKFLOW", "TRIGGERS", "SCHEDULE"]


def _triggers(spec: dict[str, Any]) -> str:
    from headwater.engine.kinds import summary

    return ", ".join(summary(t) for t in spec.get("triggers", [])) or "-"


def _schedule(spec: dict[str, Any]) -> str:
    from headwater.engine.kinds import summary

    s = spec.get("schedule")
    return summary(s) if s else "-"


def _print(plans: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([p.to_dict() for p in plans])
        return
    rows = [
        [
            p.name,
            p.version[:12],
            "yes" if p.active else "no",
            p.workflow,
            _triggers(p.spec),
            _schedule(p.spec),
        ]
        for p in plans
    ]
    table(HEADERS, rows, empty="no launch plans registered (headwater register FILE)")


@click.group(context_settings=CONTEXT_SETTINGS)
def launchplans() -> None:
    """List, activate and deactivate launch plans."""


@launchplans.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only active versions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(active_only: bool, as_json: bool) -> None:
    """Registered launch plan versions, newest first."""
    from headwater.client import list_launch_plans

    _print(list_launch_plans(active_only=active_only), as_json)


@launchplans.command()
@click.argument("name")
@click.option("--version", help="The version to activate (default: the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def activate(name: str, version: str | None, as_json: bool) -> None:
    """Activate a launch plan version (triggers start firing)."""
    from headwater.client import activate as do

    _print([do(name, version)], as_json)


@launchplans.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deactivate(name: str, as_json: bool) -> None:
    """Deactivate a launch plan (nothing fires for it)."""
    from headwater.client import deactivate as do

    _print([do(name)], as_json)
