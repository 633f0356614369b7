"""Shared pieces of the ``storage/db.py`` contract tests (importable by spawned processes)."""

from __future__ import annotations

from typing import Any

from headwater.errors import Busy
from headwater.storage.db import Database, Tx

SCHEMA = (
    "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)",
    "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    "INSERT INTO counter (id, n) VALUES (1, 0)",
)


def create_tables(db: Database) -> None:
    with db.transaction() as tx:
        for sql in SCHEMA:
            tx.execute(sql)


def keys(db: Database) -> list[int]:
    with db.read() as tx:
        return [int(r["k"]) for r in tx.all("SELECT k FROM t ORDER BY k")]


def counter(db: Database) -> int:
    with db.read() as tx:
        return int(tx.scalar("SELECT n FROM counter WHERE id = 1"))


def increment(tx: Tx) -> int:
    """Read the counter, then write it plus one, locking the row the way callers do
    (PostgreSQL: ``FOR UPDATE``; SQLite: the write lock ``BEGIN IMMEDIATE`` took)."""
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    n = int(tx.scalar(f"SELECT n FROM counter WHERE id = 1{lock}"))
    tx.execute("UPDATE counter SET n = :n WHERE id = 1", {"n": n + 1})
    return n + 1


def increment_now_or_later(db: Database) -> bool:
    """One increment as the HTTP server writes: ``transaction_now``, and when that is
    ``Busy`` the same write in ``transaction()``. True when it had to wait."""
    try:
        with db.transaction_now() as tx:
            increment(tx)
        return False
    except Busy:
        with db.transaction() as tx:
            increment(tx)
        return True


def write_from_a_process(url: str, first_key: int, count: int, start: Any) -> None:
    """In a spawned process: ``count`` transactions, each inserting one key and incrementing
    the counter, after every writer is ready (``start``: a multiprocessing barrier)."""
    db = Database(url)
    try:
        start.wait(60)
        for k in range(first_key, first_key + count):
            with db.transaction() as tx:
                tx.execute("INSERT INTO t (k, v) VALUES (:k, 'p')", {"k": k})
                increment(tx)
    finally:
        db.close()
