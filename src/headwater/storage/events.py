"""The append-only event log (the outbox): every change others react to writes a row here."""

from __future__ import annotations

import json
import time
from typing import Any

from headwater.storage.db import Tx


def insert_event(
    tx: Tx,
    *,
    id: str,
    name: str,
    source: str,
    project: str,
    domain: str,
    time: float,
    payload: dict[str, Any],
    subject: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> int | None:
    """Append an event (and its reactor inbox row); returns its ``seq``, or None when an event
    with this source and id exists already (nothing is written then)."""
    seq = tx.scalar(
        "INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
        "attributes) VALUES (:id, :name, :source, :subject, :project, :domain, :time, :payload,"
        " :attributes) ON CONFLICT (id, source) DO NOTHING RETURNING seq",
        {
            "id": id,
            "name": name,
            "source": source,
            "subject": subject,
            "project": project,
            "domain": domain,
            "time": time,
            "payload": json.dumps(payload, sort_keys=True),
            "attributes": json.dumps(attributes or {}, sort_keys=True),
        },
    )
    if seq is not None:
        tx.execute("INSERT INTO reactor_inbox (seq) VALUES (:seq)", {"seq": seq})
    return int(seq) if seq is not None else None


def find_event(tx: Tx, event_id: str, source: str) -> Any:
    """The event with this source and id, or None."""
    return tx.one(
        "SELECT * FROM events WHERE id = :id AND source = :source",
        {"id": event_id, "source": source},
    )


def events_with_id(tx: Tx, event_id: str, limit: int = 20) -> list[Any]:
    """The events with this id (one per source that used it), newest first."""
    return tx.all(
        "SELECT * FROM events WHERE id = :id ORDER BY seq DESC LIMIT :n",
        {"id": event_id, "n": limit},
    )


def remember_delivery(tx: Tx, sender: str, delivery_id: str, timestamp: float, keep: float) -> bool:
    """Record a verified webhook delivery; False when this sender delivered this id before.

    Deliveries whose timestamp is more than ``keep`` seconds old are forgotten first: a
    replay of those is refused by its timestamp alone.
    """
    now = time.time()
    tx.execute("DELETE FROM webhook_deliveries WHERE timestamp < :cutoff", {"cutoff": now - keep})
    added = tx.scalar(
        "INSERT INTO webhook_deliveries (sender, id, timestamp, received_at) VALUES "
        "(:sender, :id, :ts, :now) ON CONFLICT DO NOTHING RETURNING 1",
        {"sender": sender, "id": delivery_id, "ts": timestamp, "now": now},
    )
    return added is not None


def list_events(
    tx: Tx,
    *,
    name: str | None = None,
    since: float | None = None,
    until: float | None = None,
    after_seq: int | None = None,
    limit: int = 100,
) -> list[Any]:
    """Newest first (or oldest first after ``after_seq``, for consumers of the log)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for clause, key, value in (
        ("name = :name", "name", name),
        ("time >= :since", "since", since),
        ("time < :until", "until", until),
        ("seq > :after", "after", after_seq),
    ):
        if value is not None:
            where.append(clause)
            params[key] = value
    sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "")
    order = "seq ASC" if after_seq is not None else "seq DESC"
    return tx.all(f"{sql} ORDER BY {order} LIMIT :limit", params)
