"""Starting and stopping real Headwater processes in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> set[int]:
    """Live child processes of ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def workers_of(pid: int) -> set[int]:
    """The worker processes of the ``headwater up`` with this pid."""
    return {c for c in children(pid) if "headwater.daemon.worker" in cmdline(c)}


def reactor_of(pid: int) -> int | None:
    """The reactor process of the ``headwater up`` with this pid (None while it restarts)."""
    found = [c for c in children(pid) if "headwater.daemon.reactor_process" in cmdline(c)]
    return found[0] if found else None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def enqueue(inst: Any, reg: Any, x: int, version: str | None = None, max_attempts: int = 1) -> str:
    """Queue an execution of registered workflow ``reg`` with input ``x`` directly."""
    import time as _time

    from headwater.engine.execute.runner import new_execution_id
    from headwater.storage import executions as rows
    from headwater.types import encode

    eid = new_execution_id()
    with inst.db.transaction() as tx:
        rows.insert_execution(
            tx,
            id=eid,
            project=reg.project,
            domain=reg.domain,
            workflow=reg.name,
            workflow_version=version or reg.version,
            status="queued",
            inputs={"x": encode(x, int, inst.blobs)},
            resolved={},
            created_at=_time.time(),
            max_attempts=max_attempts,
        )
    return eid


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = 30, logs: Callable[[], str] = lambda: ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs()}")


def headwater_env(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(
        HEADWATER_HOME=str(home),
        HEADWATER_DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    return env


class Up:
    """A running ``headwater up``; ``.log()`` reads what it printed."""

    def __init__(self, env: dict[str, str], log: Path, workers: int) -> None:
        self.log_path = log
        self._log = log.open("ab")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headwater.cli",
                "up",
                "--workers",
                str(workers),
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def workers(self) -> set[int]:
        return workers_of(self.proc.pid)

    def reactor(self) -> int | None:
        """The pid of the reactor process ``up`` supervises (None while it is restarting)."""
        return reactor_of(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL ``up`` and its children, as a crash would."""
        pids = children(self.proc.pid)
        self.proc.kill()
        self.proc.wait(10)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
        return self.proc.returncode


@contextmanager
def running_up(env: dict[str, str], log: Path, workers: int = 2) -> Iterator[Up]:
    up = Up(env, log, workers)
    try:
        yield up
    finally:
        if up.proc.poll() is None:
            up.kill()
        else:
            up._log.close()


def wait_healthy(url: str, logs: Callable[[], str], timeout: float = 60) -> None:
    """Wait until the HTTP API at ``url`` answers ``GET /healthz`` with 200."""
    import httpx

    def healthy() -> bool:
        try:
            return httpx.get(url + "/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, "GET /healthz", timeout=timeout, logs=logs)
