"""Each execution runs in a child process that the worker forks, watches and can kill.

The worker forks a child, which opens its own database connection (it never touches the
worker's) and polls the queue itself: it claims the next execution in the worker's name,
tells the worker which one (``{"claimed": row}`` on its report pipe) and runs it at once, so
the path from a claim to the user's code is the same as in a single process. The worker
follows the child from that message on (``engine/execution_watch.py``: heartbeat, cancel,
timeouts); when the child exits, the worker forks the next one. At most one child per worker
claims or runs at a time, so ``--workers N`` still means N executions at once.

A child starts from the worker's memory: code the worker imported — the snapshots it ran
before, and the libraries earlier children imported, which the worker imports after each run
— is there already, in the state importing left it. Whatever the run changes (module globals,
memory) ends with the child. A child puts itself in a process group of its own (a kill reaches
subprocesses its task started) and dies with the worker (Linux: ``PR_SET_PDEATHSIG``;
elsewhere a thread notices the worker's end of a pipe closing).
"""

from __future__ import annotations

import gc
import logging
import os
import select
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from headwater.engine.execute.execution_child import (
    BUSY_POLL,
    BUSY_WINDOW,
    CRASH,
    IDLE_POLL,
    Job,
    load_libc,
    rss_mb,
)
from headwater.engine.execute.execution_watch import Outcome, Reports, Watch, exit_code, kill
from headwater.storage.executions import ExecutionRow

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.settings import Settings

log = logging.getLogger("headwater.worker")

RETRY_FORK = 1.0  # seconds before forking again after a child died without work

__all__ = ["BUSY_POLL", "BUSY_WINDOW", "IDLE_POLL", "Executor", "Outcome", "rss_mb", "supported"]


def supported() -> bool:
    return hasattr(os, "fork")


@dataclass
class _Child:
    pid: int
    commands: int  # write end; closing it tells a child that waits or polls to exit
    reports: Reports
    pidfd: int | None


