"""PostgreSQL bulk inserts with ``COPY ... FROM STDIN (FORMAT BINARY)``.

psycopg formats each row of a binary COPY in C; the arrays of an ``INSERT ... SELECT FROM
unnest(...)`` are adapted element by element in Python, which was most of the client time of
a reactor batch. COPY cannot skip conflicting rows, so it suits tables written only by the
writer that owns them (``trigger_decisions``, ``executions``); rows get their defaults (a
serial ``id``) in the order given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from headwater.storage.db import Tx


def copy_rows(
    tx: Tx, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Add ``rows`` (one value per column of ``columns``, whose PostgreSQL types are
    ``types``) to ``table`` with one binary COPY, inside the transaction ``tx``."""
    with (
        tx.conn.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)
