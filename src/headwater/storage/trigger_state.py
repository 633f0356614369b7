"""Rows of ``trigger_state``: the parts of AllOf triggers seen so far, per correlation value.

A row is one occurrence of one part (the event that matched it); the reactor adds it, drops
rows older than the trigger's ``within`` window, and, once every part has been seen, drops
the rows the firing consumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class TriggerStateRow:
    """A row of ``trigger_state``."""

    id: int
    launch_plan_id: int
    trigger_path: str
    correlation: str
    part: int
    event_id: str
    event_seq: int
    event_time: float

    @classmethod
    def from_db(cls, r: Any) -> TriggerStateRow:
        return cls(
            r["id"],
            r["launch_plan_id"],
            r["trigger_path"],
            r["correlation"],
            r["part"],
            r["event_id"],
            r["event_seq"],
            r["event_time"],
        )


def add_part(
    tx: Tx,
    *,
    launch_plan_id: int,
    trigger_path: str,
    correlation: str,
    part: int,
    event_id: str,
    event_seq: int,
    event_time: float,
) -> None:
    """Record that the event ``event_seq`` matched part ``part`` for this correlation."""
    tx.execute(
        "INSERT INTO trigger_state (launch_plan_id, trigger_path, correlation, part, "
        "event_id, event_seq, event_time) VALUES (:lp, :path, :c, :part, :eid, :seq, "
        ":t)",
        {
            "lp": launch_plan_id,
            "path": trigger_path,
            "c": correlation,
            "part": part,
            "eid": event_id,
            "seq": event_seq,
            "t": event_time,
        },
    )


def drop_older(
    tx: Tx, *, launch_plan_id: int, trigger_path: str, correlation: str, oldest: float
) -> None:
    """Forget the parts whose event time is before ``oldest`` (outside the window)."""
    tx.execute(
        "DELETE FROM trigger_state WHERE launch_plan_id = :lp AND trigger_path = "
        ":path AND correlation = :c AND event_time < :oldest",
        {"lp": launch_plan_id, "path": trigger_path, "c": correlation, "oldest": oldest},
    )


def seen_parts(
    tx: Tx, *, launch_plan_id: int, trigger_path: str, correlation: str
) -> list[tuple[int, int]]:
    """(part, event seq) of every part seen for this correlation, oldest event first."""
    return [
        (r["part"], r["event_seq"])
        for r in tx.all(
            "SELECT part, event_seq FROM trigger_state WHERE launch_plan_id = :lp "
            "AND trigger_path = :path AND correlation = :c ORDER BY event_seq",
            {"lp": launch_plan_id, "path": trigger_path, "c": correlation},
        )
    ]


def drop_through(
    tx: Tx, *, launch_plan_id: int, trigger_path: str, correlation: str, last_seq: int
) -> None:
    """Forget the parts whose event seq is ``last_seq`` or older (consumed by a firing)."""
    tx.execute(
        "DELETE FROM trigger_state WHERE launch_plan_id = :lp AND trigger_path = "
        ":path AND correlation = :c AND event_seq <= :last",
        {"lp": launch_plan_id, "path": trigger_path, "c": correlation, "last": last_seq},
    )


def list_state(tx: Tx, launch_plan_id: int) -> list[TriggerStateRow]:
    """Every part recorded for the launch plan version, by id."""
    return [
        TriggerStateRow.from_db(r)
        for r in tx.all(
            "SELECT * FROM trigger_state WHERE launch_plan_id = :lp ORDER BY id",
            {"lp": launch_plan_id},
        )
    ]
