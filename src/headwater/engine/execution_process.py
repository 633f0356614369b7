"""One claimed execution in a child process the worker forks, watches and can kill.

The worker imports the execution's code snapshot first and then forks, so the child starts
warm (no import) and whatever the run leaves behind — module globals it changed, memory it
allocated — ends with the child. The child opens its own database connections (it never
touches the worker's) and reports each call of a task that has a ``timeout`` over a pipe
(``engine/timeouts.py``). The worker, meanwhile:

- renews the lease every ``lease / 3`` seconds (the heartbeat);
- reads the execution's status every :data:`~headwater.engine.queue.CANCEL_CHECK` seconds and
  kills the child when it was cancelled, or when another worker owns it now (reaped);
- kills the child when a task call outlives its timeout by :data:`KILL_GRACE` seconds (a task
  that catches the in-process ``TaskTimeoutError`` cannot run on), then requeues or fails the
  execution with ``TaskTimeoutError`` per the running task's ``retries``;
- when the child exits without recording a result (it crashed, or user code called
  ``os._exit``), requeues or fails it with ``WorkerLost``.

The child puts itself in a process group of its own (a kill reaches subprocesses the task
started) and exits when the worker is gone (its end of a pipe closes).
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.engine import queue, timeouts

if TYPE_CHECKING:
    from headwater.definitions.entity import Entity
    from headwater.instance import Instance
    from headwater.settings import Settings

log = logging.getLogger("headwater.worker")

KILL_GRACE = 1.0  # seconds past a task's timeout before its process is killed
LINGER = 5.0  # seconds a child that has recorded its result gets to exit before it is killed
_CRASH = 70  # EX_SOFTWARE: the child failed outside user code


@dataclass(frozen=True)
class Outcome:
    """How a supervised execution ended, from the worker's side.

    ``how``: ``done`` (the child recorded the result), ``timeout``, ``cancelled``, ``lost``
    (another worker owns it now), ``crashed`` (the child exited without a result).
    ``status``: the execution's status the worker left (or found) in the database."""

    how: str
    status: str
    detail: str = ""


def supported() -> bool:
    return hasattr(os, "fork")


def run(inst: Instance, worker: str, lease: float, row: Any, entity: Entity) -> Outcome:
    """Run the claimed execution ``row`` in a forked child and supervise it to its end."""
    report_r, report_w = os.pipe()
    alive_r, alive_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = _CRASH
        try:
            os.close(report_r)
            os.close(alive_w)
            code = _child(inst.settings, row, entity, report_w, alive_r)
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(report_w)
    os.close(alive_r)
    try:
        return _Watch(inst, worker, lease, row["id"], pid, report_r).run()
    finally:
        os.close(report_r)
        os.close(alive_w)  # a child still alive (it cannot be) would exit now


# -- the child ---------------------------------------------------------------------------------


def _exit_with_parent(alive_r: int) -> None:
    """Block until the worker's end of the pipe closes (it exited or was killed), then exit."""
    try:
        while os.read(alive_r, 1):
            pass
    except OSError:
        pass
    os._exit(_CRASH)


def _child(settings: Settings, row: Any, entity: Entity, report_w: int, alive_r: int) -> int:
    from headwater.engine.runner import ExecutionLost, run_claimed
    from headwater.instance import Instance

    os.setpgid(0, 0)  # a group of its own: a kill reaches what the task started
    # The worker decides when to stop; a Ctrl-C in the terminal reaches it, not the task.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(alive_r,), daemon=True).start()
    reports = os.fdopen(report_w, "w", buffering=1)

    def report(seconds: float | None, task: str) -> None:
        try:
            reports.write(json.dumps([seconds, task]) + "\n")
        except OSError:  # the worker is gone; this process follows it
            pass

    timeouts.watch(report)
    # The worker's connections stay the worker's: this process opens its own.
    inst = Instance(settings)
    with inst.use():
        try:
            run_claimed(inst, entity, row)
        except ExecutionLost:
            log.info("execution %s was cancelled or taken over; stopped", row["id"])
        except KeyboardInterrupt:
            # User code raised SystemExit/KeyboardInterrupt: recorded as cancelled.
            log.warning("execution %s was interrupted by its own code", row["id"])
        except Exception as exc:  # an engine failure, not the user's code
            log.exception("execution %s crashed the runner", row["id"])
            queue.fail(
                inst,
                row["id"],
                row["worker"],
                {
                    "type": type(exc).__name__,
                    "message": f"the worker could not record the execution: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                    "node": None,
                },
            )
    return 0


# -- the worker's side ---------------------------------------------------------------------------


