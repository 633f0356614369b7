"""PostgreSQL: a statement sent now whose result is read later (``Database.send``).

The caller goes on while the server runs the statement: a worker starts a task's code while
the task's node row is written, instead of waiting a round trip for it first. The statement
commits on its own (autocommit) on a connection borrowed from the pool for as long as its
result is unread; :meth:`Sent.one` reads it (waiting if need be), hands the connection back
and raises what the statement raised, as the same ``StorageError`` a blocking call would.

Parameters are bound on the client (quoted by libpq) and the text goes as one
simple-protocol query: what a statement sent this way costs the server does
not delay the caller.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING, Any

from headwater.storage.db import _PARAM
from headwater.storage.faults import DatabaseUnavailable

if TYPE_CHECKING:
    from headwater.storage.db import Database

__all__ = ["Sent", "send"]


class Sent:
    """A statement in flight on ``conn``, until :meth:`one` reads its result."""

    def __init__(self, db: Database, pool: Any, conn: Any) -> None:
        self._db, self._pool, self._conn = db, pool, conn
        self._outcome: tuple[dict[str, str | None] | None, BaseException | None] | None = None

    def one(self) -> dict[str, str | None] | None:
        """The statement's first row as column -> text (None: no row). Waits for the
        result, gives the connection back, and raises the statement's error; later calls
        return (or raise) the same."""
        if self._outcome is None:
            try:
                self._outcome = (self._read(), None)
            except BaseException as exc:
                self._outcome = (None, exc)
        row, error = self._outcome
        if error is not None:
            raise error
        return row

    def _read(self) -> dict[str, str | None] | None:
        from psycopg import errors
        from psycopg.pq import ExecStatus

        conn = self._conn
        pgconn = conn.pgconn
        results = []
        try:
            try:
                while True:
                    pgconn.consume_input()
                    if not pgconn.is_busy():
                        break
                    select.select([pgconn.socket], [], [])
                while (res := pgconn.get_result()) is not None:
                    results.append(res)
            except Exception as exc:  # the connection broke: the pool replaces it
                self._db._raise(exc)
                raise DatabaseUnavailable(f"lost the connection to {self._db.where}") from exc
        finally:
            self._pool.putconn(conn)
        failed = [r for r in results if r.status == ExecStatus.FATAL_ERROR]
        if failed or not results:
            error = (
                errors.error_from_result(failed[0], encoding=conn.info.encoding)
                if failed
                else errors.OperationalError("no result for a sent statement")
            )
            self._db._raise(error)
            raise error
        res = results[0]
        if res.ntuples == 0:
            return None
        return {
            (res.fname(i) or b"").decode(): (
                None if (v := res.get_value(0, i)) is None else bytes(v).decode()
            )
            for i in range(res.nfields)
        }


def _literal(escaping: Any, value: Any, encoding: str) -> bytes | None:
    """``value`` as an SQL literal quoted by libpq; None for a type this does not know."""
    if value is None:
        return b"NULL"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        text = repr(value)  # a float's shortest exact form
        if text in ("nan", "inf", "-inf"):
            return f"'{text}'::float8".encode()
        # In parentheses, so that what follows (a cast) applies to the number, sign included.
        return f"({text})".encode()
    if isinstance(value, str):
        return bytes(escaping.escape_literal(value.encode(encoding)))
    return None


def _bind(conn: Any, sql: str, params: dict[str, Any]) -> bytes:
    """``sql`` with its ``:name`` parameters replaced by quoted literals. Values of common
    types are quoted here (a cold psycopg ``ClientCursor`` costs ~0.2 ms on the path to a
    task's first line); anything else goes through ``ClientCursor.mogrify``."""
    from psycopg.pq import Escaping

    escaping, encoding = Escaping(conn.pgconn), conn.info.encoding
    parts: list[bytes] = []
    at = 0
    for m in _PARAM.finditer(sql):
        literal = _literal(escaping, params[m.group(1)], encoding)
        if literal is None:
            from psycopg import ClientCursor

            from headwater.storage.db import _to_pyformat

            return ClientCursor(conn).mogrify(_to_pyformat(sql), params).encode(encoding)
        parts += [sql[at : m.start()].encode(), literal]
        at = m.end()
    parts.append(sql[at:].encode())
    return b"".join(parts)


def send(db: Database, sql: str, params: dict[str, Any]) -> Sent:
    """Send ``sql`` (``:name`` parameters) to run by itself on a pooled connection."""
    pool, conn = db._borrow()
    try:
        pgconn = conn.pgconn
        pgconn.send_query(_bind(conn, sql, params))
        while pgconn.flush():  # rarely more than one go: the kernel takes the whole query
            select.select([], [pgconn.socket], [])
    except BaseException as exc:
        pool.putconn(conn)
        db._raise(exc)
        raise
    return Sent(db, pool, conn)
