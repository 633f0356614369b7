"""Rows of ``schedule_state``: per scheduled launch plan version, its next tick.

``next_fire_at`` is the next tick (epoch seconds; ``-1`` while the plan is parked, i.e. no
longer active), ``last_fired_at`` the last tick that became an event. The scheduler only
advances a row from the value it read (compare-and-set), so a tick is emitted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class ScheduleStateRow:
    """A row of ``schedule_state``."""

    launch_plan_id: int
    next_fire_at: float
    last_fired_at: float | None

    @classmethod
    def from_db(cls, r: Any) -> ScheduleStateRow:
        return cls(r["launch_plan_id"], r["next_fire_at"], r["last_fired_at"])


def get_schedule(tx: Tx, launch_plan_id: int) -> ScheduleStateRow | None:
    """The row of the launch plan version, or None."""
    r = tx.one("SELECT * FROM schedule_state WHERE launch_plan_id = :id", {"id": launch_plan_id})
    return None if r is None else ScheduleStateRow.from_db(r)


def next_fire_times(tx: Tx) -> dict[int, float]:
    """``next_fire_at`` of every row, by launch plan id."""
    return {
        int(r["launch_plan_id"]): r["next_fire_at"]
        for r in tx.all("SELECT launch_plan_id, next_fire_at FROM schedule_state")
    }


def start(tx: Tx, launch_plan_id: int, next_fire_at: float, parked: float) -> None:
    """Set the first tick: insert the row, or update it only while it is ``parked``."""
    tx.execute(
        "INSERT INTO schedule_state (launch_plan_id, next_fire_at) "
        "VALUES (:id, :next) ON CONFLICT (launch_plan_id) DO UPDATE SET "
        "next_fire_at = excluded.next_fire_at "
        "WHERE schedule_state.next_fire_at = :parked",
        {"id": launch_plan_id, "next": next_fire_at, "parked": parked},
    )


def advance(tx: Tx, launch_plan_id: int, *, due: float, next_fire_at: float, fired: float) -> bool:
    """Move the next tick from ``due`` to ``next_fire_at`` (recording ``fired`` as the last
    one); False when the row's next tick is no longer ``due`` (someone advanced it first)."""
    cur = tx.execute(
        "UPDATE schedule_state SET next_fire_at = :next, last_fired_at = :last "
        "WHERE launch_plan_id = :id AND next_fire_at = :due",
        {"next": next_fire_at, "last": fired, "id": launch_plan_id, "due": due},
    )
    return bool(cur.rowcount == 1)


def park(tx: Tx, launch_plan_id: int, parked: float) -> None:
    """Set the next tick to ``parked`` (the plan is no longer active; the last tick is kept)."""
    tx.execute(
        "UPDATE schedule_state SET next_fire_at = :p WHERE launch_plan_id = :id",
        {"p": parked, "id": launch_plan_id},
    )


def earliest_active(tx: Tx) -> float | None:
    """The earliest next tick of an active, unparked version (joins ``launch_plan_state``)."""
    found = tx.scalar(
        "SELECT MIN(s.next_fire_at) FROM schedule_state s JOIN launch_plan_state a "
        "ON a.active_id = s.launch_plan_id WHERE s.next_fire_at >= 0"
    )
    return None if found is None else float(found)
