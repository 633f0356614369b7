"""Rows of ``firings``: one per launch plan trigger firing, unique per (launch plan version,
trigger path, firing key). The key is the firing event's seq (or the joined seqs of an AllOf
group); the uniqueness is what makes the reactor fire exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class FiringRow:
    """A row of ``firings``."""

    id: int
    launch_plan_id: int
    trigger_path: str
    firing_key: str
    execution_id: str | None
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> FiringRow:
        return cls(
            r["id"],
            r["launch_plan_id"],
            r["trigger_path"],
            r["firing_key"],
            r["execution_id"],
            r["created_at"],
        )


_VALUES = itemgetter("lp", "path", "key", "e", "t")


_UNIQUE = "uq_firing"


def insert_firings(tx: Tx, firings: Sequence[dict[str, Any]], *, strict: bool = False) -> int:
    """Add firings in one statement, leaving out those whose key is taken; returns how many
    were added (all of them when it equals ``len(firings)``), or -1 when the driver does not
    say (callers then look up each firing with ``fired_execution``). Keys of each firing: ``lp`` (launch
    plan id), ``path`` (trigger path), ``key`` (firing key), ``e`` (execution id), ``t``.

    ``strict`` (PostgreSQL): a taken key fails the statement instead (the transaction is
    then lost: see :func:`key_taken`), so nothing needs to be read back: in a pipelined
    transaction the insert goes with the COMMIT. Returns ``len(firings)``."""
    if not firings:
        return 0
    if tx.dialect == "postgresql":
        if strict:
            tx.conn.execute(
                "INSERT INTO firings (launch_plan_id, trigger_path, firing_key, execution_id, "
                "created_at) SELECT lp, path, key, e, t FROM unnest(CAST(%(lp)b AS bigint[]), "
                "CAST(%(path)b AS text[]), CAST(%(key)b AS text[]), CAST(%(e)b AS text[]), "
                "CAST(%(t)b AS float8[])) WITH ORDINALITY AS u(lp, path, key, e, t, n) ORDER BY n",
                {k: [f[k] for f in firings] for k in ("lp", "path", "key", "e", "t")},
            )
            return len(firings)
        # One statement over arrays rather than one per row, sent in binary (``%(x)b``):
        # text arrays are quoted element by element in Python.
        cur = tx.conn.execute(
            "INSERT INTO firings (launch_plan_id, trigger_path, firing_key, execution_id, "
            "created_at) SELECT lp, path, key, e, t FROM unnest(CAST(%(lp)b AS bigint[]), "
            "CAST(%(path)b AS text[]), CAST(%(key)b AS text[]), CAST(%(e)b AS text[]), "
            "CAST(%(t)b AS float8[])) WITH ORDINALITY AS u(lp, path, key, e, t, n) ORDER BY n "
            "ON CONFLICT DO NOTHING",
            {k: [f[k] for f in firings] for k in ("lp", "path", "key", "e", "t")},
        )
        tx.sync()  # pipeline mode: the rowcount is known once the statement has run
        return int(cur.rowcount)
    # Positional: sqlite3 binds a tuple at about half the cost of named parameters.
    cur = tx.conn.executemany(
        "INSERT INTO firings (launch_plan_id, trigger_path, firing_key, execution_id, "
        "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [_VALUES(f) for f in firings],
    )
    return int(cur.rowcount)


def key_taken(exc: BaseException) -> bool:
    """Whether ``exc`` is a strict :func:`insert_firings` finding a firing key taken."""
    diag = getattr(exc, "diag", None)
    return (
        getattr(exc, "sqlstate", None) == "23505"
        and getattr(diag, "constraint_name", None) == _UNIQUE
    )


def fired_execution(tx: Tx, launch_plan_id: int, trigger_path: str, firing_key: str) -> str | None:
    """The execution the firing with this key queued (None: no such firing, or none queued)."""
    found = tx.scalar(
        "SELECT execution_id FROM firings WHERE launch_plan_id = :lp AND "
        "trigger_path = :path AND firing_key = :key",
        {"lp": launch_plan_id, "path": trigger_path, "key": firing_key},
    )
    return None if found is None else str(found)


def get_firing(tx: Tx, launch_plan_id: int, trigger_path: str, firing_key: str) -> FiringRow | None:
    """The firing with this key, or None."""
    r = tx.one(
        "SELECT * FROM firings WHERE launch_plan_id = :lp AND trigger_path = :path AND "
        "firing_key = :key",
        {"lp": launch_plan_id, "path": trigger_path, "key": firing_key},
    )
    return None if r is None else FiringRow.from_db(r)


def max_id(tx: Tx) -> int:
    """The newest firing's id (0 while there is none)."""
    return int(tx.scalar("SELECT COALESCE(MAX(id), 0) FROM firings"))


def count_between(tx: Tx, after_id: int, through_id: int) -> int:
    """How many firings have ``after_id`` < id <= ``through_id``."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM firings WHERE id > :lo AND id <= :hi",
            {"lo": after_id, "hi": through_id},
        )
    )
