"""Rows of ``server_state``: server-wide flags that must outlive a process (migration 0005).

One row per key; ``value`` is text (JSON by convention), ``updated_at`` when it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class ServerStateRow:
    """One server-wide flag."""

    key: str
    value: str
    updated_at: float

    @classmethod
    def from_db(cls, r: Any) -> ServerStateRow:
        return cls(key=r["key"], value=r["value"], updated_at=r["updated_at"])


def get(tx: Tx, *, key: str) -> ServerStateRow | None:
    """The row of ``key``, or None."""
    r = tx.one("SELECT * FROM server_state WHERE key = :k", {"k": key})
    return None if r is None else ServerStateRow.from_db(r)


def put_if_absent(tx: Tx, *, key: str, value: str, now: float) -> bool:
    """Store ``key`` unless it is already set; True when this call stored it."""
    cursor = tx.execute(
        "INSERT INTO server_state (key, value, updated_at) VALUES (:k, :v, :t) "
        "ON CONFLICT (key) DO NOTHING",
        {"k": key, "v": value, "t": now},
    )
    return bool(cursor.rowcount)


def delete(tx: Tx, *, key: str) -> bool:
    """Remove ``key``; True when it was set."""
    cursor = tx.execute("DELETE FROM server_state WHERE key = :k", {"k": key})
    return bool(cursor.rowcount)


def put(tx: Tx, *, key: str, value: str, now: float) -> None:
    """Store ``key`` (replacing what it held)."""
    tx.execute(
        "INSERT INTO server_state (key, value, updated_at) VALUES (:k, :v, :t) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        {"k": key, "v": value, "t": now},
    )


def with_prefix(tx: Tx, *, prefix: str) -> list[ServerStateRow]:
    """Every row whose key starts with ``prefix`` (which holds no ``%`` or ``_``)."""
    found = tx.all("SELECT * FROM server_state WHERE key LIKE :p", {"p": prefix + "%"})
    return [ServerStateRow.from_db(r) for r in found if r["key"].startswith(prefix)]
