"""Rows of ``webhook_deliveries``: verified webhook message ids, per sender, to refuse replays."""

from __future__ import annotations

import time

from headwater.storage.db import Tx


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
