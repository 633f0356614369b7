"""The worker's side of a running execution process: heartbeat, cancel, timeouts, exit.

:class:`Watch` follows one child of the worker (``engine/execution_process.py``) from the
moment it has claimed an execution until it exits:

- renews the lease every ``lease / 3`` seconds (the heartbeat);
- reads the execution's status every :data:`~headwater.engine.execute.queue.CANCEL_CHECK` seconds and
  kills the child when it was cancelled, or when another worker owns it now (reaped);
- kills the child when a task call outlives its timeout by :data:`KILL_GRACE` seconds (a task
  that catches the in-process ``TaskTimeoutError`` cannot run on), then requeues or fails the
  execution with ``TaskTimeoutError`` as the running task's ``retries`` allow;
- when the worker is stopping and its grace period is over (``hand_back_at``), kills the child
  and hands the execution back to the queue at once (not counting the attempt);
- when the child exits without recording a result (it crashed, or user code called
  ``os._exit``), requeues or fails the execution with ``WorkerLost``.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.engine.execute import queue
from headwater.storage import executions as execution_rows
from headwater.storage.executions import ExecutionRow, ExecutionState

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.worker")

KILL_GRACE = 1.0  # seconds past a task's timeout before its process is killed
LINGER = 5.0  # seconds a child that has recorded its result gets to exit before it is killed


@dataclass(frozen=True)
class Outcome:
    """How a supervised execution ended, from the worker's side.

    ``how``: ``done`` (the child recorded the result), ``timeout``, ``cancelled``, ``lost``
    (another worker owns it now), ``crashed`` (the child exited without a result),
    ``conflict`` (its code conflicts with modules already imported: it was put back in the
    queue for a fresh worker), ``handed_back`` (the worker stopped before it ended: it was
    killed and queued again). ``status``: the execution's status the worker left (or found)
    in the database."""

    how: str
    status: str
    detail: str = ""


class Reports:
    """Lines a child writes on its report pipe: ``[seconds, task, monotonic time]`` when a
    timed task call starts, ``[null, task, time]`` when it ends, ``{"claimed": row}`` and
    ``{"finished": id}`` around each execution, and before it exits ``{"recycled": why}``,
    ``{"imported": [...]}`` or ``{"conflict": why}``.

    The worker reads them when it wakes up anyway (every
    :data:`~headwater.engine.execute.queue.CANCEL_CHECK` seconds at most), not as they come: a worker
    woken by each line would take the CPU from its child at every report (on a busy machine,
    milliseconds each time)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.open = True
        self.claimed: list[ExecutionRow] = []  # in order; the worker pops them
        self.finished: set[str] = set()
        self.recycled = ""
        self.imported: list[str] = []
        self.conflict = ""
        self.conflict_id = ""
        self.task = ""
        self.limit = 0.0
        self.call_started = 0.0
        self.deadline: float | None = None

    def read(self) -> None:
        """Read what is there (call when the descriptor is readable)."""
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.open = False
            return
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            self._apply(json.loads(line))

    def drain(self) -> None:
        """Read what an exited child wrote last (without waiting on anyone it left behind)."""
        while self.open and select.select([self.fd], [], [], 0)[0]:
            self.read()

    def _apply(self, message: Any) -> None:
        if isinstance(message, dict):
            if "claimed" in message:
                self.claimed.append(ExecutionRow(**message["claimed"]))
            if "finished" in message:
                self.finished.add(str(message["finished"]))
                self.deadline = None
            if "recycled" in message:
                self.recycled = str(message["recycled"])
            if "imported" in message:
                self.imported = [str(m) for m in message["imported"]]
            if "conflict" in message:
                self.conflict = str(message["conflict"])
                self.conflict_id = str(message.get("id", ""))
            return
        seconds, task, at = message
        if seconds is None:
            self.deadline = None
        else:
            self.task, self.limit = str(task), float(seconds)
            self.call_started = float(at)  # the monotonic clock is the machine's
            self.deadline = self.call_started + self.limit + KILL_GRACE


def exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


