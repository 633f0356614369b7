"""Rows of ``launch_plan_state``: which version of each launch plan name is active.

One row per (project, domain, name) once a version of it was activated or deactivated;
``active_id`` is the active ``launch_plans.id`` (None: no version is active), ``changed_at``
when that last changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class LaunchPlanStateRow:
    """A row of ``launch_plan_state``."""

    project: str
    domain: str
    name: str
    active_id: int | None
    changed_at: float

    @classmethod
    def from_db(cls, r: Any) -> LaunchPlanStateRow:
        return cls(r["project"], r["domain"], r["name"], r["active_id"], r["changed_at"])


def get_state(tx: Tx, project: str, domain: str, name: str) -> LaunchPlanStateRow | None:
    """The state of the name, or None when no version of it was ever (de)activated."""
    r = tx.one(
        "SELECT * FROM launch_plan_state WHERE project = :p AND domain = :d AND name = :n",
        {"p": project, "d": domain, "n": name},
    )
    return None if r is None else LaunchPlanStateRow.from_db(r)


def active_id(tx: Tx, project: str, domain: str, name: str) -> int | None:
    """The row id of the active version of the name, or None."""
    found = tx.scalar(
        "SELECT active_id FROM launch_plan_state WHERE project = :p AND domain = :d AND name = :n",
        {"p": project, "d": domain, "n": name},
    )
    return None if found is None else int(found)


def is_active(tx: Tx, lp_id: int) -> bool:
    """Whether the version with row id ``lp_id`` is the active one of its name."""
    return (
        tx.one("SELECT 1 FROM launch_plan_state WHERE active_id = :id", {"id": lp_id}) is not None
    )


def set_active(tx: Tx, project: str, domain: str, name: str, lp_id: int | None, now: float) -> None:
    """Activate version ``lp_id`` of the name (deactivating any other), or none (None)."""
    tx.execute(
        "INSERT INTO launch_plan_state (project, domain, name, active_id, changed_at) "
        "VALUES (:p, :d, :n, :a, :t) ON CONFLICT (project, domain, name) DO UPDATE SET "
        "active_id = excluded.active_id, changed_at = excluded.changed_at",
        {"p": project, "d": domain, "n": name, "a": lp_id, "t": now},
    )


def state_version(tx: Tx) -> float | None:
    """Changes whenever any launch plan is activated or deactivated (for caches to reload)."""
    found = tx.scalar("SELECT MAX(changed_at) FROM launch_plan_state")
    return None if found is None else float(found)
