"""The append-only event log (the outbox): every change others react to writes a row here."""

from __future__ import annotations

import json
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
    with this id exists already (nothing is written then)."""
    seq = tx.scalar(
        "INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
        "attributes) VALUES (:id, :name, :source, :subject, :project, :domain, :time, :payload,"
        " :attributes) ON CONFLICT (id) DO NOTHING RETURNING seq",
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


def get_event(tx: Tx, event_id: str) -> Any:
    return tx.one("SELECT * FROM events WHERE id = :id", {"id": event_id})


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
