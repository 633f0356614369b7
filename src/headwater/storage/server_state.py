"""Rows of ``server_state``: server-wide flags that must outlive a process (migration 0005).

One row per key; ``value`` is text (JSON by convention), ``updated_at`` when it was written.
"""

from __future__ import annotations

from typing import Any

from headwater.storage.db import Tx


def get(tx: Tx, key: str) -> Any:
    """The row of ``key`` (``key``, ``value``, ``updated_at``), or None."""
    return tx.one("SELECT * FROM server_state WHERE key = :k", {"k": key})


def put_if_absent(tx: Tx, key: str, value: str, now: float) -> bool:
    """Store ``key`` unless it is already set; True when this call stored it."""
    cursor = tx.execute(
        "INSERT INTO server_state (key, value, updated_at) VALUES (:k, :v, :t) "
        "ON CONFLICT (key) DO NOTHING",
        {"k": key, "v": value, "t": now},
    )
    return bool(cursor.rowcount)


def delete(tx: Tx, key: str) -> bool:
    """Remove ``key``; True when it was set."""
    cursor = tx.execute("DELETE FROM server_state WHERE key = :k", {"k": key})
    return bool(cursor.rowcount)
