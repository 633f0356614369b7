"""The append-only event log (the outbox): every change others react to writes a row here."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.storage import reactor_inbox
from headwater.storage.db import Tx, in_list


@dataclass(frozen=True, slots=True)
class EventRow:
    """A row of ``events``; ``payload`` and ``attributes`` are JSON text."""

    seq: int
    id: str
    name: str
    source: str
    subject: str | None
    project: str
    domain: str
    time: float
    payload: str
    attributes: str

    @classmethod
    def from_db(cls, r: Any) -> EventRow:
        return cls(
            r["seq"],
            r["id"],
            r["name"],
            r["source"],
            r["subject"],
            r["project"],
            r["domain"],
            r["time"],
            r["payload"],
            r["attributes"],
        )


def _rows(found: list[Any]) -> list[EventRow]:
    return [EventRow.from_db(r) for r in found]


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
    payload_json: str | None = None,
) -> int | None:
    """Append an event (and its reactor inbox row); returns its ``seq``, or None when an event
    with this source and id exists already (nothing is written then). ``payload_json``: the
    payload as stored (``json.dumps(payload, sort_keys=True)``), when the caller has it."""
    params = {
        "id": id,
        "name": name,
        "source": source,
        "subject": subject,
        "project": project,
        "domain": domain,
        "time": time,
        "payload": json.dumps(payload, sort_keys=True) if payload_json is None else payload_json,
        "attributes": json.dumps(attributes, sort_keys=True) if attributes else "{}",
    }
    insert = (
        "INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
        "attributes) VALUES (:id, :name, :source, :subject, :project, :domain, :time, :payload,"
        " :attributes) ON CONFLICT (id, source) DO NOTHING RETURNING seq"
    )
    if tx.dialect == "postgresql":
        # The inbox row in the same statement: one round trip less per event.
        seq = tx.scalar(
            f"WITH e AS ({insert}) INSERT INTO reactor_inbox (seq) SELECT seq FROM e RETURNING seq",
            params,
        )
        if seq is not None:
            reactor_inbox.inserted(tx)
    else:
        seq = tx.scalar(insert, params)
        if seq is not None:
            reactor_inbox.insert(tx, seq)
    return int(seq) if seq is not None else None


def find_event(tx: Tx, event_id: str, source: str) -> EventRow | None:
    """The event with this source and id, or None."""
    r = tx.one(
        "SELECT * FROM events WHERE id = :id AND source = :source",
        {"id": event_id, "source": source},
    )
    return None if r is None else EventRow.from_db(r)


def events_with_id(tx: Tx, event_id: str, limit: int = 20) -> list[EventRow]:
    """The events with this id (one per source that used it), newest first."""
    return _rows(
        tx.all(
            "SELECT * FROM events WHERE id = :id ORDER BY seq DESC LIMIT :n",
            {"id": event_id, "n": limit},
        )
    )


def events_by_seq(tx: Tx, seqs: Sequence[int]) -> dict[int, EventRow]:
    """The events with these seqs, by seq (missing seqs are left out)."""
    marks, params = in_list("q", seqs)
    return {r.seq: r for r in _rows(tx.all(f"SELECT * FROM events WHERE seq IN {marks}", params))}


_PENDING = "SELECT e.* FROM reactor_inbox i JOIN events e ON e.seq = i.seq ORDER BY i.seq LIMIT :n"


def pending_events(tx: Tx, limit: int) -> list[EventRow]:
    """The oldest ``limit`` events waiting in the reactor's inbox, oldest first (joins
    ``reactor_inbox``)."""
    return _rows(tx.all(_PENDING, {"n": limit}))


def pending_events_later(tx: Tx, limit: int) -> Callable[[], list[EventRow]]:
    """:func:`pending_events`, sent now and read when the returned function is called: in a
    pipelined PostgreSQL transaction, reads issued in between go in the same round trip."""
    cur = tx.execute(_PENDING, {"n": limit})
    return lambda: _rows(list(cur.fetchall()))


def events_between(
    tx: Tx, since: float, until: float | None, *, except_name: str, seq: int | None = None
) -> list[EventRow]:
    """Events with ``since`` <= time < ``until`` (no upper bound when None) except those
    named ``except_name``, oldest first; only the event ``seq`` when given."""
    where = "time >= :since" + (" AND time < :until" if until is not None else "")
    if seq is not None:
        where += " AND seq = :seq"
    return _rows(
        tx.all(
            f"SELECT * FROM events WHERE {where} AND name <> :tick ORDER BY seq",
            {"since": since, "until": until, "tick": except_name, "seq": seq},
        )
    )


def name_seen(tx: Tx, name: str) -> bool:
    """Whether any event with this name was ever stored."""
    return tx.one("SELECT 1 FROM events WHERE name = :n LIMIT 1", {"n": name}) is not None


def list_events(
    tx: Tx,
    *,
    name: str | None = None,
    since: float | None = None,
    until: float | None = None,
    after_seq: int | None = None,
    limit: int = 100,
    source: str | None = None,
    project: str | None = None,
    before_seq: int | None = None,
) -> list[EventRow]:
    """Newest first (or oldest first after ``after_seq``, for consumers of the log).
    ``before_seq`` pages back: the events older than the last one of the previous page."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for clause, key, value in (
        ("name = :name", "name", name),
        ("source = :source", "source", source),
        ("project = :project", "project", project),
        ("time >= :since", "since", since),
        ("time < :until", "until", until),
        ("seq > :after", "after", after_seq),
        ("seq < :before", "before", before_seq),
    ):
        if value is not None:
            where.append(clause)
            params[key] = value
    sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "")
    order = "seq ASC" if after_seq is not None else "seq DESC"
    return _rows(tx.all(f"{sql} ORDER BY {order} LIMIT :limit", params))
