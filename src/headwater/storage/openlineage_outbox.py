"""The ``openlineage_outbox`` table: run state changes waiting to be sent as OpenLineage events.

A row is written in the transaction that records an execution's start or end, so a change is
never exported without having happened, nor lost when the process dies right after. It holds
only what the change was (execution, ``START``/``RUNNING``/``COMPLETE``/``FAIL``/``ABORT``,
when); the sender builds the full RunEvent from the stored execution when it sends it
(``integrations/openlineage``) and deletes the row once the endpoint took it.

Rows are written only while export is configured in this process's environment
(:func:`enabled`): without a consumer the table would only grow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx, in_list
from headwater.storage.executions import ExecutionRow

#: Environment variables any of which turns export on (Headwater's, then the client's own).
ENABLING_VARIABLES = ("HEADWATER_OPENLINEAGE_URL", "OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")
#: ``HEADWATER_OPENLINEAGE=off`` turns export off even when one of the above is set.
SWITCH = "HEADWATER_OPENLINEAGE"


def enabled(environ: Any = None) -> bool:
    """Is OpenLineage export configured for this process (so run changes go to the outbox)?"""
    env = os.environ if environ is None else environ
    if env.get(SWITCH, "").strip().lower() in ("off", "0", "false", "no"):
        return False
    return any(env.get(name) for name in ENABLING_VARIABLES)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One pending run state change."""

    id: int
    execution_id: str
    event_type: str
    event_time: float
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> OutboxRow:
        return cls(
            id=int(r["id"]),
            execution_id=r["execution_id"],
            event_type=r["event_type"],
            event_time=float(r["event_time"]),
            created_at=float(r["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Backlog:
    """How many changes wait to be sent, and when the oldest was recorded (None: none)."""

    count: int
    oldest: float | None


def enqueue(tx: Tx, *, execution_id: str, event_type: str, event_time: float) -> None:
    """Record that ``execution_id`` changed state (``event_type``) at ``event_time``."""
    tx.execute(
        "INSERT INTO openlineage_outbox (execution_id, event_type, event_time, created_at) "
        "VALUES (:e, :t, :at, :at)",
        {"e": execution_id, "t": event_type, "at": event_time},
    )


def pending(tx: Tx, limit: int) -> list[OutboxRow]:
    """The oldest ``limit`` rows, in the order they were written."""
    found = tx.all(
        "SELECT id, execution_id, event_type, event_time, created_at FROM openlineage_outbox "
        "ORDER BY id LIMIT :n",
        {"n": limit},
    )
    return [OutboxRow.from_db(r) for r in found]


def delete(tx: Tx, ids: list[int]) -> None:
    """Forget rows whose events were delivered (or can never be built)."""
    if not ids:
        return
    marks, params = in_list("i", ids)
    tx.execute(f"DELETE FROM openlineage_outbox WHERE id IN {marks}", params)


def backlog(tx: Tx) -> Backlog:
    """The number of rows waiting and the recording time of the oldest."""
    r = tx.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM openlineage_outbox")
    if r is None:
        return Backlog(0, None)
    oldest = r["oldest"]
    return Backlog(int(r["n"]), None if oldest is None else float(oldest))


def executions_page(
    tx: Tx, *, since: float | None, after: tuple[float, str] | None, limit: int
) -> list[ExecutionRow]:
    """For the backfill (``headwater lineage export``): executions created at ``since`` or
    later, oldest first (ties: lowest id first), after the (created_at, id) ``after``."""
    where: list[str] = []
    params: dict[str, Any] = {"n": limit}
    if since is not None:
        where.append("created_at >= :since")
        params["since"] = since
    if after is not None:
        where.append("(created_at > :at OR (created_at = :at AND id > :id))")
        params["at"], params["id"] = after
    sql = "SELECT * FROM executions" + (" WHERE " + " AND ".join(where) if where else "")
    found = tx.all(f"{sql} ORDER BY created_at, id LIMIT :n", params)
    return [ExecutionRow.from_db(r) for r in found]
