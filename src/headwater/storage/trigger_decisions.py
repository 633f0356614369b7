"""Rows of ``trigger_decisions``: what the reactor decided for each (event, trigger) pair.

Rows are only ever added, one reactor batch at a time under its lock, so ids become visible
in order: counters (``/metrics``) add up the rows after the last id they saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx, in_list
from headwater.storage.pg_copy import copy_rows


@dataclass(frozen=True, slots=True)
class TriggerDecisionRow:
    """A row of ``trigger_decisions``."""

    id: int
    event_seq: int
    event_id: str
    launch_plan_id: int
    trigger_path: str
    outcome: str  # fired | not_fired | waiting | skipped
    reason: str
    execution_id: str | None
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> TriggerDecisionRow:
        return cls(
            r["id"],
            r["event_seq"],
            r["event_id"],
            r["launch_plan_id"],
            r["trigger_path"],
            r["outcome"],
            r["reason"],
            r["execution_id"],
            r["created_at"],
        )


@dataclass(frozen=True, slots=True)
class PlanDecisionRow:
    """A decision with the name and version of its launch plan (``decisions_for_events``)."""

    decision: TriggerDecisionRow
    lp_name: str
    lp_version: str


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """Fired decisions of one launch plan name: how many, their summed latency (seconds from
    the event's time to the decision) and how many fall in each bucket (``<=`` its bound)."""

    name: str
    n: int
    total: float
    buckets: tuple[int, ...]


# A decision as ``insert_decision_values`` takes it: event seq, event id, launch plan id,
# trigger path, outcome, reason, execution id (or None), created at.
DecisionValues = tuple[int, str, int, str, str, str, str | None, float]

_COLUMNS = (
    "event_seq",
    "event_id",
    "launch_plan_id",
    "trigger_path",
    "outcome",
    "reason",
    "execution_id",
    "created_at",
)
_PG_TYPES = ("int8", "text", "int8", "text", "text", "text", "text", "float8")


def insert_decisions(tx: Tx, decisions: Sequence[dict[str, Any]]) -> None:
    """Add decisions in one statement. Keys of each: ``seq`` (event seq), ``eid`` (event id),
    ``lp`` (launch plan id), ``path`` (trigger path), ``outcome``, ``reason``, ``e`` (the
    execution queued, or None) and ``t`` (created at)."""
    if not decisions:
        return
    if tx.dialect == "postgresql":
        insert_decision_values(
            tx,
            [
                (d["seq"], d["eid"], d["lp"], d["path"], d["outcome"], d["reason"], d["e"], d["t"])
                for d in decisions
            ],
        )
        return
    tx.many(
        "INSERT INTO trigger_decisions (event_seq, event_id, launch_plan_id, "
        "trigger_path, outcome, reason, execution_id, created_at) VALUES (:seq, :eid, "
        ":lp, :path, :outcome, :reason, :e, :t)",
        decisions,
    )


def insert_decision_values(tx: Tx, rows: Sequence[DecisionValues]) -> None:
    """Add decisions given as tuples (``DecisionValues``), in one statement; ids follow the
    order of ``rows``. What a reactor batch writes, without a dict per row."""
    if not rows:
        return
    if tx.dialect == "postgresql":
        # One binary COPY, formatted in C: the arrays of an INSERT ... SELECT FROM unnest
        # were adapted element by element in Python, most of a batch's client time.
        copy_rows(tx, "trigger_decisions", _COLUMNS, _PG_TYPES, rows)
        return
    tx.conn.executemany(
        f"INSERT INTO trigger_decisions ({', '.join(_COLUMNS)}) VALUES "
        f"({', '.join('?' * len(_COLUMNS))})",
        rows,
    )


def decisions_for_events(tx: Tx, seqs: Sequence[int]) -> list[PlanDecisionRow]:
    """The decisions about the events ``seqs``, in the order they were made (joins
    ``launch_plans`` for the name and version)."""
    marks, params = in_list("s", seqs)
    found = tx.all(
        "SELECT d.*, lp.name AS lp_name, lp.version AS lp_version FROM "
        "trigger_decisions d JOIN launch_plans lp ON lp.id = d.launch_plan_id "
        f"WHERE d.event_seq IN {marks} ORDER BY d.id",
        params,
    )
    return [
        PlanDecisionRow(TriggerDecisionRow.from_db(r), r["lp_name"], r["lp_version"]) for r in found
    ]


def max_id(tx: Tx) -> int:
    """The newest decision's id (0 while there is none)."""
    return int(tx.scalar("SELECT COALESCE(MAX(id), 0) FROM trigger_decisions"))


def outcome_counts(tx: Tx, after_id: int, through_id: int) -> list[tuple[str, int]]:
    """(outcome, how many) of the decisions with ``after_id`` < id <= ``through_id``."""
    return [
        (r["outcome"], int(r["n"]))
        for r in tx.all(
            "SELECT outcome, COUNT(*) AS n FROM trigger_decisions WHERE id > :lo AND "
            "id <= :hi GROUP BY outcome",
            {"lo": after_id, "hi": through_id},
        )
    ]


def fired_latency(
    tx: Tx,
    after_id: int,
    through_id: int,
    *,
    buckets: Sequence[float],
    except_reason_suffix: str,
) -> list[LatencyRow]:
    """Per launch plan name (sorted), the latency of the fired decisions with ``after_id`` <
    id <= ``through_id`` whose reason does not end with ``except_reason_suffix`` (joins
    ``events`` for the event time and ``launch_plans`` for the name)."""
    cases = ", ".join(
        f"SUM(CASE WHEN lat <= {b!r} THEN 1 ELSE 0 END) AS b{i}" for i, b in enumerate(buckets)
    )
    found = tx.all(
        f"SELECT name, COUNT(*) AS n, SUM(lat) AS total, {cases} FROM ("
        "SELECT lp.name AS name, d.created_at - e.time AS lat FROM trigger_decisions d "
        "JOIN events e ON e.seq = d.event_seq "
        "JOIN launch_plans lp ON lp.id = d.launch_plan_id "
        "WHERE d.id > :lo AND d.id <= :hi AND d.outcome = 'fired' "
        "AND d.reason NOT LIKE :replayed) fired GROUP BY name ORDER BY name",
        {"lo": after_id, "hi": through_id, "replayed": f"%{except_reason_suffix}"},
    )
    return [
        LatencyRow(
            str(r["name"]),
            int(r["n"] or 0),
            float(r["total"] or 0.0),
            tuple(int(r[f"b{i}"] or 0) for i in range(len(buckets))),
        )
        for r in found
    ]


@dataclass(frozen=True, slots=True)
class PlanEventDecisionRow:
    """A decision with the event it is about (``decisions_for_launch_plans``)."""

    decision: TriggerDecisionRow
    event_name: str
    event_source: str


def decisions_for_launch_plans(
    tx: Tx, *, launch_plan_ids: Sequence[int], before_id: int, window: int, limit: int
) -> list[PlanEventDecisionRow]:
    """The decisions about the launch plan versions ``launch_plan_ids``, newest first, among
    the ``window`` decisions (of every plan) with ids just below ``before_id`` (``max_id() +
    1`` for the newest); at most ``limit``. Joins ``events`` for the event's name and source.

    There is deliberately no index on ``launch_plan_id`` (0004: it slowed the reactor's
    writes), so the read walks the primary key over a bounded id range; callers continue
    below ``before_id - window`` for older ones."""
    if not launch_plan_ids:
        return []
    marks, params = in_list("lp", launch_plan_ids)
    found = tx.all(
        "SELECT d.*, e.name AS event_name, e.source AS event_source FROM trigger_decisions d "
        "JOIN events e ON e.seq = d.event_seq WHERE d.id < :top AND d.id >= :floor AND "
        f"d.launch_plan_id IN {marks} ORDER BY d.id DESC LIMIT :limit",
        {**params, "top": before_id, "floor": before_id - window, "limit": limit},
    )
    return [
        PlanEventDecisionRow(TriggerDecisionRow.from_db(r), r["event_name"], r["event_source"])
        for r in found
    ]
