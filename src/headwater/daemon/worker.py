"""A worker process: claim an execution, run its registered code, heartbeat, repeat.

    python -m headwater.daemon.worker [--queue NAME ...] [--concurrency N] [--once]
        [--grace 25] [--lease 30] [--name NAME] [--parent-pid PID]
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

Queues: a worker claims only executions of its queues (``--queue``, default ``default``) and
records itself (``storage/worker_registry.py``) so that a queue nothing serves can be told.
``--concurrency N`` (N > 1) makes this process a supervisor of N worker processes
(``daemon/up.py``, ``run_pool``); ``--once`` claims at most one execution, runs it and exits.
Before anything else, a worker with a SQLite database or a local blob folder checks that it
runs on the host ``headwater up`` recorded (:func:`shared_storage_problem`; docs/deploy.md).
A worker started by hand first waits for the database, object store and Dask scheduler to
answer (``daemon/reach.py``, ``--connect-timeout``).

Dask: with ``--executor dask://host:8786`` (``$HEADWATER_WORKER_EXECUTOR``) this process
claims up to ``--concurrency`` executions (default: the cluster's worker threads) and runs each
as one Dask task (``engine/execute/dask_executions.py``), keeping their leases here
(:class:`_DaskLoop`); nothing is forked.

Exit codes: 0 after SIGTERM/SIGINT (the current execution is finished first, or after
``--grace`` seconds killed and handed back to the queue) or when the parent process is gone; :data:`EXIT_SNAPSHOT_CONFLICT` when an execution needs code that
conflicts with modules this process already imported (the execution is put back in the queue
and a supervisor starts a fresh worker for it); :data:`EXIT_RECYCLE`; 2 for bad arguments or
settings; :data:`~headwater.daemon.reach.EXIT_UNREACHABLE` (69) when a service did not answer
in time.
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
from headwater.storage import worker_registry
from headwater.storage.db import prefer_generic_plans
from headwater.storage.executions import ExecutionRow
from headwater.storage.faults import PASSING
from headwater.storage.notify import FALLBACK_POLL, QUEUE, Listener

if TYPE_CHECKING:
    from headwater.instance import Instance

EXIT_SNAPSHOT_CONFLICT = 75  # EX_TEMPFAIL: "start me again"
EXIT_RECYCLE = 76  # ran its share of executions (or grew too big): "start a fresh one"
MAX_EXECUTIONS_ENV = "HEADWATER_WORKER_MAX_EXECUTIONS"
MAX_MEMORY_ENV = "HEADWATER_WORKER_MAX_MEMORY_MB"
EXECUTOR_ENV = "HEADWATER_WORKER_EXECUTOR"
HOST_ID_ENV = "HEADWATER_HOST_ID"
HEADWATER_DATABASE_URL = "HEADWATER_DATABASE_URL"
HEADWATER_STORAGE_URL = "HEADWATER_STORAGE_URL"
DEFAULT_LEASE = 30.0
DEFAULT_GRACE = 25.0  # seconds a stopping worker lets its execution run before handing it back
BUSY_POLL = execution_process.BUSY_POLL
IDLE_POLL = execution_process.IDLE_POLL
BUSY_WINDOW = execution_process.BUSY_WINDOW

log = logging.getLogger("headwater.worker")


def default_name(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def host_id(environ: Any = None) -> str:
    """This machine, as the host check knows it: ``$HEADWATER_HOST_ID`` when set, else the
    host name. Set the same value on two hosts that do share the database file and the blob
    folder (e.g. two containers with the same volume on one machine)."""
    env = os.environ if environ is None else environ
    return env.get(HOST_ID_ENV, "").strip() or socket.gethostname()


def shared_storage_problem(inst: Instance, host: str) -> str | None:
    """Why this worker must not run here, or None.

    A SQLite database and a local blob folder are files of one machine. When ``headwater up``
    has recorded (in this database) that it runs on another host than ``host``, a worker with
    either would read other files than the server, or share a SQLite file over a network file
    system (whose locks SQLite cannot trust): refused, naming the settings to change."""
    settings = inst.settings
    local: list[str] = []
    if inst.db.dialect == "sqlite":
        local.append(f"a SQLite database ({HEADWATER_DATABASE_URL}={settings.database_url})")
    if inst.blobs.folder is not None:
        local.append(f"a local blob folder ({HEADWATER_STORAGE_URL}={settings.storage_url})")
    if not local:
        return None
    with inst.db.read() as tx:
        server = worker_registry.server_host(tx)
    if server is None:
        if inst.db.dialect == "sqlite":
            log.warning(
                "no `headwater up` has recorded its host in %s yet; a worker on another "
                "machine than the server needs %s set to PostgreSQL and %s to an object store",
                settings.database_url,
                HEADWATER_DATABASE_URL,
                HEADWATER_STORAGE_URL,
            )
        return None
    if server.host == host:
        return None
    fixes = []
    if inst.db.dialect == "sqlite":
        fixes.append(
            f"set {HEADWATER_DATABASE_URL} to a PostgreSQL database both hosts reach "
            "(postgresql+psycopg://USER@DBHOST/DB)"
        )
    if inst.blobs.folder is not None:
        fixes.append(
            f"set {HEADWATER_STORAGE_URL} to an object store both hosts reach (s3://BUCKET/PREFIX)"
        )
    return (
        f"this worker runs on host {host!r} but `headwater up` runs on {server.host!r} "
        f"(as it recorded in the database); a worker on another host cannot use "
        f"{' or '.join(local)}: {'; '.join(fixes)}. If both hosts really share these files "
        f"(e.g. containers on one machine), set {HOST_ID_ENV} to the same value on both."
    )


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
        queues: list[str] | None = None,
        grace: float | None = None,
        dask: Any = None,
        slots: int | None = None,
    ) -> None:
        self.inst = inst
        self.name = name or default_name()
        self.lease = lease
        self.parent_pid = parent_pid
        self.max_executions = max_executions
        self.max_memory_mb = max_memory_mb
        self.queues = list(dict.fromkeys(queues or [queue.DEFAULT_QUEUE]))
        self.grace = grace  # seconds a running execution gets after a stop (None: no limit)
        self.executions = 0
        self._stop: threading.Event | None = None
        self._stopping_since: float | None = None
        self._next_record = 0.0
        # ``dask``: a connected Dask client; whole executions run on its cluster, ``slots`` of
        # them at a time (default: the cluster's worker threads).
        self.dask = dask
        self.slots = slots
        # Each execution in a forked child (see engine/execution_process.py) where possible.
        if isolate is None:
            isolate = execution_process.supported() and dask is None
        self.executor = (
            Executor(
                inst,
                self.name,
                lease,
                max_executions,
                max_memory_mb,
                queues=self.queues,
                hand_back_at=self.hand_back_at,
            )
            if isolate
            else None
        )

    def hand_back_at(self) -> float | None:
        """Once the worker is stopping: the monotonic time at which a running execution is
        killed and handed back to the queue (the stop plus the grace period); else None."""
        if self._stop is None or not self._stop.is_set():
            return None
        if self._stopping_since is None:
            self._stopping_since = time.monotonic()
            if self.executor is not None:  # what it hands back goes to another worker
                self.executor.stop_claiming()
        return None if self.grace is None else self._stopping_since + self.grace

    def record(self, force: bool = False) -> None:
        """Say in the database that this worker is alive and serves its queues (every
        ``worker_registry.REFRESH`` seconds at most unless ``force``)."""
        now = time.monotonic()
        if not force and now < self._next_record:
            return
        self._next_record = now + worker_registry.REFRESH
        try:
            with self.inst.db.transaction() as tx:
                worker_registry.record_worker(
                    tx, name=self.name, queues=self.queues, host=host_id(), now=time.time()
                )
        except Exception as exc:  # e.g. the database is unreachable: next time
            log.warning("worker %s: cannot record itself: %s", self.name, exc)

    def forget(self) -> None:
        """Remove this worker's row (it stops in order)."""
        try:
            with self.inst.db.transaction() as tx:
                worker_registry.forget_worker(tx, name=self.name)
        except Exception as exc:
            log.warning("worker %s: cannot remove its record: %s", self.name, exc)

    def run_once(self, stop: threading.Event) -> int:
        """Claim one execution of this worker's queues and run it, if one is queued; the exit
        code (0 also when there was nothing to run)."""
        self._stop = stop
        try:
            with self.inst.use():
                row = queue.claim(self.inst, self.name, self.lease, self.queues)
                if row is None:
                    log.info(
                        "worker %s: nothing queued on %s; exiting",
                        self.name,
                        ", ".join(self.queues),
                    )
                    return 0
                if self.dask is not None:
                    loop = _DaskLoop(self, self.dask)
                    loop.submit(row)
                    while loop.running:
                        loop.wait_any(1.0)
                        loop.collect()
                    return 0
                code = self.run_one(row)
                return 0 if code == EXIT_RECYCLE else (code or 0)
        finally:
            self.close()

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self, stop: threading.Event) -> int:
        # User code that calls the public API (get_artifact, emit_event...) uses this instance.
        self._stop = stop
        self.record(force=True)
        try:
            with self.inst.use():
                return self._loop(stop)
        finally:
            self.close()
            self.forget()

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
            self.record()
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
        if self.dask is not None:
            return _DaskLoop(self, self.dask).run(stop)
        if self.executor is not None:
            return self._loop_isolated(stop, self.executor)
        last_work = time.monotonic()
        poll = BUSY_POLL
        listener: Listener | None = None  # PostgreSQL push, opened when first idle
        look = True  # False right after a NOTIFY: claim without looking first
        try:
            while not stop.is_set():
                if self._parent_gone():
                    log.info(
                        "worker %s: parent process %s is gone, exiting", self.name, self.parent_pid
                    )
                    return 0
                self.record()
                try:
                    row = queue.claim(self.inst, self.name, self.lease, self.queues, look=look)
                    look = True
                except Exception as exc:  # e.g. the database is unreachable: keep trying
                    log.warning("worker %s: cannot claim work: %s", self.name, exc)
                    self.inst.db.close()  # reconnect on the next try
                    stop.wait(1.0)
                    continue
                if row is None:
                    idle = time.monotonic() - last_work > BUSY_WINDOW
                    if idle and Listener.wanted(self.inst.db):  # PostgreSQL: wait for a NOTIFY
                        if listener is None:
                            listener = Listener(self.inst.db, QUEUE, name=f"worker {self.name}")
                        look = not listener.wait(FALLBACK_POLL, stop)
                        continue
                    if idle:
                        poll = min(IDLE_POLL, poll * 1.5)
                    stop.wait(poll)
                    continue
                code = self.run_one(row)
                if code is not None:
                    return code
                last_work = time.monotonic()
                poll = BUSY_POLL
            return 0
        finally:
            if listener is not None:
                listener.close()

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


