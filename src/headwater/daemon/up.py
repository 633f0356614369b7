"""``headwater up``: one supervisor process running the engine's loops and a worker pool.

In this process: the HTTP API (``headwater.api``, uvicorn in a thread, on --host/--port), the
scheduler (a thread given the shared ``stop`` event), the reaper (a thread, once a second)
and the supervision of child processes: the reactor (``python -m
headwater.daemon.reactor_process``) and N workers (``python -m headwater.daemon.worker``),
each restarted with a short backoff when it exits unexpectedly (at once when a worker exits to
be recycled or to run another code snapshot). Each child says when it handles SIGTERM
(``--ready-fd``); a stop waits for that before signalling it. The reactor is a process so
that deciding events does not share an interpreter lock with the HTTP server. A component
whose module cannot be imported is reported and left out; the rest runs. SIGINT/SIGTERM: stop
the loops, SIGTERM the children (a worker finishes its execution, the reactor its batch),
SIGKILL what is left after a grace period, and return 0. Several ``up`` may share one
database: one reactor and one scheduler among them act, the others stand by and take over
when the leader dies (``engine/leader.py``, docs/deploy.md).

With ``--workers 0`` it is the control plane alone: workers run elsewhere (``headwater
worker``, docs/deploy.md). At its start it records its host in the database, which a worker
with a SQLite database or a local blob folder checks its own against. ``headwater worker
--concurrency N`` uses the same :class:`Supervisor` for its N worker processes
(:func:`run_pool`), without the control plane.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from headwater.api.exposure import check_host
from headwater.daemon.worker import (
    DEFAULT_GRACE,
    DEFAULT_LEASE,
    EXIT_RECYCLE,
    EXIT_SNAPSHOT_CONFLICT,
    default_name,
    host_id,
)
from headwater.engine.execute import queue
from headwater.engine.outage import Outage
from headwater.errors import HeadwaterError
from headwater.storage import worker_registry
from headwater.storage.faults import PASSING

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.up")

SHUTDOWN_GRACE = 10.0  # seconds workers get to finish their execution after SIGTERM
REAP_EVERY = 1.0
PRUNE_EVERY = 600.0  # seconds between deletions of the rows of workers long gone
MAX_BACKOFF = 10.0
STABLE_AFTER = 10.0  # a worker that ran this long before dying restarts without delay growth


def redact(url: str) -> str:
    """A database URL without its password."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


@dataclass
class _Slot:
    index: int
    kind: str = "worker"  # or "reactor"
    proc: subprocess.Popen[bytes] | None = None
    name: str = ""
    started: float = 0.0
    restart_at: float = 0.0
    failures: int = 0
    ready_fd: int | None = None  # read end of the child's --ready-fd pipe until it is ready


@dataclass
class _Component:
    name: str
    target: Callable[[threading.Event], Any]
    thread: threading.Thread | None = field(default=None)