class Watch:
    """Supervise child ``pid``, which runs ``execution_id`` for ``worker``, until it exits."""

    def __init__(
        self,
        inst: Instance,
        worker: str,
        lease: float,
        execution_id: str,
        pid: int,
        reports: Reports,
        pidfd: int | None,
        hand_back_at: Callable[[], float | None] | None = None,
    ) -> None:
        self.inst, self.worker, self.lease = inst, worker, lease
        self.hand_back_at = hand_back_at
        self.execution_id, self.pid, self.reports, self.pidfd = execution_id, pid, reports, pidfd
        self.linger_until: float | None = None
        self.exited = False  # the child is gone (it exited, or was killed here)

    def run(self) -> Outcome:
        now = time.monotonic()
        next_beat = now + self.lease / 3
        next_check = now + queue.CANCEL_CHECK
        outcome: Outcome | None = None
        reports = self.reports
        # Woken by the child's exit (pidfd), else by the clock; without a pidfd, by the end of
        # the report pipe.
        fds = [self.pidfd] if self.pidfd is not None else [reports.fd]
        while outcome is None:
            wake = min(next_beat, next_check, reports.deadline or next_check)
            if self.linger_until is not None:
                wake = min(wake, self.linger_until)
            if reports.open or self.pidfd is not None:
                select.select(fds, [], [], max(0.0, wake - time.monotonic()))
            else:
                time.sleep(max(0.0, min(wake - time.monotonic(), queue.CANCEL_CHECK)))
            reports.drain()
            if self.execution_id in reports.finished:
                return Outcome("done", "")  # the child goes on to its next claim
            exited = self._reap(block=False)
            if exited is not None:
                reports.drain()
                self.exited = True
                return self._after_exit(exited)
            now = time.monotonic()
            stop_by = self.hand_back_at() if self.hand_back_at is not None else None
            if stop_by is not None and now >= stop_by:
                outcome = Outcome("handed_back", "queued", "the worker is stopping")
            elif reports.deadline is not None and now >= reports.deadline:
                outcome = self._timed_out(now)
            elif self.linger_until is not None and now >= self.linger_until:
                outcome = Outcome("done", "", "the child did not exit after recording its result")
            elif now >= next_check:
                next_check = now + queue.CANCEL_CHECK
                outcome = self._check()
            if outcome is None and now >= next_beat:
                next_beat = now + self.lease / 3
                outcome = self._beat()
        kill(self.pid)
        self._reap(block=True)
        self.exited = True
        reports.drain()
        if outcome.how == "handed_back":
            reason = (
                f"worker {self.worker} was stopped and its grace period ended before the "
                "execution did; handed back to the queue"
            )
            given = queue.hand_back(self.inst, self.execution_id, self.worker, reason)
            log.warning(
                "worker %s: %s handed back to the queue (grace period over)",
                self.worker,
                self.execution_id,
            )
            return Outcome("handed_back", "queued" if given else "", reason)
        if outcome.how == "timeout":
            status = queue.abandon(
                self.inst, self.execution_id, self.worker, "TaskTimeoutError", outcome.detail
            )
            return Outcome("timeout", status or "", outcome.detail)
        return outcome

    def _timed_out(self, now: float) -> Outcome:
        r = self.reports
        detail = (
            f"task {r.task} ran past its timeout of {r.limit:g} s and did not stop "
            f"(it went on after the TaskTimeoutError); the worker killed it after "
            f"{now - r.call_started:.1f} s"
        )
        log.warning("worker %s: execution %s: %s", self.worker, self.execution_id, detail)
        return Outcome("timeout", "", detail)

    def _status(self) -> ExecutionState | None:
        with self.inst.db.read() as tx:
            return execution_rows.get_state(tx, self.execution_id)

    def _check(self) -> Outcome | None:
        """Kill the child when the execution was cancelled or is another worker's now."""
        try:
            row = self._status()
        except Exception as exc:  # the database is unreachable: the lease decides later
            log.warning("worker %s: cannot read %s: %s", self.worker, self.execution_id, exc)
            return None
        status = row.status if row is not None else "missing"
        if status == "running" and row is not None and row.worker == self.worker:
            return None
        if status == "cancelled":
            log.info("worker %s: execution %s was cancelled", self.worker, self.execution_id)
            return Outcome("cancelled", status)
        if row is not None and row.worker == self.worker and status in ("succeeded", "failed"):
            # Most likely the child has just recorded its result and is exiting.
            if self.linger_until is None:
                self.linger_until = time.monotonic() + LINGER
            return None
        log.warning(
            "worker %s: execution %s is no longer ours (%s); stopping its code",
            self.worker,
            self.execution_id,
            status,
        )
        return Outcome("lost", status)

    def _beat(self) -> Outcome | None:
        try:
            ok = queue.heartbeat(self.inst, self.execution_id, self.worker, self.lease)
        except Exception as exc:  # the database is unreachable: try again next beat
            log.warning("heartbeat for %s failed: %s", self.execution_id, exc)
            return None
        return None if ok else self._check()

    def _reap(self, block: bool) -> int | None:
        """The child's exit code once it has exited (negative: killed by that signal)."""
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped already
            return -signal.SIGKILL
        return None if pid == 0 else exit_code(status)

    def _after_exit(self, code: int) -> Outcome:
        """The child exited by itself: fine if it recorded a result, else requeue or fail."""
        self.reports.drain()  # what it said last, before deciding it said nothing
        row = self._status()
        if self.execution_id in self.reports.finished or row is None:
            return Outcome("done", "")
        if self.reports.conflict_id == self.execution_id:
            # It gave the execution back (snapshot conflict); another process of this worker,
            # claiming in the same name, may be running it now: not ours to fail.
            return Outcome("done", "queued")
        if row.status != "running" or row.worker != self.worker:
            return Outcome("done", row.status)
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        detail = f"the process running the execution exited ({how}) before recording a result"
        log.warning("worker %s: execution %s: %s", self.worker, self.execution_id, detail)
        status = queue.abandon(self.inst, self.execution_id, self.worker, "WorkerLost", detail)
        return Outcome("crashed", status or "", detail)


def kill(pid: int) -> None:
    """SIGKILL a child and its process group (what its task started goes with it)."""
    for send in (os.killpg, os.kill):
        try:
            send(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            continue
