"""What a storage failure means for the caller: try again later, free disk space, or a bug.

The metadata database and the blob store raise their drivers' own exceptions
(``sqlite3.OperationalError``, ``psycopg.OperationalError``, ``OSError``). ``classify``
turns the ones that are about the storage rather than the code into ``StorageError``
subclasses, which the HTTP API answers with 503 and a hint; anything else (a syntax error,
a constraint) is left alone, since it is a bug to see in full.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from pathlib import Path

# Defined in headwater.errors (so users can catch them there); imported here, where they are raised.
from headwater.errors import DatabaseUnavailable, StorageError, StorageFull

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_FULL = 13
_SQLITE_UNAVAILABLE = frozenset(
    {
        5,  # BUSY: still locked after the busy timeout
        6,  # LOCKED
        8,  # READONLY: e.g. the file or its folder became read-only
        10,  # IOERR
        14,  # CANTOPEN
        15,  # PROTOCOL
    }
)
# PostgreSQL SQLSTATEs (psycopg sets ``.sqlstate``): disk full, and the ones after which the
# same work can succeed on another connection or a little later.
_PG_DISK_FULL = "53100"
_PG_UNAVAILABLE_CLASSES = ("08",)  # connection exceptions
_PG_UNAVAILABLE = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping, or pg_terminate_backend
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the server is starting
        "57P05",  # idle_session_timeout
        "53300",  # too_many_connections
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
    }
)


# What a loop that must keep going (reactor, scheduler, reaper) waits out and tries again.
PASSING = (DatabaseUnavailable, StorageFull)


def sqlite_fault(exc: BaseException, path: Path) -> StorageError | None:
    """The ``StorageError`` that a ``sqlite3`` error on the database at ``path`` stands for,
    or None when it is not about the storage (a bug in a statement, a constraint)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if primary == _SQLITE_FULL or "database or disk is full" in str(exc):
        return StorageFull(
            f"the metadata database {path} is full ({exc}): free disk space on "
            f"{_mount_point(path.parent)}"
        )
    if primary in _SQLITE_UNAVAILABLE:
        return DatabaseUnavailable(f"the metadata database {path} cannot be used now: {exc}")
    return None


def postgres_fault(exc: BaseException, where: str) -> StorageError | None:
    """The ``StorageError`` that a psycopg error from the server at ``where`` stands for, or
    None when it is not about the storage."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    state = getattr(exc, "sqlstate", None) or ""
    if state == _PG_DISK_FULL:
        return StorageFull(
            f"the PostgreSQL server at {where} is out of disk space ({_first_line(exc)}): "
            "free disk space on the database server (its data directory or tablespace)"
        )
    if state in _PG_UNAVAILABLE or state.startswith(_PG_UNAVAILABLE_CLASSES):
        return DatabaseUnavailable(f"the PostgreSQL server at {where}: {_first_line(exc)}")
    if isinstance(exc, psycopg.OperationalError) and not state:
        # No SQLSTATE: the client side lost or could not make the connection.
        return DatabaseUnavailable(
            f"the PostgreSQL server at {where} is unreachable: {_first_line(exc)}"
        )
    return None


def blob_fault(exc: OSError, where: str) -> StorageError:
    """The ``StorageError`` for a failed write into the blob store at ``where``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(
            f"the blob store {where} is full ({exc.strerror}): free disk space on "
            f"{_mount_point(Path(where))}"
        )
    return StorageError(f"cannot write to the blob store {where}: {exc}")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().split("\n", 1)[0] or type(exc).__name__


def _mount_point(path: Path) -> str:
    """The file system ``path`` is on (its mount point), for "free disk space on ..."."""
    try:
        p = path.resolve()
        while not os.path.ismount(p) and p != p.parent:
            p = p.parent
        return str(p)
    except OSError:
        return str(path)


class FailureMemory:
    """The last failed write (out of space, a read-only or broken disk), for ``/healthz``: a
    full disk shows only when a write needs a new page or block, so a health check that reads
    (or rewrites a row in place) keeps answering while real writes fail. A failure is
    remembered for ``keep`` seconds."""

    def __init__(self, keep: float = 15.0) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._last: tuple[float, str] | None = None

    def note(self, exc: StorageError) -> None:
        with self._lock:
            self._last = (time.monotonic(), str(exc))

    def recent(self) -> str | None:
        """The message of a failure noted in the last ``keep`` seconds, else None."""
        last = self._last
        if last is None or time.monotonic() - last[0] > self.keep:
            return None
        return last[1]
