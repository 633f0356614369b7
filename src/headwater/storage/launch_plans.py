"""Rows for launch plan versions and which version of each name is active.

``launch_plans.spec`` is JSON::

    {"workflow": "mod.wf", "default_inputs": {name: literal}, "fixed_inputs": {name: literal},
     "query_inputs": {name: query spec}, "schedule": schedule spec | null,
     "triggers": [trigger spec, ...], "concurrency": {"max_concurrency", "behavior"} | null,
     "labels": {...}, "notifications": [...], "max_attempts": int}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx, in_list


@dataclass(frozen=True, slots=True)
class LaunchPlanRow:
    """A row of ``launch_plans`` (one registered version); ``spec`` is JSON text."""

    id: int
    project: str
    domain: str
    name: str
    version: str
    workflow: str
    workflow_version: str
    spec: str
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> LaunchPlanRow:
        return cls(
            r["id"],
            r["project"],
            r["domain"],
            r["name"],
            r["version"],
            r["workflow"],
            r["workflow_version"],
            r["spec"],
            r["created_at"],
        )


@dataclass(frozen=True, slots=True)
class ListedLaunchPlanRow:
    """A version as ``list_launch_plans`` returns it: its row and whether it is active."""

    plan: LaunchPlanRow
    active: bool


def _rows(found: list[Any]) -> list[LaunchPlanRow]:
    return [LaunchPlanRow.from_db(r) for r in found]


def insert_launch_plan(
    tx: Tx,
    *,
    project: str,
    domain: str,
    name: str,
    version: str,
    workflow: str,
    workflow_version: str,
    spec: dict[str, Any],
    now: float,
) -> int:
    """The row id of this version, inserted unless it exists (versions are content hashes)."""
    tx.execute(
        "INSERT INTO launch_plans (project, domain, name, version, workflow, workflow_version, "
        "spec, created_at) VALUES (:p, :d, :n, :v, :w, :wv, :s, :t) "
        "ON CONFLICT (project, domain, name, version) DO NOTHING",
        {
            "p": project,
            "d": domain,
            "n": name,
            "v": version,
            "w": workflow,
            "wv": workflow_version,
            "s": json.dumps(spec, sort_keys=True),
            "t": now,
        },
    )
    return int(
        tx.scalar(
            "SELECT id FROM launch_plans WHERE project = :p AND domain = :d AND name = :n "
            "AND version = :v",
            {"p": project, "d": domain, "n": name, "v": version},
        )
    )


def get_launch_plan(tx: Tx, lp_id: int) -> LaunchPlanRow | None:
    """The version with this row id, or None."""
    r = tx.one("SELECT * FROM launch_plans WHERE id = :id", {"id": lp_id})
    return None if r is None else LaunchPlanRow.from_db(r)


def find_version(
    tx: Tx, project: str, domain: str, name: str, version: str | None
) -> LaunchPlanRow | None:
    """A version by name (the newest registered when ``version`` is None), or None."""
    if version is None:
        r = tx.one(
            "SELECT * FROM launch_plans WHERE project = :p AND domain = :d AND "
            "name = :n ORDER BY id DESC LIMIT 1",
            {"p": project, "d": domain, "n": name},
        )
    else:
        r = tx.one(
            "SELECT * FROM launch_plans WHERE project = :p AND domain = :d AND name = :n "
            "AND version = :v",
            {"p": project, "d": domain, "n": name, "v": version},
        )
    return None if r is None else LaunchPlanRow.from_db(r)


def max_id(tx: Tx) -> int | None:
    """The newest row id (None while there is none): changes whenever a version is added."""
    found = tx.scalar("SELECT MAX(id) FROM launch_plans")
    return None if found is None else int(found)


def registry_stamp(tx: Tx) -> tuple[float | None, int | None]:
    """``(launch_plan_state.state_version, max_id)`` in one round trip (joins
    ``launch_plan_state``): changes whenever a plan is registered, activated or
    deactivated."""
    r = tx.one(
        "SELECT (SELECT MAX(changed_at) FROM launch_plan_state) AS changed, "
        "(SELECT MAX(id) FROM launch_plans) AS newest"
    )
    changed, newest = r["changed"], r["newest"]
    return (
        None if changed is None else float(changed),
        None if newest is None else int(newest),
    )


def active_launch_plans(tx: Tx) -> list[LaunchPlanRow]:
    """Every active launch plan version, by id (joins ``launch_plan_state``)."""
    return _rows(
        tx.all(
            "SELECT lp.* FROM launch_plan_state s JOIN launch_plans lp ON "
            "lp.id = s.active_id ORDER BY lp.id"
        )
    )


def current_versions(tx: Tx) -> list[LaunchPlanRow]:
    """Per launch plan name, its active version, or its newest version when none is active
    (joins ``launch_plan_state``): what the reactor's trigger index is built from. Names
    that were never (de)activated come after the others."""
    rows = tx.all(
        "SELECT lp.* FROM launch_plans lp JOIN launch_plan_state s ON s.project = lp.project "
        "AND s.domain = lp.domain AND s.name = lp.name WHERE lp.id = s.active_id OR "
        "(s.active_id IS NULL AND lp.id = (SELECT MAX(x.id) FROM launch_plans x WHERE "
        "x.project = lp.project AND x.domain = lp.domain AND x.name = lp.name))"
    )
    rows += tx.all(
        "SELECT lp.* FROM launch_plans lp WHERE NOT EXISTS (SELECT 1 FROM launch_plan_state s "
        "WHERE s.project = lp.project AND s.domain = lp.domain AND s.name = lp.name) AND "
        "lp.id = (SELECT MAX(x.id) FROM launch_plans x WHERE x.project = lp.project AND "
        "x.domain = lp.domain AND x.name = lp.name)"
    )
    return _rows(rows)


def list_launch_plans(
    tx: Tx, project: str | None = None, domain: str | None = None
) -> list[ListedLaunchPlanRow]:
    """Every version, by name then newest first, with whether it is active (joins
    ``launch_plan_state``)."""
    where, params = [], {}
    for col, value in (("project", project), ("domain", domain)):
        if value is not None:
            where.append(f"lp.{col} = :{col}")
            params[col] = value
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    found = tx.all(
        "SELECT lp.*, CASE WHEN s.active_id = lp.id THEN 1 ELSE 0 END AS active FROM "
        "launch_plans lp LEFT JOIN launch_plan_state s ON s.project = lp.project AND "
        f"s.domain = lp.domain AND s.name = lp.name{cond} ORDER BY lp.name, lp.id DESC",
        params,
    )
    return [ListedLaunchPlanRow(LaunchPlanRow.from_db(r), bool(r["active"])) for r in found]


@dataclass(frozen=True, slots=True)
class PlanNameRow:
    """One launch plan name (``plan_names``): how many versions it has, its newest version's
    row id and its active version's (None: none active)."""

    project: str
    domain: str
    name: str
    versions: int
    newest_id: int
    active_id: int | None


