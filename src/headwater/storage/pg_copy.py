"""PostgreSQL bulk inserts with ``COPY ... FROM STDIN (FORMAT BINARY)``.

psycopg formats each row of a binary COPY in C; the arrays of an ``INSERT ... SELECT FROM
unnest(...)`` are adapted element by element in Python, which was most of the client time of
a reactor batch. COPY cannot skip conflicting rows, so it suits tables written only by the
writer that owns them (``trigger_decisions``, ``executions``); rows get their defaults (a
serial ``id``) in the order given.

A COPY costs two round trips (``COPY ... FROM STDIN``, then the data) and cannot run in
pipeline mode: a few rows (the reactor deciding one event at a time) go as one prepared
``INSERT ... VALUES`` per row instead, sent together (``executemany``), the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from headwater.storage.db import Tx

COPY_MIN_ROWS = 50  # fewer rows than this: INSERT (one round trip, or none when pipelined)


def copy_rows(
    tx: Tx, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Add ``rows`` (one value per column of ``columns``, whose PostgreSQL types are
    ``types``) to ``table`` in order, inside the transaction ``tx``: one binary COPY, or
    for fewer than ``COPY_MIN_ROWS`` rows an ``INSERT`` per row sent together."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    if len(rows) < COPY_MIN_ROWS:
        marks = ", ".join(f"%s::{t}" for t in types)
        with tx.conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    tx.end_pipeline()
    with (
        tx.conn.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)
