"""Rows for launch plan versions and which version of each name is active.

``launch_plans.spec`` is JSON::

    {"workflow": "mod.wf", "default_inputs": {name: literal}, "fixed_inputs": {name: literal},
     "query_inputs": {name: query spec}, "schedule": schedule spec | null,
     "triggers": [trigger spec, ...], "concurrency": {"max_concurrency", "behavior"} | null,
     "labels": {...}, "notifications": [...], "max_attempts": int}
"""

from __future__ import annotations

import json
from typing import Any

from headwater.storage.db import Tx


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


def get_launch_plan(tx: Tx, lp_id: int) -> Any:
    return tx.one("SELECT * FROM launch_plans WHERE id = :id", {"id": lp_id})


def find_version(tx: Tx, project: str, domain: str, name: str, version: str | None) -> Any:
    """A version by name (the newest registered when ``version`` is None)."""
    if version is None:
        return tx.one(
            "SELECT * FROM launch_plans WHERE project = :p AND domain = :d AND "
            "name = :n ORDER BY id DESC LIMIT 1",
            {"p": project, "d": domain, "n": name},
        )
    return tx.one(
        "SELECT * FROM launch_plans WHERE project = :p AND domain = :d AND name = :n "
        "AND version = :v",
        {"p": project, "d": domain, "n": name, "v": version},
    )


def active_id(tx: Tx, project: str, domain: str, name: str) -> int | None:
    return tx.scalar(
        "SELECT active_id FROM launch_plan_state WHERE project = :p AND domain = :d AND name = :n",
        {"p": project, "d": domain, "n": name},
    )


def set_active(tx: Tx, project: str, domain: str, name: str, lp_id: int | None, now: float) -> None:
    """Activate version ``lp_id`` of the name (deactivating any other), or none (None)."""
    tx.execute(
        "INSERT INTO launch_plan_state (project, domain, name, active_id, changed_at) "
        "VALUES (:p, :d, :n, :a, :t) ON CONFLICT (project, domain, name) DO UPDATE SET "
        "active_id = excluded.active_id, changed_at = excluded.changed_at",
        {"p": project, "d": domain, "n": name, "a": lp_id, "t": now},
    )


def active_launch_plans(tx: Tx) -> list[Any]:
    """Every active launch plan version."""
    return tx.all(
        "SELECT lp.* FROM launch_plan_state s JOIN launch_plans lp ON "
        "lp.id = s.active_id ORDER BY lp.id"
    )


def state_version(tx: Tx) -> Any:
    """Changes whenever any launch plan is activated or deactivated (for caches to reload)."""
    return tx.scalar("SELECT MAX(changed_at) FROM launch_plan_state")


def list_launch_plans(tx: Tx, project: str | None = None, domain: str | None = None) -> list[Any]:
    """Every version, newest first per name, with ``active`` (1/0)."""
    where, params = [], {}
    for col, value in (("project", project), ("domain", domain)):
        if value is not None:
            where.append(f"lp.{col} = :{col}")
            params[col] = value
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    return tx.all(
        "SELECT lp.*, CASE WHEN s.active_id = lp.id THEN 1 ELSE 0 END AS active FROM "
        "launch_plans lp LEFT JOIN launch_plan_state s ON s.project = lp.project AND "
        f"s.domain = lp.domain AND s.name = lp.name{cond} ORDER BY lp.name, lp.id DESC",
        params,
    )
