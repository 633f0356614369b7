"""SQLite's write-ahead log: who checkpoints it (see ``api/checkpoints.py``)."""

from __future__ import annotations

from typing import Any

from headwater.storage.db import Tx


def no_autocheckpoint(conn: Any) -> None:
    """This SQLite connection's commits no longer checkpoint the log (SQLite's default: the
    commit that takes it past 1,000 pages); someone else must (``checkpoint``)."""
    conn.execute("PRAGMA wal_autocheckpoint=0")


def autocheckpoint(conn: Any, pages: int) -> None:
    """This SQLite connection's commits checkpoint the log only once it is past ``pages``
    pages (SQLite's default: 1,000)."""
    conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


def checkpoint(tx: Tx) -> None:
    """Copy what the log holds into the database file, as far as readers allow, without
    waiting for or blocking writers (a passive checkpoint)."""
    tx.execute("PRAGMA wal_checkpoint(PASSIVE)")