class _DaskRun:
    """One claimed execution running as a Dask task, with the lease kept here."""

    def __init__(self, row: ExecutionRow, future: Any, beat: _Heartbeat) -> None:
        self.row, self.future, self.beat = row, future, beat
        self.started = time.time()


class _DaskLoop:
    """``--executor dask://``: claim up to ``slots`` executions, run each as a Dask task
    (``engine/execute/dask_executions.py``), renew their leases here, log how each ended."""

    def __init__(self, worker: Worker, client: Any) -> None:
        self.worker, self.client = worker, client
        self.running: dict[str, _DaskRun] = {}
        self.ended = threading.Event()  # set by Dask (in its thread) when a task ends
        self._slots_checked = 0.0
        self.slots = self.capacity()

    def capacity(self) -> int:
        """How many executions may run at once: ``--concurrency``, else the cluster's worker
        threads (asked again every 5 s: Dask workers come and go)."""
        if self.worker.slots:
            return self.worker.slots
        now = time.monotonic()
        if now - self._slots_checked >= 5.0:
            self._slots_checked = now
            try:
                self.slots = max(1, sum(self.client.nthreads().values()))
            except Exception as exc:  # the scheduler is away: keep the last count
                log.warning("worker %s: cannot ask Dask for its workers: %s", self.worker.name, exc)
                self.slots = getattr(self, "slots", 1)
        return self.slots

    def run(self, stop: threading.Event) -> int:
        w = self.worker
        poll = BUSY_POLL
        last_work = time.monotonic()
        log.info("worker %s: running executions on Dask, %d at a time", w.name, self.slots)
        try:
            while not stop.is_set():
                if w._parent_gone():
                    log.info("worker %s: parent process %s is gone, exiting", w.name, w.parent_pid)
                    return 0
                w.record()
                self.collect()
                if len(self.running) >= self.capacity():
                    self.wait_any(0.5)
                    continue
                try:
                    row = queue.claim(w.inst, w.name, w.lease, w.queues)
                except Exception as exc:  # e.g. the database is unreachable: keep trying
                    log.warning("worker %s: cannot claim work: %s", w.name, exc)
                    w.inst.db.close()
                    stop.wait(1.0)
                    continue
                if row is None:
                    if time.monotonic() - last_work > BUSY_WINDOW:
                        poll = min(IDLE_POLL * 10, poll * 1.5)
                    if self.running:
                        self.wait_any(poll)
                    else:
                        stop.wait(poll)
                    continue
                self.submit(row)
                last_work, poll = time.monotonic(), BUSY_POLL
            self.finish_or_hand_back()
            return 0
        finally:
            for run in self.running.values():
                run.beat.done.set()

    def submit(self, row: ExecutionRow) -> None:
        from headwater.engine.execute.dask_executions import run_execution, task_key

        w = self.worker
        beat = _Heartbeat(w.inst, row.id, w.name, w.lease)
        beat.start()
        future = self.client.submit(
            run_execution, w.inst.settings, row, key=task_key(row), pure=False
        )
        future.add_done_callback(lambda _: self.ended.set())
        self.running[row.id] = _DaskRun(row, future, beat)

    def wait_any(self, timeout: float) -> None:
        """Until a running task ends (or ``timeout`` seconds)."""
        if not any(r.future.done() for r in self.running.values()):
            self.ended.wait(timeout)
        self.ended.clear()

    def collect(self) -> None:
        """Log and forget the executions whose Dask task has ended."""
        for eid, run in list(self.running.items()):
            if not run.future.done():
                continue
            del self.running[eid]
            run.beat.done.set()
            try:
                status = str(run.future.result())
            except Exception as exc:  # Dask gave up on the task (e.g. its workers kept dying)
                status = self._failed(run, exc)
            self.worker._log_end(run.row, status, run.started)

    def _failed(self, run: _DaskRun, exc: BaseException) -> str:
        w = self.worker
        log.warning("worker %s: the Dask task of %s failed: %s", w.name, run.row.id, exc)
        error = {
            "type": type(exc).__name__,
            "message": f"the Dask task running the execution failed: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
            "node": None,
        }
        try:
            queue.fail(w.inst, run.row.id, w.name, error)
        except Exception as again:
            log.warning("worker %s: cannot record it: %s", w.name, again)
        return "failed"

    def finish_or_hand_back(self) -> None:
        """After a stop: let the running executions finish within the grace period, then
        hand back what still runs (the Dask tasks are cancelled; a late write of theirs is
        refused, the claim being gone)."""
        w = self.worker
        deadline = w.hand_back_at()
        while self.running and (deadline is None or time.monotonic() < deadline):
            left = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            self.wait_any(left)
            self.collect()
        for eid, run in list(self.running.items()):
            del self.running[eid]
            run.beat.done.set()
            self.client.cancel(run.future)
            queue.hand_back(w.inst, eid, w.name, "the worker stopped (grace period over)")
            log.info("worker %s: handed %s back to the queue", w.name, eid)


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
    prefer_generic_plans()  # a worker's or the reactor's statements: keyed lookups
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
    queues: list[str] | None = None,
    concurrency: int = 1,
    once: bool = False,
    grace: float | None = DEFAULT_GRACE,
    executor: str | None = None,
    connect_timeout: float | None = None,
) -> int:
    """Run one worker process until stopped; the exit code (see the module docstring).

    What ``headwater worker`` and ``python -m headwater.daemon.worker`` call once their flags
    are checked. ``None`` limits come from ``$HEADWATER_WORKER_MAX_*`` (0 when unset).
    ``concurrency`` above 1 runs that many worker processes under this one (see
    ``daemon/up.py``, :func:`~headwater.daemon.up.run_pool`); ``once`` runs at most one
    execution and returns. ``executor`` (default ``$HEADWATER_WORKER_EXECUTOR``):
    ``dask://host:8786`` runs whole executions on that Dask cluster, ``concurrency`` of them
    at a time (1, the default, means as many as the cluster has worker threads).

    First the database, object store and Dask scheduler are waited for (``daemon/reach.py``)
    up to ``connect_timeout`` seconds (None: ``$HEADWATER_CONNECT_TIMEOUT``, default 60; 0:
    forever); a worker started by a supervisor (``parent_pid``) skips that."""
    setup_logging(json_logs)
    try:
        address = dask_address(executor if executor is not None else os.environ.get(EXECUTOR_ENV))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if parent_pid is None:
        code = wait_until_reachable(address, connect_timeout, who="worker")
        if code is not None:
            return code
    if address is not None:
        return _run_dask_worker(
            address,
            lease=lease,
            name=name,
            parent_pid=parent_pid,
            ready_fd=ready_fd,
            queues=queues,
            slots=concurrency if concurrency > 1 else None,
            once=once,
            grace=grace,
        )
    if concurrency > 1 and once:
        print(
            "error: --once runs a single execution; it cannot be combined with "
            f"--concurrency {concurrency} (drop one of them)",
            file=sys.stderr,
        )
        return 2
    if concurrency > 1:
        from headwater.daemon.up import run_pool

        return run_pool(
            lease=lease,
            name=name,
            parent_pid=parent_pid,
            max_executions=max_executions,
            max_memory_mb=max_memory_mb,
            ready_fd=ready_fd,
            json_logs=json_logs,
            queues=queues,
            concurrency=concurrency,
            grace=grace,
        )

    stop, inst = child_process()
    if inst is None:
        return 2
    try:
        if max_executions is None:
            max_executions = limit_from_env(MAX_EXECUTIONS_ENV)
        if max_memory_mb is None:
            max_memory_mb = limit_from_env(MAX_MEMORY_ENV)
        problem = shared_storage_problem(inst, host_id())
    except Exception as exc:
        inst.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problem is not None:
        inst.close()
        print(f"error: {problem}", file=sys.stderr)
        return 2
    worker = Worker(
        inst,
        name,
        lease,
        parent_pid,
        max_executions=max_executions,
        max_memory_mb=max_memory_mb,
        queues=queues,
        grace=grace,
    )
    signal_ready(ready_fd)
    grace_text = "none" if grace is None else f"{grace:.3g} s"
    log.info(
        "worker %s: started (queues %s, lease %.3g s, grace %s)",
        worker.name,
        ", ".join(worker.queues),
        worker.lease,
        grace_text,
    )
    try:
        code = worker.run_once(stop) if once else worker.run(stop)
    finally:
        inst.close()
    log.info("worker %s: stopped", worker.name)
    return code