def plan_names(tx: Tx, *, projects: list[str] | None, limit: int, offset: int) -> list[PlanNameRow]:
    """Launch plan names by project, domain and name, ``limit`` from ``offset``, in
    ``projects`` (None: every project). Joins ``launch_plan_state`` for the active version."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    cond = ""
    if projects is not None:
        if not projects:
            return []
        marks, names = in_list("p", projects)
        cond = f" WHERE lp.project IN {marks}"
        params.update(names)
    found = tx.all(
        "SELECT lp.project, lp.domain, lp.name, COUNT(*) AS versions, MAX(lp.id) AS newest_id, "
        "MAX(s.active_id) AS active_id FROM launch_plans lp LEFT JOIN launch_plan_state s ON "
        "s.project = lp.project AND s.domain = lp.domain AND s.name = lp.name"
        f"{cond} GROUP BY lp.project, lp.domain, lp.name ORDER BY lp.project, lp.domain, "
        "lp.name LIMIT :limit OFFSET :offset",
        params,
    )
    return [
        PlanNameRow(
            r["project"],
            r["domain"],
            r["name"],
            int(r["versions"]),
            int(r["newest_id"]),
            None if r["active_id"] is None else int(r["active_id"]),
        )
        for r in found
    ]


def versions_of(tx: Tx, project: str, domain: str, name: str) -> list[ListedLaunchPlanRow]:
    """Every version of one launch plan name, newest first, with whether it is active (joins
    ``launch_plan_state``)."""
    found = tx.all(
        "SELECT lp.*, CASE WHEN s.active_id = lp.id THEN 1 ELSE 0 END AS active FROM "
        "launch_plans lp LEFT JOIN launch_plan_state s ON s.project = lp.project AND "
        "s.domain = lp.domain AND s.name = lp.name WHERE lp.project = :p AND lp.domain = :d "
        "AND lp.name = :n ORDER BY lp.id DESC",
        {"p": project, "d": domain, "n": name},
    )
    return [ListedLaunchPlanRow(LaunchPlanRow.from_db(r), bool(r["active"])) for r in found]


def get_launch_plans(tx: Tx, ids: list[int]) -> list[LaunchPlanRow]:
    """The versions with these row ids that exist, by id."""
    if not ids:
        return []
    marks, params = in_list("i", ids)
    found = tx.all(f"SELECT * FROM launch_plans WHERE id IN {marks} ORDER BY id", params)
    return _rows(found)