class Executor:
    """The worker's children, in a chain. One at a time claims and runs executions
    (:meth:`next_claim` waits for a claim, :meth:`supervise` follows that execution to its
    end), ``per_child`` of them at most (0: no limit), until its memory is above
    ``max_memory_mb`` after one (0: no limit), or until it is killed. The next child is forked
    and connected already and waits on a pipe whose only writer is the one before: it starts
    polling the moment that one is done (or dead), without waiting for the worker to notice."""

    def __init__(
        self,
        inst: Instance,
        worker: str,
        lease: float,
        per_child: int = 0,
        max_memory_mb: int = 0,
        queues: list[str] | None = None,
        hand_back_at: Callable[[], float | None] | None = None,
    ) -> None:
        self.inst, self.worker, self.lease = inst, worker, lease
        self.per_child, self.max_memory_mb = per_child, max_memory_mb
        self.queues = queues  # the queues children claim from (None: every queue)
        # When the worker is stopping: the monotonic time at which a running execution is
        # killed and handed back to the queue (None: it may finish).
        self.hand_back_at = hand_back_at
        self.child: _Child | None = None
        self.standby: _Child | None = None
        self.pending: int | None = None  # read end: the next child's start (None: at once)
        self.hold = False  # no standby until the running child is done (the chain broke)
        self.retry_at = 0.0
        self.stopping = False  # set by stop_claiming(): no child claims or starts any more

    def stop_claiming(self) -> None:
        """The worker is stopping: the waiting child exits without claiming, and no new one
        is forked (the running one finishes, or is handed back, as the watch decides)."""
        self.stopping = True
        self._close_pending()
        if self.standby is not None and self.standby.commands >= 0:
            os.close(self.standby.commands)
            self.standby.commands = -1

    def next_claim(self, timeout: float) -> ExecutionRow | None:
        """The next row the polling child has claimed, or None after ``timeout`` seconds
        without one (the child's report is read then, not as it comes: see ``Reports``)."""
        child = self._ensure()
        if child is None:
            time.sleep(timeout)
            return None
        if not child.reports.claimed:
            fds = [child.pidfd] if child.pidfd is not None else [child.reports.fd]
            select.select(fds, [], [], timeout)
            child.reports.drain()
        if child.reports.claimed:
            return child.reports.claimed.pop(0)
        if _exited(child.pid):  # still a zombie: whoever handles it reaps it
            child.reports.drain()
            if child.reports.claimed:
                return child.reports.claimed.pop(0)  # claimed, then died: supervise() sees
            _, status = os.waitpid(child.pid, 0)
            self._gone(child, status)
        return None

    def supervise(self, row: ExecutionRow) -> Outcome:
        """Follow the execution ``row`` that the current child claimed until it ends."""
        child = self.child
        assert child is not None
        watch = Watch(
            self.inst,
            self.worker,
            self.lease,
            row.id,
            child.pid,
            child.reports,
            child.pidfd,
            self.hand_back_at,
        )
        try:
            outcome = watch.run()
        except BaseException:
            kill(child.pid)
            self._gone(child, None)
            raise
        if child.reports.conflict and child.reports.conflict_id == row.id:
            if not watch.exited:
                kill(child.pid)
            self._gone(child, None)
            return Outcome("conflict", "queued", child.reports.conflict)
        self._load(row)
        if watch.exited:
            self._gone(child, None)
        return outcome

    def run(self, row: ExecutionRow) -> Outcome:
        """Run an execution claimed here already (``row``) in a child of its own."""
        if self.child is not None or self.standby is not None:
            raise RuntimeError("run() while children poll the queue")
        self.child = self._spawn(row=row)
        outcome = self.supervise(row)
        self.close()
        return outcome

    def close(self) -> Outcome | None:
        """Stop the children (they exit when their command pipes close, after the execution
        they run); what they claimed meanwhile is seen through. Returns the last outcome."""
        self._close_pending()
        last = None
        for child in (self.child, self.standby):
            if child is not None and child.commands >= 0:
                os.close(child.commands)
                child.commands = -1
        for child in (self.child, self.standby):
            if child is not None:
                last = self._finish(child) or last
        self.child = self.standby = None
        return last

    def _finish(self, child: _Child) -> Outcome | None:
        last = None
        while True:
            child.reports.drain()
            if child.reports.claimed:
                row = child.reports.claimed.pop(0)
                last = Watch(
                    self.inst,
                    self.worker,
                    self.lease,
                    row.id,
                    child.pid,
                    child.reports,
                    child.pidfd,
                    self.hand_back_at,
                ).run()
                continue
            if _exited(child.pid):
                child.reports.drain()
                if child.reports.claimed:
                    continue
                self._discard(child)
                return last
            fds = [child.pidfd] if child.pidfd is not None else [child.reports.fd]
            select.select(fds, [], [], 0.05)

    def _gone(self, child: _Child, status: int | None) -> None:
        """``child`` has exited (or was killed): reap it, learn from it, start the next."""
        if status is None:
            try:
                _, status = os.waitpid(child.pid, 0)
            except ChildProcessError:
                status = 0  # reaped already
        child.reports.drain()
        if child.reports.recycled:
            log.info(
                "worker %s: execution process %d recycled (%s); the next one takes over",
                self.worker,
                child.pid,
                child.reports.recycled,
            )
        elif not child.reports.finished and not child.reports.conflict:
            log.warning(
                "worker %s: execution process %d exited without work (%s)",
                self.worker,
                child.pid,
                _describe(exit_code(status)),
            )
            self.retry_at = time.monotonic() + RETRY_FORK  # e.g. no database: no fork storm
        self.child = self._discard(child)
        _warm(child.reports.imported)
        self._ensure()  # the standby (polling by now) becomes the child; fork the next

    def _ensure(self) -> _Child | None:
        """The polling (or running) child, and a standby behind it."""
        if self.stopping:
            return self.child
        if self.standby is not None and _exited(self.standby.pid) and not self._ran(self.standby):
            log.warning("worker %s: a waiting execution process exited", self.worker)
            self.standby = self._discard(self.standby)
            # Its successor pipe died with it: a new standby would start at once, next to
            # the running child; the chain starts again once that one is done.
            self._close_pending()
            self.hold = self.child is not None
        if self.child is None and self.standby is not None:
            self.child, self.standby = self.standby, None  # it starts by itself
        if self.child is None and time.monotonic() >= self.retry_at:
            self.hold = False
            self.child = self._spawn()
        if self.child is not None and self.standby is None and not self.hold:
            self.standby = self._spawn()
        return self.child

    @staticmethod
    def _ran(standby: _Child) -> bool:
        """Whether ``standby``, found exited, ran executions rather than dying while it
        waited: it starts the moment the child before it is done, and short executions can
        end before this process has seen that one off (and loaded its code). It stays the
        standby, to be followed as the child next (``next_claim`` hands out its claims, each
        seen through by a watch)."""
        standby.reports.drain()
        return bool(standby.reports.claimed or standby.reports.recycled)

    def _close_pending(self) -> None:
        if self.pending is not None:
            os.close(self.pending)
        self.pending = None

    def _spawn(self, row: ExecutionRow | None = None) -> _Child:
        """Fork a child that starts once the newest one before it is done."""
        start = self.pending
        others = tuple(
            fd
            for c in (self.child, self.standby)
            if c is not None
            for fd in (c.commands, c.reports.fd, c.pidfd)
            if fd is not None and fd >= 0
        )
        child, self.pending = _fork(
            self.inst.settings,
            self.worker,
            self.lease,
            start,
            row,
            self.per_child,
            self.max_memory_mb,
            others,
            self.queues,
        )
        if start is not None:
            os.close(start)
        if row is not None:
            self._close_pending()
        return child

    @staticmethod
    def _discard(child: _Child) -> None:
        """Close what the worker holds of ``child`` and reap it; returns None."""
        for fd in (child.commands, child.reports.fd, child.pidfd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass  # reaped already

    def _load(self, row: ExecutionRow) -> None:
        """Import the execution's code here too, so that the next child has it already."""
        from headwater.engine.register.snapshots import load_entity

        try:
            load_entity(self.inst, row.project, row.domain, row.workflow, row.workflow_version)
        except BaseException as exc:  # the child reported what matters; this is a cache
            log.debug("worker %s: not keeping %s imported: %s", self.worker, row.workflow, exc)


def _exited(pid: int) -> bool:
    """Has child ``pid`` exited? (It stays a zombie, to be reaped by whoever handles it.)"""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True  # reaped already


def _describe(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def _warm(modules: list[str]) -> None:
    """Import here what a child imported while it ran (libraries a task imports inside its
    body, or that the type engine loads on first use), so later children do not pay for it."""
    import importlib

    for name in modules:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException as exc:  # anything: code may even exit while imported
            log.debug("could not import %s ahead of the next execution: %s", name, exc)


def _fork(
    settings: Settings,
    worker: str,
    lease: float,
    start: int | None,
    row: ExecutionRow | None = None,
    per_child: int = 0,
    max_memory_mb: int = 0,
    others: tuple[int, ...] = (),
    queues: list[str] | None = None,
) -> tuple[_Child, int]:
    """A child that runs ``row``, or claims executions itself once ``start`` (a pipe's read
    end) reaches its end (at once when None). Returns it and the read end its successor starts
    on: the child closes the write end when it will claim no more (or when it exits)."""
    import headwater.engine.execute.runner  # noqa: F401  (imported once here, not in every child)

    load_libc()  # here once, not in every child
    parent = os.getpid()
    commands_r, commands_w = os.pipe()
    reports_r, reports_w = os.pipe()
    next_r, next_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # What exists now is shared with the child page by page until written; the cyclic
    # collector would write to every object it walks, so it leaves these alone.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = CRASH
        try:
            for fd in (commands_w, reports_r, next_r, *others):
                os.close(fd)  # the other children's pipes stay between them and the worker
            job = Job(settings, worker, lease, commands_r, reports_w, parent, queues)
            code = job.main(row, start, next_w, per_child, max_memory_mb)
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    for fd in (commands_r, reports_w, next_w):
        os.close(fd)
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # an old kernel: the watch polls for the exit instead
            pidfd = None
    return _Child(pid, commands_w, Reports(reports_r), pidfd), next_r
