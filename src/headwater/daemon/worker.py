"""A worker process: claim an execution, run its registered code, heartbeat, repeat.

    python -m headwater.daemon.worker [--lease 30] [--name NAME] [--parent-pid PID]
        [--max-executions N] [--max-memory-mb M] [--ready-fd FD] [--json-logs]

(or ``headwater worker`` with the same flags; both are the click command in
``cli/worker_cmd.py``, which calls :func:`run_worker`.)

Settings (database, blob store, home) come from ``HEADWATER_*`` variables as everywhere else.
Executions run in a forked child process that claims them and that this process supervises
(``engine/execution_process.py``, ``engine/execution_watch.py``): the lease is renewed every
``lease / 3`` seconds, and the child is killed when the execution is cancelled or a task
outlives its timeout. Where ``os.fork`` is missing, executions run in this process (timeouts
in-process only). The queue is polled every ~2 ms right after work, backing off to ~10 ms.

Recycling: a child runs at most ``--max-executions`` executions
(``$HEADWATER_WORKER_MAX_EXECUTIONS``; 1: every execution in a fresh process) and stops after
one that leaves it above ``--max-memory-mb`` resident (``$HEADWATER_WORKER_MAX_MEMORY_MB``);
the next child, forked from this process's import-time state and connected already, takes
over at once (this process only imports code; it holds no execution's state). Without
``os.fork`` this process runs the executions and exits with :data:`EXIT_RECYCLE` instead, and
``headwater up`` starts a fresh one at once.

Exit codes: 0 after SIGTERM/SIGINT (the current execution is finished first) or when the
parent process is gone; :data:`EXIT_SNAPSHOT_CONFLICT` when an execution needs code that
conflicts with modules this process already imported (the execution is put back in the queue
and a supervisor starts a fresh worker for it); :data:`EXIT_RECYCLE`; 2 for bad arguments or
settings.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from types import FrameType
from typing import TYPE_CHECKING, Any

from headwater.engine.execute import execution_process, queue
from headwater.engine.execute.execution_process import Executor, Outcome, rss_mb
from headwater.engine.register.snapshots import SnapshotConflict, load_entity
from headwater.storage.executions import ExecutionRow
from headwater.storage.faults import PASSING

if TYPE_CHECKING:
    from headwater.instance import Instance

EXIT_SNAPSHOT_CONFLICT = 75  # EX_TEMPFAIL: "start me again"
EXIT_RECYCLE = 76  # ran its share of executions (or grew too big): "start a fresh one"
MAX_EXECUTIONS_ENV = "HEADWATER_WORKER_MAX_EXECUTIONS"
MAX_MEMORY_ENV = "HEADWATER_WORKER_MAX_MEMORY_MB"
DEFAULT_LEASE = 30.0
BUSY_POLL = execution_process.BUSY_POLL
IDLE_POLL = execution_process.IDLE_POLL
BUSY_WINDOW = execution_process.BUSY_WINDOW

log = logging.getLogger("headwater.worker")


def default_name(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


class _Heartbeat(threading.Thread):
    """Renews one execution's lease until stopped; notes when the lease was lost."""

    def __init__(self, inst: Instance, execution_id: str, worker: str, lease: float) -> None:
        super().__init__(name=f"heartbeat-{execution_id}", daemon=True)
        self.inst, self.execution_id, self.worker, self.lease = inst, execution_id, worker, lease
        self.done = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.done.wait(self.lease / 3):
            try:
                ok = queue.heartbeat(self.inst, self.execution_id, self.worker, self.lease)
            except Exception as exc:  # the database is unreachable: try again next beat
                log.warning("heartbeat for %s failed: %s", self.execution_id, exc)
                continue
            if not ok:
                self.lost = True
                log.warning(
                    "execution %s is no longer ours (its lease expired and it was reaped); "
                    "its result here will not count",
                    self.execution_id,
                )
                return


def _load_error(exc: BaseException, row: ExecutionRow) -> dict[str, Any]:
    what = f"{row.workflow} version {row.workflow_version}"
    return {
        "type": type(exc).__name__,
        "message": f"could not load {what} on worker: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
        "node": None,
    }