def wait_until_reachable(address: str | None, timeout: float | None, who: str) -> int | None:
    """Wait for the services of the ``HEADWATER_*`` settings (and the Dask scheduler at
    ``address``); None when they answer, else the exit code after printing why."""
    from headwater.daemon.reach import (
        EXIT_UNREACHABLE,
        connect_timeout_from_env,
        wait_for_services,
    )
    from headwater.errors import HeadwaterError
    from headwater.settings import Settings

    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():  # (signals: main thread only)
        previous = {
            sig: signal.signal(sig, lambda signum, frame: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
    try:
        limit = connect_timeout_from_env() if timeout is None else timeout
        problem = wait_for_services(
            Settings.from_env(), dask_address=address, timeout=limit, stop=stop, who=who
        )
    except HeadwaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if problem is None:
        return None
    print(f"error: {problem}", file=sys.stderr)
    return 0 if stop.is_set() else EXIT_UNREACHABLE


def dask_address(value: str | None) -> str | None:
    """The scheduler address of an executor setting (``dask://host:8786``), or None for
    ``local``/unset; ValueError naming the fix otherwise."""
    text = (value or "").strip()
    if text in ("", "local"):
        return None
    if text.startswith(("dask://", "tcp://")) and text.split("://", 1)[1]:
        return "tcp://" + text.split("://", 1)[1]
    raise ValueError(
        f"executor {text!r} is not understood: give --executor (or {EXECUTOR_ENV}) as "
        "'local' or 'dask://host:8786'"
    )


def _run_dask_worker(
    address: str,
    *,
    lease: float,
    name: str | None,
    parent_pid: int | None,
    ready_fd: int | None,
    queues: list[str] | None,
    slots: int | None,
    once: bool,
    grace: float | None,
) -> int:
    """One worker process whose executions run on the Dask cluster at ``address``."""
    from headwater.engine.execute.executors import dask_client

    stop, inst = child_process()
    if inst is None:
        return 2
    try:
        problem = shared_storage_problem(inst, host_id())
        client = None if problem else dask_client(address)
    except Exception as exc:  # e.g. the scheduler went away again since it answered
        problem = str(exc)
    if problem is not None:
        inst.close()
        print(f"error: {problem}", file=sys.stderr)
        return 2
    worker = Worker(
        inst, name, lease, parent_pid, queues=queues, grace=grace, dask=client, slots=slots
    )
    signal_ready(ready_fd)
    log.info(
        "worker %s: started (queues %s, lease %.3g s, executions on Dask at %s)",
        worker.name,
        ", ".join(worker.queues),
        worker.lease,
        address,
    )
    try:
        code = worker.run_once(stop) if once else worker.run(stop)
    finally:
        inst.close()
    log.info("worker %s: stopped", worker.name)
    return code


if __name__ == "__main__":
    # The flags live with the `headwater worker` command; imported only here so that the
    # engine never imports the CLI.
    from headwater.cli.worker_cmd import worker

    worker.main(prog_name="python -m headwater.daemon.worker")
