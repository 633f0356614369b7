"""PostgreSQL: a statement sent now whose result is read later (``Database.send``).

The caller goes on while the server runs the statement: a worker starts a task's code while
the task's node row is written, instead of waiting a round trip for it first. The statement
commits on its own (autocommit) on a connection borrowed from the pool for as long as its
result is unread; :meth:`Sent.one` reads it (waiting if need be), hands the connection back
and raises what the statement raised, as the same ``StorageError`` a blocking call would.

Parameters are bound on the client (psycopg's ``ClientCursor``, quoted by libpq) and the
text goes as one simple-protocol query: what a statement sent this way costs the server does
not delay the caller.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING, Any

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


def send(db: Database, sql: str, params: dict[str, Any]) -> Sent:
    """Send ``sql`` (``:name`` parameters) to run by itself on a pooled connection."""
    from psycopg import ClientCursor

    from headwater.storage.db import _to_pyformat

    pool, conn = db._borrow()
    try:
        text = ClientCursor(conn).mogrify(_to_pyformat(sql), params)
        pgconn = conn.pgconn
        pgconn.send_query(text.encode(conn.info.encoding))
        while pgconn.flush():  # rarely more than one go: the kernel takes the whole query
            select.select([], [pgconn.socket], [])
    except BaseException as exc:
        pool.putconn(conn)
        db._raise(exc)
        raise
    return Sent(db, pool, conn)
