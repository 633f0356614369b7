"""The child side of ``engine/execution_process.py``: what a forked execution process does.

It waits for its turn (the previous child's pipe closing), claims executions in the worker's
name and runs them, reporting on a pipe (``engine/execution_watch.Reports``), until it has
run its share, grown too big, or the worker closes its command pipe.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import select
import signal
import sys
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from headwater.engine.execute import queue, timeouts
from headwater.storage import executions as rows
from headwater.storage import worker_slots
from headwater.storage.db import Tx
from headwater.storage.executions import ExecutionRow
from headwater.storage.faults import PASSING
from headwater.storage.notify import FALLBACK_POLL, QUEUE, Listener

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.settings import Settings

log = logging.getLogger("headwater.worker")

BUSY_POLL = 0.002  # a child polls the queue this often right after work...
IDLE_POLL = 0.01  # ...backing off to this (an idle poll is one cheap SELECT)
BUSY_WINDOW = 2.0  # seconds after the last execution that count as "right after"
CRASH = 70  # EX_SOFTWARE: the child failed outside user code


_LIBC: Any = None


def load_libc() -> Any:
    """The C library, loaded once in the worker (children inherit it), or None."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _LIBC = ctypes.CDLL(None, use_errno=True)
            except OSError:
                pass
    return _LIBC or None


def _die_with_parent(parent: int) -> bool:
    """Linux: have the kernel SIGKILL this process when the worker dies."""
    libc = load_libc()
    try:
        if libc is None or libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            return False
    except AttributeError:
        return False
    if os.getppid() != parent:  # the worker died before the call
        os._exit(CRASH)
    return True


def _exit_with_parent(commands: int) -> None:
    """Block until the worker's end of the pipe closes, then exit (no PR_SET_PDEATHSIG)."""
    try:
        while os.read(commands, 1):
            pass
    except OSError:
        pass
    os._exit(CRASH)


