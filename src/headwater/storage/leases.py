"""Leader locks: which of several processes sharing one database acts for a role.

PostgreSQL: a session advisory lock held on a connection of its own (not one of the pool's).
The server releases it the moment that connection ends, so a holder that dies (SIGKILL, a
crashed machine whose socket the kernel closes) frees it at once and a standby takes it on its
next try. SQLite (one machine): an exclusive ``flock`` on a file beside the database, which
the kernel releases when the holder's process dies.

The lock only decides who does the work; it is not what keeps work exactly-once. A holder cut
off from the server may still believe it leads for a moment while another takes over, so the
work itself stays safe to run twice (the reactor's per-batch transaction lock and inbox, the
scheduler's compare-and-set).

The current holder is also recorded in ``server_state`` under ``leader:<role>`` (JSON with
``holder``, ``pid``, ``ppid``, ``since``), for operators and ``/healthz``.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.storage import server_state
from headwater.storage.db import Database, Tx

KEY_PREFIX = "leader:"
_PG_LOCK_BASE = 0x68770100  # + crc of the role: one advisory lock number per role


def _lock_number(role: str) -> int:
    return _PG_LOCK_BASE + (zlib.crc32(role.encode()) & 0xFF)


class LeaderLock:
    """The lock of one role; ``try_acquire`` never waits."""

    def __init__(self, db: Database, role: str) -> None:
        self.db, self.role = db, role
        self._conn: Any = None
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it now."""
        if self.db.dialect == "sqlite":
            return self._flock()
        conn = self._connection()
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_lock_number(self.role),))
            return bool(got.fetchone()[0])
        except Exception:
            self._drop()
            raise

    def still_held(self) -> bool:
        """Whether the lock is still ours: on PostgreSQL, whether its connection answers."""
        if self.db.dialect == "sqlite":
            return self._fd is not None
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1").fetchone()
        except Exception:
            self._drop()
            return False
        return True

    def release(self) -> None:
        """Give the lock up. On PostgreSQL it is unlocked first: closing the connection alone
        frees it only once the server's backend has exited, a moment later."""
        if self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock_all()")
            except Exception:
                pass  # the connection is gone: so is the lock
        self._drop()

    # -- PostgreSQL --------------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            dsn = "postgresql://" + self.db.url.split("://", 1)[1]
            # Keepalives: a holder cut off by the network (not just dead) is noticed by the
            # server, and by ourselves, within seconds, not after the kernel's two hours.
            self._conn = psycopg.connect(
                dsn,
                autocommit=True,
                connect_timeout=5,
                keepalives=1,
                keepalives_idle=2,
                keepalives_interval=1,
                keepalives_count=3,
                application_name=f"headwater leader lock ({self.role})",
                options="-c statement_timeout=5000",
            )
        return self._conn

    # -- SQLite ------------------------------------------------------------------------------
    def _flock(self) -> bool:
        if self._fd is not None:
            return True
        import fcntl

        path = Path(f"{self.db.path}.{self.role}.leader")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds (or last held) a role's lock."""

    role: str
    holder: str
    pid: int
    ppid: int
    since: float


def record_holder(tx: Tx, *, role: str, holder: str, now: float) -> Holder | None:
    """Record this process as the holder of ``role``; returns the previous holder (or None)."""
    previous = current_holder(tx, role=role)
    value = {"holder": holder, "pid": os.getpid(), "ppid": os.getppid(), "since": now}
    server_state.put(tx, key=KEY_PREFIX + role, value=json.dumps(value), now=now)
    return previous


def current_holder(tx: Tx, *, role: str) -> Holder | None:
    """The recorded holder of ``role`` (it may have died since; the lock is the truth)."""
    row = server_state.get(tx, key=KEY_PREFIX + role)
    if row is None:
        return None
    v = json.loads(row.value)
    return Holder(role, str(v["holder"]), int(v["pid"]), int(v["ppid"]), float(v["since"]))
