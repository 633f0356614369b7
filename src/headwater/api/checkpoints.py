"""SQLite WAL checkpoints kept off the server's event loop.

SQLite checkpoints the write-ahead log in the connection whose commit takes it past 1,000
pages: that commit copies the pages (up to ~4 MB) into the database file and syncs it, which
takes milliseconds on a busy disk. When the connection is the event loop's (single-event POSTs
commit on the loop, ``ingest.store_now``) every request waits for it. So the loop's connection
does not checkpoint by itself; after every ``EVERY`` commits on the loop a passive checkpoint
(it never blocks a writer) runs in a thread instead. Other connections (the reactor's, the
thread pool's) checkpoint as usual. Nothing to do on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from headwater.storage import wal

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.api")

EVERY = 200  # commits on the loop (an event writes ~5 WAL pages: about SQLite's 1,000 pages)


class LoopCheckpoints:
    """Checkpoints of the loop's SQLite connection, run in a thread (module docstring)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.sqlite = inst.db.dialect == "sqlite"
        self._conn: Any = None
        self._commits = 0
        self._running = False

    def before_commit(self) -> None:
        """Call on the loop before writing there: its connection stops checkpointing."""
        if not self.sqlite:
            return
        conn = self.inst.db.now_connection()  # the one ``ingest.store_now`` commits on
        if conn is not self._conn:
            wal.no_autocheckpoint(conn)
            self._conn = conn

    def committed(self) -> None:
        """Call on the loop after a commit there: every ``EVERY`` commits, a checkpoint in a
        thread (one at a time; the loop does not wait for it)."""
        if not self.sqlite:
            return
        self._commits += 1
        if self._commits < EVERY or self._running:
            return
        self._commits = 0
        self._running = True
        done = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)
        done.add_done_callback(self._finished)

    def _checkpoint(self) -> None:
        with self.inst.db.read() as tx:
            wal.checkpoint(tx)

    def _finished(self, done: asyncio.Future[None]) -> None:
        self._running = False
        failure = None if done.cancelled() else done.exception()
        if failure is not None:  # e.g. the disk is full: the next commit's checkpoint retries
            log.warning("WAL checkpoint failed: %s", failure)