class Worker:
    """The claim-run loop. ``run(stop)`` returns the process exit code."""

    def __init__(
        self,
        inst: Instance,
        name: str | None = None,
        lease: float = DEFAULT_LEASE,
        parent_pid: int | None = None,
        *,
        max_executions: int = 0,
        max_memory_mb: int = 0,
        isolate: bool | None = None,
    ) -> None:
        self.inst = inst
        self.name = name or default_name()
        self.lease = lease
        self.parent_pid = parent_pid
        self.max_executions = max_executions
        self.max_memory_mb = max_memory_mb
        self.executions = 0
        # Each execution in a forked child (see engine/execution_process.py) where possible.
        if isolate is None:
            isolate = execution_process.supported()
        self.executor = (
            Executor(inst, self.name, lease, max_executions, max_memory_mb) if isolate else None
        )

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self, stop: threading.Event) -> int:
        # User code that calls the public API (get_artifact, emit_event...) uses this instance.
        try:
            with self.inst.use():
                return self._loop(stop)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child polling for work; one that has just claimed finishes first."""
        if self.executor is not None:
            outcome = self.executor.close()
            if outcome is not None:
                log.info("worker %s: a last execution ended: %s", self.name, outcome.status)

    def _loop_isolated(self, stop: threading.Event, executor: Executor) -> int:
        """Children claim and run; this process follows each one and forks the next."""
        while not stop.is_set():
            if self._parent_gone():
                log.info(
                    "worker %s: parent process %s is gone, exiting", self.name, self.parent_pid
                )
                return 0
            row = executor.next_claim(0.1)
            if row is not None:
                code = self._report(row, executor.supervise(row), _wall_start(row))
                if code is not None:
                    return code
        return 0

    def _report(self, row: ExecutionRow, outcome: Outcome, started: float) -> int | None:
        if outcome.how == "conflict":
            log.info(
                "worker %s: %s; handing %s to a fresh worker", self.name, outcome.detail, row.id
            )
            return EXIT_SNAPSHOT_CONFLICT
        self._log_end(row, outcome.status or outcome.how, started)
        return self._recycle()

    def _log_end(self, row: ExecutionRow, status: str, started: float) -> None:
        self.executions += 1
        log.info(
            "worker %s: %s %s %s in %.0f ms",
            self.name,
            row.id,
            row.workflow,
            status,
            (time.time() - started) * 1000,
        )

    def _loop(self, stop: threading.Event) -> int:
        if self.executor is not None:
            return self._loop_isolated(stop, self.executor)
        last_work = time.monotonic()
        poll = BUSY_POLL
        while not stop.is_set():
            if self._parent_gone():
                log.info(
                    "worker %s: parent process %s is gone, exiting", self.name, self.parent_pid
                )
                return 0
            try:
                row = queue.claim(self.inst, self.name, self.lease)
            except Exception as exc:  # e.g. the database is unreachable: keep trying
                log.warning("worker %s: cannot claim work: %s", self.name, exc)
                self.inst.db.close()  # reconnect on the next try
                stop.wait(1.0)
                continue
            if row is None:
                if time.monotonic() - last_work > BUSY_WINDOW:
                    poll = min(IDLE_POLL, poll * 1.5)
                stop.wait(poll)
                continue
            code = self.run_one(row)
            if code is not None:
                return code
            last_work = time.monotonic()
            poll = BUSY_POLL
        return 0

    def run_one(self, row: ExecutionRow) -> int | None:
        """Run one execution claimed already (``row``); returns an exit code when the process
        must end."""
        started = time.time()
        if self.executor is not None:
            return self._report(row, self.executor.run(row), started)
        done = self._run_here(row)
        if isinstance(done, int):
            return done
        self._log_end(row, done, started)
        return self._recycle()

    def _recycle(self) -> int | None:
        """EXIT_RECYCLE when this process, running executions itself, has run its share or
        grown too big."""
        if self.executor is not None:
            return None  # its children are recycled instead (see execution_process)
        if self.max_executions and self.executions >= self.max_executions:
            log.info(
                "worker %s: ran %d executions (max %d); exiting for a fresh worker",
                self.name,
                self.executions,
                self.max_executions,
            )
            return EXIT_RECYCLE
        if self.max_memory_mb:
            rss = rss_mb()
            if rss > self.max_memory_mb:
                log.info(
                    "worker %s: %.0f MB resident (max %d MB); exiting for a fresh worker",
                    self.name,
                    rss,
                    self.max_memory_mb,
                )
                return EXIT_RECYCLE
        return None

    def _run_here(self, row: ExecutionRow) -> str | int:
        """Run in this process (no fork on this platform: timeouts are in-process only, and
        cancelling takes effect at the next task). The final status, or an exit code."""
        from headwater.engine.execute.runner import ExecutionLost, run_claimed

        execution_id = row.id
        beat = _Heartbeat(self.inst, execution_id, self.name, self.lease)
        beat.start()
        try:
            try:
                entity = load_entity(
                    self.inst,
                    row.project,
                    row.domain,
                    row.workflow,
                    row.workflow_version,
                )
            except SnapshotConflict as exc:
                queue.requeue(self.inst, execution_id, self.name, f"snapshot conflict: {exc}")
                log.info(
                    "worker %s: %s; handing %s to a fresh worker", self.name, exc, execution_id
                )
                return EXIT_SNAPSHOT_CONFLICT
            except PASSING as exc:
                queue.give_back(self.inst, execution_id, self.name, exc)
                return "interrupted"
            except (Exception, SystemExit) as exc:  # user code may exit while imported
                queue.fail(self.inst, execution_id, self.name, _load_error(exc, row))
                log.warning(
                    "worker %s: execution %s failed to load: %s", self.name, execution_id, exc
                )
                return "failed"
            return run_claimed(self.inst, entity, row).status.value
        except (KeyboardInterrupt, ExecutionLost):
            # User code raised SystemExit/KeyboardInterrupt (the runner recorded the execution
            # as cancelled), or it was cancelled meanwhile. Signals never raise here.
            log.warning("worker %s: execution %s was interrupted", self.name, execution_id)
            return "interrupted"
        except PASSING as exc:
            queue.give_back(self.inst, execution_id, self.name, exc)
            return "interrupted"
        except Exception as exc:  # an engine failure, not the user's code
            log.exception("worker %s: execution %s crashed the runner", self.name, execution_id)
            queue.fail(
                self.inst,
                execution_id,
                self.name,
                {
                    "type": type(exc).__name__,
                    "message": f"the worker could not record the execution: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                    "node": None,
                },
            )
            return "failed"
        finally:
            beat.done.set()
            beat.join(timeout=5)


def _wall_start(row: ExecutionRow) -> float:
    return time.time() if row.started_at is None else float(row.started_at)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            body["traceback"] = self.formatException(record.exc_info)
        return json.dumps(body)


def setup_logging(json_logs: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if json_logs else logging.Formatter("%(name)s: %(message)s")
    )
    root = logging.getLogger("headwater")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def child_process() -> tuple[threading.Event, Instance | None]:
    """For a process ``headwater up`` supervises: a stop event set by SIGTERM/SIGINT, and the
    instance from ``HEADWATER_*`` (None after printing why, when the settings are bad)."""
    from headwater.errors import HeadwaterError
    from headwater.instance import Instance
    from headwater.settings import Settings

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return stop, Instance(Settings.from_env())
    except HeadwaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return stop, None


def limit_from_env(name: str, environ: Any = None) -> int:
    """A whole number >= 0 from the environment (0 when unset: no limit)."""
    env = os.environ if environ is None else environ
    text = env.get(name, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        from headwater.errors import UserInputError

        raise UserInputError(f"{name}={text!r} is not a whole number >= 0 (0 means no limit)")
    return value


def signal_ready(fd: int | None) -> None:
    """Tell the process that started this one that its signal handlers are in place: one line
    on ``fd`` (``--ready-fd``), then the descriptor is closed. A SIGTERM sent before this
    line may find no handler and end the process without its orderly stop."""
    if fd is None:
        return
    try:
        os.write(fd, b"ready\n")
        os.close(fd)
    except OSError:
        pass  # whoever waited is gone


def run_worker(
    *,
    lease: float = DEFAULT_LEASE,
    name: str | None = None,
    parent_pid: int | None = None,
    max_executions: int | None = None,
    max_memory_mb: int | None = None,
    ready_fd: int | None = None,
    json_logs: bool = False,
) -> int:
    """Run one worker process until stopped; the exit code (see the module docstring).

    What ``headwater worker`` and ``python -m headwater.daemon.worker`` call once their flags
    are checked. ``None`` limits come from ``$HEADWATER_WORKER_MAX_*`` (0 when unset)."""
    setup_logging(json_logs)

    stop, inst = child_process()
    if inst is None:
        return 2
    try:
        if max_executions is None:
            max_executions = limit_from_env(MAX_EXECUTIONS_ENV)
        if max_memory_mb is None:
            max_memory_mb = limit_from_env(MAX_MEMORY_ENV)
    except Exception as exc:
        inst.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    worker = Worker(
        inst,
        name,
        lease,
        parent_pid,
        max_executions=max_executions,
        max_memory_mb=max_memory_mb,
    )
    signal_ready(ready_fd)
    log.info("worker %s: started (lease %.3g s)", worker.name, worker.lease)
    try:
        code = worker.run(stop)
    finally:
        inst.close()
    log.info("worker %s: stopped", worker.name)
    return code


if __name__ == "__main__":
    # The flags live with the `headwater worker` command; imported only here so that the
    # engine never imports the CLI.
    from headwater.cli.worker_cmd import worker

    worker.main(prog_name="python -m headwater.daemon.worker")