class Job:
    """What a child does: claim (unless given a row), run, report, return its exit code."""

    def __init__(
        self,
        settings: Settings,
        worker: str,
        lease: float,
        commands: int,
        reports: int,
        parent: int,
        queues: list[str] | None = None,
    ) -> None:
        self.settings, self.worker, self.lease = settings, worker, lease
        self.queues = queues  # None: every queue
        self.commands = commands
        self.reports = os.fdopen(reports, "w", buffering=1)
        self.parent = parent
        self._listener: Listener | None = None  # PostgreSQL push, opened when first idle
        self._slot = _new_slot()  # offered to the reactor while idle (storage/worker_slots.py)
        self._offered = False

    def report(self, message: Any) -> None:
        try:
            self.reports.write(json.dumps(message) + "\n")
        except OSError:  # the worker is gone; this process follows it
            pass

    def main(
        self,
        row: ExecutionRow | None,
        start: int | None,
        done: int,
        per_child: int,
        max_memory_mb: int,
    ) -> int:
        """Wait for ``start`` to end; run ``row``, or claim and run executions until
        ``per_child`` of them (0: no limit), memory above ``max_memory_mb`` (0: no limit)
        or the worker closes the command pipe; then close ``done``."""
        from headwater.instance import Instance

        with_parent = _die_with_parent(self.parent)
        os.setpgid(0, 0)  # a group of its own: a kill reaches what the task started
        # The worker decides when to stop; a Ctrl-C in the terminal reaches it, not the task.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        timeouts.watch(lambda seconds, task: self.report([seconds, task, time.monotonic()]))
        inst = Instance(self.settings)  # its own connection; the worker's stay the worker's
        if start is not None:
            ready, _, _ = select.select([start, self.commands], [], [])
            if self.commands in ready:
                return 0  # the worker stops (or went) before this process had a turn
            os.close(start)
        if not with_parent:
            threading.Thread(target=_exit_with_parent, args=(self.commands,), daemon=True).start()
        before = set(sys.modules)
        runs = 0
        given = row
        while True:
            if given is None:
                row = self.claim(inst, time.monotonic() + BUSY_WINDOW)
                if row is None:
                    break  # the worker stopped polling through this process
            assert row is not None
            with inst.use():
                conflict = self.execute(inst, row)
            if conflict:
                break
            runs += 1
            self.report({"finished": row.id})
            if given is not None:
                break
            if per_child and runs >= per_child:
                self.report({"recycled": f"ran {runs} executions, the most per process"})
                break
            if max_memory_mb and (rss := rss_mb()) > max_memory_mb:
                self.report({"recycled": f"{rss:.0f} MB resident, above {max_memory_mb} MB"})
                break
        os.close(done)  # the next process starts polling now
        # What this process imported, the worker imports too, so that the next one starts
        # warm; not the snapshot's own modules (the worker imports those through
        # load_entity).
        code_dir = str(self.settings.home / "code")
        learned = [
            name
            for name in set(sys.modules) - before
            if name != "__main__"
            and not str(getattr(sys.modules.get(name), "__file__", None) or "").startswith(code_dir)
        ]
        self.report({"imported": sorted(learned)})
        return 0

    def claim(self, inst: Instance, busy_until: float) -> ExecutionRow | None:
        """Poll the queue until a claim succeeds (the row) or the worker closes the pipe."""
        poll = BUSY_POLL
        look = True  # False right after a NOTIFY: something was queued, claim without looking
        while True:
            try:
                found = queue.claim(inst, self.worker, self.lease, self.queues, look=look)
            except Exception as exc:  # e.g. the database is unreachable: keep trying
                log.warning("worker %s: cannot claim work: %s", self.worker, exc)
                inst.db.close()  # reconnect on the next try
                found, poll = None, 1.0
            if found is not None:
                self.report({"claimed": found.as_dict()})
                return found
            listener = self._listening(inst)
            if listener is not None and listener.connect():
                continue  # (re)connected: look once for what was queued meanwhile
            if time.monotonic() > busy_until:
                poll = min(IDLE_POLL, poll * 1.5) if poll < 1.0 else IDLE_POLL
                if listener is not None:  # idle on PostgreSQL: woken by a NOTIFY
                    poll = FALLBACK_POLL
                    handed = self._offer(listener)
                    if handed is not None:
                        return handed
            fd = None if listener is None else listener.fileno()
            fds = [self.commands] if fd is None else [self.commands, fd]
            ready = select.select(fds, [], [], poll)[0]
            if self.commands in ready:
                self._stop_offering(inst)
                return None  # end of file: the worker is stopping (or gone)
            look = not (listener is not None and fd in ready and listener.drain())
            if listener is not None and (handed := self._handed(listener)) is not None:
                return handed
            # Anything else (a NOTIFY to claim, the fallback poll): take the offer back before
            # claiming, so that no execution is handed to this process while it runs another.
            if self._offered and (handed := self._withdraw(inst)) is not None:
                return handed

    # -- PostgreSQL: the reactor hands a new execution to an idle process (storage/worker_slots)
    def _hold_slot(self, conn: Any) -> None:
        """``Listener.on_connect``: hold this process's slot lock on the new connection and
        LISTEN on its channel (another number if a process holds this one)."""
        tx = Tx(conn, "postgresql")
        for _ in range(8):
            if worker_slots.hold(tx, self._slot):
                return
            self._slot = _new_slot()
        raise RuntimeError("no free worker slot number")

    def _offer(self, listener: Listener) -> ExecutionRow | None:
        """Offer this idle process to the reactor once; a row handed over meanwhile, if any."""
        if not self._offered and (tx := listener.session()) is not None:
            try:
                worker_slots.offer(
                    tx,
                    self._slot,
                    worker=self.worker,
                    queues=self.queues,
                    lease=self.lease,
                    now=time.time(),
                )
                self._offered = True
            except Exception as exc:  # not offered: workers still claim what is queued
                log.debug("worker %s: cannot offer itself: %s", self.worker, exc)
            listener.drain()  # a statement's own notifications do not wake select()
        return self._handed(listener)

    def _handed(self, listener: Listener) -> ExecutionRow | None:
        """The row a hand-over's NOTIFY brought (claimed for this worker), reported."""
        mine = worker_slots.channel(self._slot)
        while listener.payloads:
            channel, payload = listener.payloads.pop(0)
            if channel == mine:
                self._offered = False  # the offer is used up; the next one renews it
                row = worker_slots.handed_row(payload)
                self.report({"claimed": row.as_dict()})
                return row
        return None

    def _withdraw(self, inst: Instance) -> ExecutionRow | None:
        """Take the offer back: the row of an execution handed over before that, reported."""
        listener = self._listener
        tx = None if listener is None else listener.session()
        try:
            if tx is None:  # the connection (and its lock) is gone: the offer is dead
                handed = None
                with inst.db.statements() as own:
                    handed = worker_slots.withdraw(own, self._slot)
            else:
                handed = worker_slots.withdraw(tx, self._slot)
        except Exception as exc:  # e.g. the database restarted: the offer died with it
            log.debug("worker %s: cannot withdraw its offer: %s", self.worker, exc)
            return None
        self._offered = False
        if listener is not None:
            listener.drain()
            listener.payloads.clear()  # its NOTIFY, if any, tells what the row says
        if handed is None:
            return None
        with inst.db.read() as rtx:
            row = rows.get_execution(rtx, handed)
        if row is None or row.status != "running" or row.worker != self.worker:
            return None  # cancelled meanwhile (or reaped): nothing to run
        row = replace(row, nodes_before=0)
        self.report({"claimed": row.as_dict()})
        return row

    def _stop_offering(self, inst: Instance) -> None:
        """Stopping: take the offer back, and give back what was handed over meanwhile."""
        if self._offered and (row := self._withdraw(inst)) is not None:
            queue.hand_back(inst, row.id, self.worker, "the worker is stopping")

    def _listening(self, inst: Instance) -> Listener | None:
        """PostgreSQL push: this process's listener for queued executions (None: polling)."""
        if self._listener is None and Listener.wanted(inst.db):
            self._listener = Listener(
                inst.db, QUEUE, name=f"worker {self.worker}", on_connect=self._hold_slot
            )
        return self._listener

    def execute(self, inst: Instance, row: ExecutionRow) -> bool:
        """Run ``row``; True when its code conflicts with what this process imported."""
        from headwater.engine.execute.runner import ExecutionLost, run_claimed
        from headwater.engine.register.snapshots import SnapshotConflict, load_entity

        eid = row.id
        try:
            entity = load_entity(inst, row.project, row.domain, row.workflow, row.workflow_version)
        except SnapshotConflict as exc:
            queue.requeue(inst, eid, self.worker, f"snapshot conflict: {exc}")
            self.report({"conflict": str(exc), "id": eid})
            return True
        except PASSING as exc:
            queue.give_back(inst, eid, self.worker, exc)
            return False
        except (Exception, SystemExit) as exc:  # user code may exit while imported
            queue.fail(
                inst, eid, self.worker, queue.error_record(f"could not load {_what(row)}", exc)
            )
            log.warning("worker %s: execution %s failed to load: %s", self.worker, eid, exc)
            return False
        try:
            run_claimed(inst, entity, row)
        except ExecutionLost:
            log.info("worker %s: execution %s was cancelled or taken over", self.worker, eid)
        except PASSING as exc:  # the storage failed, not the workflow
            queue.give_back(inst, eid, self.worker, exc)
        except KeyboardInterrupt:
            # User code raised SystemExit/KeyboardInterrupt: recorded as cancelled.
            log.warning("worker %s: execution %s was interrupted by its own code", self.worker, eid)
        except Exception as exc:  # an engine failure, not the user's code
            log.exception("worker %s: execution %s crashed the runner", self.worker, eid)
            queue.fail(
                inst,
                eid,
                self.worker,
                queue.error_record("the worker could not record the execution", exc),
            )
        return False


def _new_slot() -> int:
    return secrets.randbelow(2**31 - 2) + 1


def rss_mb() -> float:
    """This process's resident memory in MB (the peak where /proc is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def _what(row: ExecutionRow) -> str:
    return f"{row.workflow} version {row.workflow_version} on worker"