class _Watch:
    def __init__(
        self, inst: Instance, worker: str, lease: float, execution_id: str, pid: int, fd: int
    ) -> None:
        self.inst, self.worker, self.lease = inst, worker, lease
        self.execution_id, self.pid, self.fd = execution_id, pid, fd
        self.buffer = b""
        self.task = ""
        self.limit = 0.0
        self.call_started = 0.0
        self.deadline: float | None = None
        self.linger_until: float | None = None
        self.pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:  # an old kernel: poll for the exit instead
                self.pidfd = None

    def run(self) -> Outcome:
        try:
            return self._run()
        finally:
            if self.pidfd is not None:
                os.close(self.pidfd)

    def _run(self) -> Outcome:
        now = time.monotonic()
        next_beat = now + self.lease / 3
        next_check = now + queue.CANCEL_CHECK
        outcome: Outcome | None = None
        fds = [self.fd] + ([self.pidfd] if self.pidfd is not None else [])
        while outcome is None:
            wake = min(next_beat, next_check, self.deadline or next_check)
            if self.linger_until is not None:
                wake = min(wake, self.linger_until)
            ready, _, _ = select.select(fds, [], [], max(0.0, wake - time.monotonic()))
            if self.fd in ready and not self._read():
                fds.remove(self.fd)  # the child closed its end: it is exiting
            exited = self._reap(block=False)
            if exited is not None:
                return self._after_exit(exited)
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                outcome = self._timed_out(now)
            elif self.linger_until is not None and now >= self.linger_until:
                outcome = Outcome("done", "", "the child did not exit after recording its result")
            elif now >= next_check:
                next_check = now + queue.CANCEL_CHECK
                outcome = self._check()
            if outcome is None and now >= next_beat:
                next_beat = now + self.lease / 3
                outcome = self._beat()
        self._kill()
        self._reap(block=True)
        if outcome.how == "timeout":
            status = queue.abandon(
                self.inst, self.execution_id, self.worker, "TaskTimeoutError", outcome.detail
            )
            return Outcome("timeout", status or "", outcome.detail)
        return outcome

    def _read(self) -> bool:
        chunk = os.read(self.fd, 65536)
        if not chunk:
            return False
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            seconds, task = json.loads(line)
            if seconds is None:
                self.deadline = None
            else:
                self.task, self.limit = task, float(seconds)
                self.call_started = time.monotonic()
                self.deadline = self.call_started + self.limit + KILL_GRACE
        return True

    def _timed_out(self, now: float) -> Outcome:
        detail = (
            f"task {self.task} ran past its timeout of {self.limit:g} s and did not stop "
            f"(it went on after the TaskTimeoutError); the worker killed it after "
            f"{now - self.call_started:.1f} s"
        )
        log.warning("worker %s: execution %s: %s", self.worker, self.execution_id, detail)
        return Outcome("timeout", "", detail)

    def _check(self) -> Outcome | None:
        """Kill the child when the execution was cancelled or is another worker's now."""
        try:
            with self.inst.db.read() as tx:
                row = tx.one(
                    "SELECT status, worker FROM executions WHERE id = :id",
                    {"id": self.execution_id},
                )
        except Exception as exc:  # the database is unreachable: the lease decides later
            log.warning("worker %s: cannot read %s: %s", self.worker, self.execution_id, exc)
            return None
        status = row["status"] if row is not None else "missing"
        if status == "running" and row["worker"] == self.worker:
            return None
        if status == "cancelled":
            log.info("worker %s: execution %s was cancelled", self.worker, self.execution_id)
            return Outcome("cancelled", status)
        if row is not None and row["worker"] == self.worker and status in ("succeeded", "failed"):
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

    def _kill(self) -> None:
        """SIGKILL the child and its process group (what the task started goes with it)."""
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
                return
            except (ProcessLookupError, PermissionError):
                continue

    def _reap(self, block: bool) -> int | None:
        """The child's exit code once it has exited (negative: killed by that signal)."""
        pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        return None if pid == 0 else os.waitstatus_to_exitcode(status)

    def _after_exit(self, code: int) -> Outcome:
        """The child exited by itself: fine if it recorded a result, else requeue or fail."""
        with self.inst.db.read() as tx:
            row = tx.one(
                "SELECT status, worker FROM executions WHERE id = :id", {"id": self.execution_id}
            )
        if row is None or row["status"] != "running" or row["worker"] != self.worker:
            return Outcome("done", row["status"] if row is not None else "")
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        detail = f"the process running the execution exited ({how}) before recording a result"
        log.warning("worker %s: execution %s: %s", self.worker, self.execution_id, detail)
        status = queue.abandon(self.inst, self.execution_id, self.worker, "WorkerLost", detail)
        return Outcome("crashed", status or "", detail)
