"""Which workers serve which queues, and on which host the server runs (``server_state`` rows).

- ``worker:<name>``: a worker process, its queues and host; written when it starts and every
  :data:`REFRESH` seconds while it waits for work, deleted when it stops in order. A queue
  counts as *served* while a worker's row is younger than :data:`SERVED_WITHIN` seconds, or
  while an execution of that queue runs under an unexpired lease (a busy worker does not
  refresh its row). The reaper of ``headwater up`` deletes rows older than :data:`FORGET_AFTER`.
- ``server_host``: the host ``headwater up`` runs on (written at its start and refreshed by
  its reaper), against which a worker with a SQLite database or a local blob folder checks its
  own host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.storage import server_state
from headwater.storage.db import Tx

WORKER_PREFIX = "worker:"
SERVER_HOST = "server_host"
REFRESH = 10.0  # seconds between a waiting worker's updates of its row
SERVED_WITHIN = 60.0  # a worker row older than this no longer counts
FORGET_AFTER = 86400.0  # ... and one older than this is deleted


@dataclass(frozen=True, slots=True)
class WorkerEntry:
    """A worker as it last recorded itself."""

    name: str
    queues: list[str]
    host: str
    seen_at: float


@dataclass(frozen=True, slots=True)
class ServerHost:
    """Where ``headwater up`` last said it runs."""

    host: str
    database: str
    storage: str
    seen_at: float


def record_worker(tx: Tx, *, name: str, queues: list[str], host: str, now: float) -> None:
    """The worker ``name`` is alive and serves ``queues``."""
    value = json.dumps({"queues": sorted(queues), "host": host}, sort_keys=True)
    server_state.put(tx, key=WORKER_PREFIX + name, value=value, now=now)


def forget_worker(tx: Tx, *, name: str) -> None:
    """The worker ``name`` has stopped."""
    server_state.delete(tx, key=WORKER_PREFIX + name)


def prune_workers(tx: Tx, *, before: float) -> int:
    """Delete the rows of workers last seen before ``before`` (they died without stopping in
    order); how many there were."""
    cursor = tx.execute(
        "DELETE FROM server_state WHERE key LIKE :p AND updated_at < :t",
        {"p": WORKER_PREFIX + "%", "t": before},
    )
    return int(cursor.rowcount or 0)


def workers(tx: Tx, *, since: float) -> list[WorkerEntry]:
    """Workers that recorded themselves at ``since`` or later."""
    out = []
    for row in server_state.with_prefix(tx, prefix=WORKER_PREFIX):
        if row.updated_at < since:
            continue
        body: dict[str, Any] = json.loads(row.value)
        out.append(
            WorkerEntry(
                name=row.key[len(WORKER_PREFIX) :],
                queues=[str(q) for q in body.get("queues", [])],
                host=str(body.get("host", "")),
                seen_at=row.updated_at,
            )
        )
    return out


def is_served(tx: Tx, queue: str, *, now: float) -> bool:
    """Has a worker served ``queue`` in the last :data:`SERVED_WITHIN` seconds?"""
    if any(queue in w.queues for w in workers(tx, since=now - SERVED_WITHIN)):
        return True
    busy = tx.one(
        "SELECT 1 FROM executions WHERE status = 'running' AND queue = :q "
        "AND lease_expires_at > :now LIMIT 1",
        {"q": queue, "now": now},
    )
    return busy is not None


def waiting_reason(queue: str) -> str:
    """What a queued execution shows while no worker serves its queue."""
    return (
        f"queued on {queue!r}: no worker serves it (start one with "
        f"`headwater worker --queue {queue}`)"
    )


def record_server_host(tx: Tx, *, host: str, database: str, storage: str, now: float) -> None:
    """``headwater up`` runs on ``host`` with these (password-free) settings."""
    value = json.dumps({"host": host, "database": database, "storage": storage}, sort_keys=True)
    server_state.put(tx, key=SERVER_HOST, value=value, now=now)


def server_host(tx: Tx) -> ServerHost | None:
    """Where ``headwater up`` last ran, or None when it never recorded it here."""
    row = server_state.get(tx, key=SERVER_HOST)
    if row is None:
        return None
    body = json.loads(row.value)
    return ServerHost(
        host=str(body.get("host", "")),
        database=str(body.get("database", "")),
        storage=str(body.get("storage", "")),
        seen_at=row.updated_at,
    )