class Supervisor:
    """Runs the engine loops in threads and supervises the worker processes."""

    def __init__(
        self,
        inst: Instance,
        *,
        workers: int = 2,
        host: str = "127.0.0.1",
        port: int = 8265,
        lease: float = DEFAULT_LEASE,
        json_logs: bool = False,
        grace: float = SHUTDOWN_GRACE,
        out: IO[str] | None = None,
        max_executions: int = 0,
        max_memory_mb: int = 0,
        control_plane: bool = True,
        worker_args: list[str] | None = None,
        worker_name: str | None = None,
    ) -> None:
        self.inst = inst
        self.max_executions, self.max_memory_mb = max_executions, max_memory_mb
        # False: a pool of workers only (`headwater worker --concurrency N`): no reactor,
        # scheduler or HTTP API; the reaper still runs (it is safe anywhere).
        self.control_plane = control_plane
        self.worker_args = list(worker_args or [])  # e.g. --queue gpu --grace 25
        self.worker_name = worker_name  # slot i is named f"{worker_name}-{i}" (None: host:pid)
        self.slots = [_Slot(i) for i in range(workers)]
        self.reactor: _Slot | None = None  # set by load_components
        self.host, self.port = host, port
        self.lease = lease
        self.json_logs = json_logs
        self.grace = grace
        self.out = out or sys.stdout
        self.stop = threading.Event()
        self.force = threading.Event()
        self.components: list[_Component] = []
        self.missing: dict[str, str] = {}
        self.api: Any = None

    def record_host(self) -> None:
        """Record in the database the host this server runs on, which a worker with a SQLite
        database or a local blob folder checks its own against (``daemon/worker.py``)."""
        s = self.inst.settings
        try:
            with self.inst.db.transaction() as tx:
                worker_registry.record_server_host(
                    tx,
                    host=host_id(),
                    database=redact(s.database_url),
                    storage=redact(s.storage_url),
                    now=time.time(),
                )
        except Exception as exc:  # only the check of remote workers depends on it
            log.warning("could not record this server's host in the database: %s", exc)

    # -- components ----------------------------------------------------------------------
    def load_components(self) -> None:
        """Import the reactor and scheduler lazily; remember why one is not available."""
        inst = self.inst
        try:
            importlib.import_module("headwater.engine.react.reactor")
            importlib.import_module("headwater.daemon.reactor_process")
        except Exception as exc:
            self.missing["reactor"] = f"{type(exc).__name__}: {exc}"
        else:
            self.reactor = _Slot(-1, kind="reactor")
        try:
            scheduler = importlib.import_module("headwater.engine.react.scheduler")
            run = scheduler.run
        except Exception as exc:
            self.missing["scheduler"] = f"{type(exc).__name__}: {exc}"
        else:
            from headwater.engine.leader import lead

            # One scheduler acts among several `up`s on one database; the others stand by.
            self.components.append(
                _Component(
                    "scheduler",
                    lambda stop: lead(inst, "scheduler", stop, lambda resign: run(inst, resign)),
                )
            )
        self.components.append(_Component("reaper", self._reaper))
        from headwater.engine.retention import schedule as gc_schedule

        every = gc_schedule.interval(inst.settings.gc_interval)
        if every is not None:  # one GC among several `up`s, like the scheduler
            from headwater.engine.leader import lead

            self.components.append(
                _Component(
                    "gc",
                    lambda stop: lead(
                        inst,
                        "gc-schedule",
                        stop,
                        lambda resign: gc_schedule.run(inst, resign, every),
                    ),
                )
            )
        self._add_openlineage()

    def _add_openlineage(self) -> None:
        """When export is configured, the leader-only sender of the OpenLineage outbox."""
        settings = self.inst.settings
        if settings.openlineage_url:  # this process's own runs (e.g. cancels) go out too
            os.environ.setdefault("HEADWATER_OPENLINEAGE_URL", settings.openlineage_url)
        try:
            from headwater.integrations.openlineage import config, sender

            if not config.configured(settings):
                return
            out = sender.Sender(self.inst)
        except ImportError as exc:
            self.missing["OpenLineage export"] = (
                f"{exc}; install it with pip install 'headwater[openlineage]'"
            )
            return
        except HeadwaterError as exc:  # e.g. a target it cannot send to
            self.missing["OpenLineage export"] = str(exc)
            return
        self.components.append(_Component("openlineage", lambda s: sender.run_leader(out, s)))

    def _reaper(self, stop: threading.Event) -> None:
        outage = Outage("reaper")
        prune_at = 0.0
        while not stop.wait(REAP_EVERY):
            try:
                if time.monotonic() >= prune_at:  # rows of workers long dead
                    prune_at = time.monotonic() + PRUNE_EVERY
                    with self.inst.db.transaction() as tx:
                        worker_registry.prune_workers(
                            tx, before=time.time() - worker_registry.FORGET_AFTER
                        )
                handled = queue.reap(self.inst)
            except PASSING as exc:  # e.g. PostgreSQL restarting: next second
                outage.failed(exc)
                continue
            outage.ok()
            if handled:
                log.info("reaper: %d execution(s) of lost workers requeued or failed", handled)

    def _guard(self, comp: _Component) -> None:
        """Run a component until stop; if it crashes, log it and start it again."""
        delay = 1.0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                comp.target(self.stop)
            except Exception:
                log.exception("%s crashed", comp.name)
            else:
                if not self.stop.is_set():
                    log.warning("%s returned before stop was requested", comp.name)
            if self.stop.is_set():
                return
            delay = 1.0 if time.monotonic() - started > STABLE_AFTER else min(delay * 2, 30.0)
            log.warning("restarting %s in %.0f s", comp.name, delay)
            self.stop.wait(delay)

    def start_api(self) -> None:
        """Serve the HTTP API in a thread; without the server extra, or when the port is
        taken, say so and run the rest."""
        try:
            server = importlib.import_module("headwater.api.server")
            api = server.ApiServer(self.inst, self.host, self.port, self.live_workers)
            api.start()
        except ImportError as exc:
            self.missing["HTTP API"] = f"{exc}; install it with pip install 'headwater[server]'"
        except Exception as exc:
            self.missing["HTTP API"] = f"{self.host}:{self.port}: {exc}"
        else:
            self.api = api

    def live_workers(self) -> int:
        return sum(1 for s in self.slots if s.proc is not None and s.proc.poll() is None)

    # -- workers -------------------------------------------------------------------------
    def worker_env(self) -> dict[str, str]:
        return {**os.environ, **self.inst.settings.to_env()}

    def children(self) -> list[_Slot]:
        return self.slots + ([self.reactor] if self.reactor is not None else [])

    def _spawn(self, slot: _Slot) -> None:
        if slot.kind == "reactor":
            argv = [sys.executable, "-m", "headwater.daemon.reactor_process"]
        else:
            argv = [sys.executable, "-m", "headwater.daemon.worker", "--lease", repr(self.lease)]
            argv += ["--max-executions", str(self.max_executions)]
            argv += ["--max-memory-mb", str(self.max_memory_mb)]
            argv += self.worker_args
            if self.worker_name:
                argv += ["--name", f"{self.worker_name}-{slot.index}"]
        argv += ["--parent-pid", str(os.getpid())]
        if self.json_logs:
            argv.append("--json-logs")
        self._close_ready(slot)
        ready_r, ready_w = os.pipe()
        argv += ["--ready-fd", str(ready_w)]
        # Own process group: Ctrl-C in a terminal reaches only the supervisor, which then
        # stops the workers gracefully.
        try:
            slot.proc = subprocess.Popen(
                argv,
                env=self.worker_env(),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(ready_w,),
            )
        except OSError:
            os.close(ready_r)
            raise
        finally:
            os.close(ready_w)
        slot.ready_fd = ready_r
        if slot.kind != "worker":
            slot.name = f"pid {slot.proc.pid}"
        elif self.worker_name:
            slot.name = f"{self.worker_name}-{slot.index}"
        else:
            slot.name = default_name(slot.proc.pid)
        slot.started = time.monotonic()

    @staticmethod
    def _close_ready(slot: _Slot) -> None:
        if slot.ready_fd is not None:
            os.close(slot.ready_fd)
            slot.ready_fd = None

    def _await_ready(self, slots: list[_Slot], deadline: float) -> None:
        """Wait until each child has said it handles SIGTERM (or has exited), so that a stop
        right after a start still lets it stop in order."""
        import select

        waiting = {s.ready_fd: s for s in slots if s.ready_fd is not None}
        while waiting and time.monotonic() < deadline and not self.force.is_set():
            ready, _, _ = select.select(list(waiting), [], [], 0.05)
            for fd in ready:
                os.read(fd, 64)  # "ready", or nothing: it exited before it was ready
                self._close_ready(waiting.pop(fd))

    def _release(self, name: str) -> None:
        """A worker process is gone: what it was running is handled now, not at lease end."""
        try:
            if queue.expire_worker(self.inst, name):
                queue.reap(self.inst)
        except Exception:
            log.exception("could not release the executions of worker %s", name)

    def tend_workers(self) -> None:
        """Start missing children; restart exited ones (with backoff when they failed)."""
        now = time.monotonic()
        for slot in self.children():
            if slot.proc is not None:
                code = slot.proc.poll()
                if code is None:
                    continue
                lived = now - slot.started
                if slot.kind == "worker":
                    self._release(slot.name)
                slot.proc = None
                self._close_ready(slot)
                if code == EXIT_SNAPSHOT_CONFLICT and slot.kind == "worker":
                    log.info(
                        "worker %s exited to run another code snapshot; starting a fresh worker",
                        slot.name,
                    )
                    slot.restart_at = now
                elif code == EXIT_RECYCLE and slot.kind == "worker":
                    log.info("worker %s recycled; starting a fresh worker", slot.name)
                    slot.restart_at = now
                else:
                    slot.failures = 1 if lived > STABLE_AFTER else slot.failures + 1
                    delay = min(MAX_BACKOFF, 0.5 * 2 ** (slot.failures - 1))
                    log.warning(
                        "%s %s exited unexpectedly (%s); restarting in %.1f s",
                        slot.kind,
                        slot.name,
                        _describe_exit(code),
                        delay,
                    )
                    slot.restart_at = now + delay
            if slot.proc is None and now >= slot.restart_at and not self.stop.is_set():
                try:
                    self._spawn(slot)
                except OSError as exc:
                    slot.failures += 1
                    slot.restart_at = now + MAX_BACKOFF
                    log.error("could not start the %s: %s", slot.kind, exc)
                    continue
                if slot.failures:
                    log.info("%s %s started (replacing a stopped one)", slot.kind, slot.name)

    def stop_workers(self) -> None:
        """SIGTERM every child, wait up to the grace period, SIGKILL the rest."""
        procs = [s for s in self.children() if s.proc is not None and s.proc.poll() is None]
        deadline = time.monotonic() + self.grace
        self._await_ready(procs, deadline)
        for slot in procs:
            assert slot.proc is not None
            try:
                slot.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        while (
            any(s.proc is not None and s.proc.poll() is None for s in procs)
            and time.monotonic() < deadline
            and not self.force.is_set()
        ):
            time.sleep(0.02)
        for slot in procs:
            assert slot.proc is not None
            if slot.proc.poll() is None:
                log.warning("%s %s did not stop in time; killing it", slot.kind, slot.name)
                try:  # its group: a worker's execution process goes with it
                    os.killpg(slot.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    slot.proc.kill()
            slot.proc.wait()
            self._close_ready(slot)
        for slot in self.slots:
            if slot.name:
                self._release(slot.name)

    # -- the whole ---------------------------------------------------------------------------
    def start_line(self) -> str:
        s = self.inst.settings
        if not self.control_plane:
            return (
                f"headwater worker: database {redact(s.database_url)}; blobs {s.storage_url}; "
                f"{len(self.slots)} worker processes; {' '.join(self.worker_args)}"
            ).rstrip("; ")
        parts = [
            f"database {redact(s.database_url)}",
            f"blobs {s.storage_url}",
            f"{len(self.slots)} worker process{'es' if len(self.slots) != 1 else ''}",
        ]
        if self.reactor is not None:
            parts.append("reactor: running (process)")
        parts += [f"{c.name}: running" for c in self.components if c.name != "reaper"]
        parts += [f"{name}: NOT RUNNING ({why})" for name, why in sorted(self.missing.items())]
        if self.api is not None:
            parts.append(f"HTTP API: {self.api.url}")
        return "headwater up: " + "; ".join(parts)

    def run(self) -> int:
        """Run until ``self.stop`` is set (by a signal or a caller); returns 0."""
        if self.control_plane:
            self.load_components()
            self.record_host()
            self.start_api()
        else:
            self.components.append(_Component("reaper", self._reaper))
        print(self.start_line(), file=self.out, flush=True)
        for name, why in sorted(self.missing.items()):
            log.warning("%s is not available, running without it: %s", name, why)
        for comp in self.components:
            comp.thread = threading.Thread(
                target=self._guard, args=(comp,), name=f"headwater-{comp.name}", daemon=True
            )
            comp.thread.start()
        try:
            while not self.stop.is_set():
                self.tend_workers()
                # Not ``self.stop.wait``: the SIGINT handler sets ``stop`` on this thread, and
                # one landing while ``wait`` holds the event's lock would deadlock on it.
                time.sleep(0.1)
        finally:
            self.stop.set()
            if self.api is not None:
                self.api.stop()
            self.stop_workers()
            for comp in self.components:
                if comp.thread is not None:
                    comp.thread.join(timeout=5)
                    if comp.thread.is_alive():
                        log.warning("%s did not stop within 5 s", comp.name)
            log.info("stopped")
        return 0


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_up(
    inst: Instance,
    *,
    workers: int = 2,
    host: str = "127.0.0.1",
    port: int = 8265,
    lease: float = DEFAULT_LEASE,
    json_logs: bool = False,
    max_executions: int = 0,
    max_memory_mb: int = 0,
) -> int:
    """Run the supervisor in this (main) thread until SIGINT or SIGTERM. Workers are recycled
    after ``max_executions`` executions or above ``max_memory_mb`` MB resident (0: never)."""
    from headwater.daemon.worker import setup_logging

    setup_logging(json_logs)
    sup = Supervisor(
        inst,
        workers=workers,
        host=check_host(host, inst),
        port=port,
        lease=lease,
        json_logs=json_logs,
        max_executions=max_executions,
        max_memory_mb=max_memory_mb,
    )

    return _run_supervised(sup)


def _run_supervised(sup: Supervisor, ready_fd: int | None = None) -> int:
    """Run ``sup`` in this (main) thread until SIGINT or SIGTERM (a second one: stop without
    waiting for running executions)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Runs on the main thread, between two of its steps: it only sets events the main
        # thread never waits on (``Supervisor.run`` sleeps), so no lock can be held here.
        if sup.stop.is_set():
            sup.force.set()  # a second Ctrl-C: do not wait for running executions
            return
        log.info(
            "%s received: stopping (again to stop without waiting)", signal.Signals(signum).name
        )
        sup.stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if ready_fd is not None:
            from headwater.daemon.worker import signal_ready

            signal_ready(ready_fd)
        return sup.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_pool(
    *,
    concurrency: int,
    lease: float = DEFAULT_LEASE,
    name: str | None = None,
    parent_pid: int | None = None,
    max_executions: int | None = None,
    max_memory_mb: int | None = None,
    ready_fd: int | None = None,
    json_logs: bool = False,
    queues: list[str] | None = None,
    grace: float | None = DEFAULT_GRACE,
) -> int:
    """``headwater worker --concurrency N``: N worker processes (each running one execution
    at a time) supervised as ``up`` supervises its own, and a reaper; nothing else of ``up``.
    SIGTERM reaches each worker, which finishes or hands back its execution within ``grace``
    seconds. Returns the exit code (2 for bad settings)."""
    from headwater.daemon.worker import (
        MAX_EXECUTIONS_ENV,
        MAX_MEMORY_ENV,
        limit_from_env,
        shared_storage_problem,
    )
    from headwater.errors import HeadwaterError
    from headwater.instance import Instance
    from headwater.settings import Settings

    try:
        inst = Instance(Settings.from_env())
    except HeadwaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if max_executions is None:
            max_executions = limit_from_env(MAX_EXECUTIONS_ENV)
        if max_memory_mb is None:
            max_memory_mb = limit_from_env(MAX_MEMORY_ENV)
        problem = shared_storage_problem(inst, host_id())
        if problem is not None:
            raise ValueError(problem)
        args: list[str] = []
        for q in queues or []:
            args += ["--queue", q]
        if grace is not None:
            args += ["--grace", repr(grace)]
        sup = Supervisor(
            inst,
            workers=concurrency,
            lease=lease,
            json_logs=json_logs,
            # after SIGTERM a worker has `grace` seconds, then hands its execution back
            grace=(grace if grace is not None else SHUTDOWN_GRACE * 6) + SHUTDOWN_GRACE,
            out=sys.stderr,
            max_executions=max_executions,
            max_memory_mb=max_memory_mb,
            control_plane=False,
            worker_args=args,
            worker_name=name,
        )
        if parent_pid is not None:
            sup.components.append(_Component("parent", _watch_parent(parent_pid)))
    except Exception as exc:
        inst.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return _run_supervised(sup, ready_fd)
    finally:
        inst.close()


def _watch_parent(parent_pid: int) -> Callable[[threading.Event], None]:
    """A component that stops the pool when ``parent_pid`` is no longer its parent."""

    def watch(stop: threading.Event) -> None:
        while not stop.wait(0.5):
            if os.getppid() != parent_pid:
                log.info("parent process %s is gone, stopping", parent_pid)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    return watch
