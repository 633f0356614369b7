"""PostgreSQL push: a NOTIFY committed with the change, a LISTEN in the loops that wait for it.

A transaction that stores an event or queues an execution calls ``Tx.notify(channel)``; the
``NOTIFY`` is sent with its ``COMMIT`` (same round trip), so a listener hears of it only once
the change is visible. The reactor listens on ``EVENTS``, workers on ``QUEUE``: each keeps
one dedicated connection (not from the pool: a listening session must stay the same) and
waits on it instead of polling every few milliseconds. Polling stays, every
``FALLBACK_POLL`` seconds, for what no notification announces (e.g. a launch plan whose
concurrency limit frees a slot) and while the listening connection is down.

A lost listening connection (server restart, ``pg_terminate_backend``) is replaced: the next
wait connects again, LISTENs again and reports a wake-up, so that the caller polls once and
catches up on what was committed while nobody listened. ``HEADWATER_PG_NOTIFY=0`` turns push
off (the loops poll as before); SQLite has no push and always polls.
"""

from __future__ import annotations

import logging
import os
import select
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from headwater.storage.db import Database, Tx

__all__ = ["ENV", "EVENTS", "FALLBACK_POLL", "QUEUE", "Listener", "push_enabled"]

EVENTS = "headwater_events"  # an event waits in the reactor inbox
QUEUE = "headwater_queue"  # an execution is queued for a worker
ENV = "HEADWATER_PG_NOTIFY"
FALLBACK_POLL = 1.0  # seconds between polls while listening
STOP_CHECK = 0.25  # longest uninterrupted wait, so that a stop is noticed
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 5.0  # backoff between attempts to listen again

log = logging.getLogger("headwater.storage")


def push_enabled() -> bool:
    """False when ``HEADWATER_PG_NOTIFY`` says off (0, false, no, off)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class Listener:
    """One LISTENing PostgreSQL connection of a loop that waits for ``channels``.

    ``wait(timeout)`` returns True when the caller should look for work now (a notification,
    or the connection was just replaced and something may have been missed), False after
    ``timeout`` seconds of quiet. ``fileno()`` and ``drain()`` let a caller that already
    ``select``s on other files wait on this one too."""

    def __init__(
        self,
        db: Database,
        *channels: str,
        name: str = "listener",
        on_connect: Callable[[Any], None] | None = None,
    ) -> None:
        self.db = db
        self.channels = channels
        self.name = name
        # Run on each new connection after its LISTENs (e.g. more of them, a session lock);
        # an error there fails the connection like any other.
        self.on_connect = on_connect
        # (channel, payload) of the notifications that carried a payload, oldest first.
        self.payloads: list[tuple[str, str]] = []
        self._conn: Any = None
        self._retry_at = 0.0
        self._delay = RECONNECT_FIRST
        self._lost = False  # a connection broke: say so when it is replaced

    @staticmethod
    def wanted(db: Database) -> bool:
        """Push applies: a PostgreSQL database and push not turned off."""
        return db.dialect == "postgresql" and push_enabled()

    def fileno(self) -> int | None:
        """The socket to ``select`` on (None: not connected; call ``connect()``)."""
        conn = self._conn
        return None if conn is None or conn.closed else int(conn.fileno())

    def connect(self) -> bool:
        """Connect and LISTEN unless connected; True when a connection was (re)made now,
        which means notifications may have been missed: look for work once."""
        if self._conn is not None and not self._conn.closed:
            return False
        now = time.monotonic()
        if now < self._retry_at:
            return False
        import psycopg

        try:
            conn = psycopg.connect(self.db.dsn, autocommit=True, connect_timeout=5)
            for channel in self.channels:
                conn.execute(f"LISTEN {channel}")
            if self.on_connect is not None:
                self.on_connect(conn)
        except Exception as exc:
            self._retry_at = now + self._delay
            self._delay = min(self._delay * 2, RECONNECT_MAX)
            if not self._lost:
                why = (str(exc).splitlines() or [type(exc).__name__])[0]
                log.warning("%s: cannot LISTEN (%s); polling until it can", self.name, why)
                self._lost = True
            return False
        self._conn, self._delay = conn, RECONNECT_FIRST
        if self._lost:
            log.info("%s: listening connection replaced; catching up on what was missed", self.name)
            self._lost = False
        return True

    def drain(self) -> bool:
        """Read what arrived without waiting; True if a notification was among it or the
        connection broke (it is replaced at the next ``connect()``/``wait()``)."""
        conn = self._conn
        if conn is None:
            return False
        try:
            got = list(conn.notifies(timeout=0))  # with those a statement here received
        except Exception as exc:
            self._drop(exc)
            return True
        self.payloads.extend((n.channel, n.payload) for n in got if n.payload)
        return bool(got)

    def session(self) -> Tx | None:
        """The listening connection as a ``Tx`` (autocommit statements), for what belongs to
        its session; None while it is down. Call ``drain()`` after using it: what arrives
        during a statement is kept for it, not signalled on the socket."""
        from headwater.storage.db import Tx

        conn = self._conn
        return None if conn is None or conn.closed else Tx(conn, "postgresql")

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a notification (True), or until ``stop`` is set
        (checked every ``STOP_CHECK`` seconds, then False)."""
        if self.connect():
            return True
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                return False
            fd = self.fileno()
            if fd is None:  # down: wait a slice, try again
                if stop is not None:
                    stop.wait(min(left, STOP_CHECK))
                else:
                    time.sleep(min(left, STOP_CHECK))
                if self.connect():
                    return True
                continue
            try:
                readable = select.select([fd], [], [], min(left, STOP_CHECK))[0]
            except (OSError, ValueError) as exc:
                self._drop(exc)
                return True
            if readable and self.drain():
                return True

    def _drop(self, exc: BaseException) -> None:
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        log.warning("%s: listening connection lost (%s); replacing it", self.name, why)
        self._lost = True
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                pass
