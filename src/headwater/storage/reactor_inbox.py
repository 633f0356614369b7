"""Rows of ``reactor_inbox``: the seqs of events the reactor has not decided yet.

An event's inbox row is written in the transaction that stores the event (the outbox) and
deleted in the reactor transaction that decides it, so an event is decided exactly once.
The rows of events themselves are read with ``storage.events.pending_events``.
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.storage.db import Tx, in_list
from headwater.storage.notify import EVENTS

_PG_LOCK = 0x68770002  # one reactor batch at a time on PostgreSQL


def lock_for_deciding(tx: Tx) -> None:
    """Wait for, and hold until the transaction ends, the right to decide events: one
    reactor batch (or replay) at a time. PostgreSQL takes an advisory lock; on SQLite the
    transaction's write lock does it already."""
    if tx.dialect == "postgresql":
        tx.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")


def insert(tx: Tx, seq: int) -> None:
    """Put the event ``seq`` in the inbox."""
    tx.execute("INSERT INTO reactor_inbox (seq) VALUES (:seq)", {"seq": seq})
    inserted(tx)


def inserted(tx: Tx) -> None:
    """Say that this transaction put events in the inbox (``storage.events`` may write the
    row with the event's own statement): wakes a listening reactor once it commits."""
    tx.notify(EVENTS)


def any_pending(tx: Tx) -> bool:
    """Whether any event waits for the reactor (a cheap look, no lock)."""
    return tx.scalar("SELECT seq FROM reactor_inbox LIMIT 1") is not None


def is_pending(tx: Tx, seq: int) -> bool:
    """Whether the event ``seq`` still waits for the reactor's decision."""
    return bool(tx.scalar("SELECT COUNT(*) FROM reactor_inbox WHERE seq = :s", {"s": seq}))


def delete(tx: Tx, seqs: Sequence[int]) -> None:
    """Take the decided events ``seqs`` out of the inbox (one statement)."""
    if tx.dialect == "postgresql":  # one array parameter, not one per seq
        tx.execute(
            "DELETE FROM reactor_inbox WHERE seq = ANY(CAST(:s AS bigint[]))", {"s": list(seqs)}
        )
        return
    marks, params = in_list("s", seqs)
    tx.execute(f"DELETE FROM reactor_inbox WHERE seq IN {marks}", params)


def backlog(tx: Tx) -> int:
    """How many events wait for the reactor."""
    return int(tx.scalar("SELECT COUNT(*) FROM reactor_inbox"))
