"""Rows of ``worker_slots`` (PostgreSQL): idle worker processes offering to take an execution
the reactor hands them (migration 0018).

A worker process waiting for work offers a slot: its number, which is also an advisory lock
``(SLOT_LOCKS, slot)`` that its listening connection holds for as long as it lives, and the
channel ``headwater_slot_<slot>`` it LISTENs on. When the reactor fires a plan it hands the
new execution to the oldest live offer whose queues take it (:func:`hand_over`, in the
firing's transaction): the row is claimed for that worker, its ``execution.started`` event
written, and the NOTIFY that goes with the COMMIT carries the claimed row, so that the worker
starts without a claim of its own. With no live offer the execution stays queued and the
usual NOTIFY wakes the workers to claim it.

A process that stops waiting takes its offer back (:func:`withdraw`), which tells it whether
an execution was handed to it meanwhile.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from headwater.storage.executions import STARTED_PAYLOAD, ExecutionRow
from headwater.storage.notify import QUEUE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from headwater.storage.db import Tx

__all__ = [
    "MAX_ROW",
    "SLOT_LOCKS",
    "channel",
    "hand_over",
    "handed_row",
    "hold",
    "offer",
    "withdraw",
]

SLOT_LOCKS = 0x4857  # the advisory locks' first key: one lock per live slot
CHANNEL = "headwater_slot_"
# A NOTIFY payload holds < 8,000 bytes: an execution whose stored inputs, resolved inputs and
# trigger take more than this stays queued for a claim.
MAX_ROW = 6_000


def channel(slot: int) -> str:
    """The channel the process offering ``slot`` LISTENs on."""
    return f"{CHANNEL}{int(slot)}"


def hold(tx: Tx, slot: int) -> bool:
    """On the offering process's listening connection: take the slot's lock for the life of
    the connection and LISTEN on its channel. False when another process holds that
    number (nothing done)."""
    if not tx.scalar("SELECT pg_try_advisory_lock(:k, :s)", {"k": SLOT_LOCKS, "s": slot}):
        return False
    tx.execute(f"LISTEN {channel(slot)}")
    return True


def offer(
    tx: Tx, slot: int, *, worker: str, queues: Sequence[str] | None, lease: float, now: float
) -> None:
    """Offer ``slot`` (held, see :func:`hold`) for the next execution on ``queues`` (None:
    any), to run for ``worker`` with a lease of ``lease`` seconds. Slots whose processes are
    gone (their lock is free) are removed on the way."""
    tx.execute(
        "WITH gone AS (DELETE FROM worker_slots WHERE slot <> :s "
        "AND pg_try_advisory_xact_lock(:k, slot) RETURNING slot) "
        "INSERT INTO worker_slots (slot, worker, queues, lease, since, execution_id) "
        "VALUES (:s, :w, :q, :lease, :now, NULL) ON CONFLICT (slot) DO UPDATE SET "
        "worker = EXCLUDED.worker, queues = EXCLUDED.queues, lease = EXCLUDED.lease, "
        "since = EXCLUDED.since, execution_id = NULL",
        {
            "k": SLOT_LOCKS,
            "s": slot,
            "w": worker,
            "q": None if queues is None else ",".join(queues),
            "lease": lease,
            "now": now,
        },
    )


def withdraw(tx: Tx, slot: int) -> str | None:
    """Take the offer of ``slot`` back: the id of the execution handed to it before that
    (its row claimed for the offering worker), or None."""
    got = tx.scalar("DELETE FROM worker_slots WHERE slot = :s RETURNING execution_id", {"s": slot})
    return None if got is None else str(got)


def hand_over(tx: Tx, execution_id: str, *, queue: str, now: float, event: dict[str, str]) -> None:
    """In the transaction that queued ``execution_id``: claim it for the oldest live offer on
    ``queue`` and write its started event (``event``: ``id``, ``name``, ``source``), the
    NOTIFY to that slot carrying the claimed row going out with the COMMIT; with no such
    offer (or a row too big for a NOTIFY) leave it queued and NOTIFY the workers' channel."""
    payload = STARTED_PAYLOAD.replace("CAST(:w AS text)", "s.worker")
    tx.execute(
        "WITH s AS (SELECT slot, worker, lease FROM worker_slots WHERE execution_id IS NULL "
        "AND (queues IS NULL OR CAST(:queue AS text) = ANY(string_to_array(queues, ','))) "
        "AND NOT pg_try_advisory_xact_lock(:k, slot) "
        "ORDER BY since LIMIT 1 FOR UPDATE SKIP LOCKED), "
        "u AS (UPDATE executions x SET status = 'running', worker = s.worker, "
        "lease_expires_at = CAST(:now AS float8) + s.lease, attempts = x.attempts + 1, "
        "started_at = :now, finished_at = NULL FROM s WHERE x.id = :id AND x.status = 'queued' "
        "AND length(x.inputs) + length(x.resolved) + COALESCE(length(x.trigger), 0) < :max "
        "RETURNING x.*), "
        "t AS (UPDATE worker_slots w SET execution_id = u.id FROM s, u WHERE w.slot = s.slot "
        "RETURNING w.slot), "
        "e AS (INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
        "attributes) SELECT :eid, :ename, :esource, u.id, u.project, u.domain, :now, "
        f"{payload}, '{{}}' FROM u, s ON CONFLICT (id, source) DO NOTHING RETURNING seq), "
        "i AS (INSERT INTO reactor_inbox (seq) SELECT seq FROM e RETURNING seq) "
        "SELECT CASE WHEN u.id IS NULL THEN pg_notify(:queue_channel, '') "
        f"ELSE pg_notify('{CHANNEL}' || s.slot, row_to_json(u)::text) END AS told, "
        "(SELECT COUNT(*) FROM t) + (SELECT COUNT(*) FROM i) AS written "
        "FROM (SELECT 1) AS one LEFT JOIN s ON true LEFT JOIN u ON true",
        {
            "k": SLOT_LOCKS,
            "queue": queue,
            "now": now,
            "id": execution_id,
            "max": MAX_ROW,
            "eid": event["id"],
            "ename": event["name"],
            "esource": event["source"],
            "queue_channel": QUEUE,
        },
    )


def handed_row(payload: str) -> ExecutionRow:
    """The claimed row a hand-over's NOTIFY carries (a new execution: no node recorded)."""
    fields: dict[str, Any] = json.loads(payload)
    return ExecutionRow(**fields, nodes_before=0)
