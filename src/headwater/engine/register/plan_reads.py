"""Reads of launch plans by name for pages and lists: one page of names with their version
counts and active version, every version of one name, and the plans' recent executions.
Each reads only what it shows (never every version of every plan, nor every execution)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from headwater.engine.register.launch_plans import LaunchPlanInfo
from headwater.storage import executions as execution_rows
from headwater.storage import launch_plans as rows

if TYPE_CHECKING:
    from headwater.instance import Instance


@dataclass(frozen=True)
class PlanSummary:
    """One launch plan name: how many versions it has, and the version that represents it
    (the active one, else the newest) with whether any is active."""

    project: str
    domain: str
    name: str
    versions: int
    shown: LaunchPlanInfo

    @property
    def active(self) -> str | None:
        """The active version, or None when none is."""
        return self.shown.version if self.shown.active else None


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


def summaries(
    inst: Instance, projects: list[str] | None, limit: int, offset: int = 0
) -> list[PlanSummary]:
    """Launch plan names by project, domain and name, ``limit`` from ``offset``, in
    ``projects`` (None: every project)."""
    with inst.db.read() as tx:
        names = rows.plan_names(tx, projects=projects, limit=limit, offset=offset)
        wanted = [n.active_id if n.active_id is not None else n.newest_id for n in names]
        by_id = {r.id: r for r in rows.get_launch_plans(tx, wanted)}
    return [
        PlanSummary(
            n.project,
            n.domain,
            n.name,
            n.versions,
            _info(by_id[i], n.active_id is not None),
        )
        for n, i in zip(names, wanted, strict=True)
        if i in by_id
    ]


def versions(inst: Instance, name: str, project: str, domain: str) -> list[LaunchPlanInfo]:
    """Every version of launch plan ``name`` in ``project``/``domain``, newest first (empty
    when there is no such plan)."""
    with inst.db.read() as tx:
        found = rows.versions_of(tx, project, domain, name)
    return [_info(r.plan, r.active) for r in found]


RECENT_SCAN = 5_000  # newest executions ``recent_runs`` looks through


@dataclass(frozen=True)
class PlanRun:
    """An execution of a launch plan: its id, status and creation time."""

    id: str
    status: str
    created_at: datetime


PlanKey = tuple[str, str, str]  # (project, domain, name)


def recent_runs(
    inst: Instance, plans: list[PlanKey], per_plan: int, scan: int = RECENT_SCAN
) -> dict[PlanKey, list[PlanRun]]:
    """The newest ``per_plan`` executions of each plan among the ``scan`` newest executions
    of the instance (a plan missing from the answer did not run among them)."""
    wanted = set(plans)
    with inst.db.read() as tx:
        found = execution_rows.recent_by_launch_plan(
            tx, plans=sorted(wanted), scan=scan, per_plan=per_plan
        )
    out: dict[PlanKey, list[PlanRun]] = {}
    for r in found:
        key = (r.project, r.domain, r.launch_plan)
        runs = out.setdefault(key, []) if key in wanted else None
        if runs is not None and len(runs) < per_plan:
            runs.append(PlanRun(r.id, r.status, datetime.fromtimestamp(r.created_at, UTC)))
    return out
