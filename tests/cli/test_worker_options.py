"""``headwater worker --queue/--concurrency/--once/--grace`` as real processes, the host check,
and ``headwater up --workers 0`` (the control plane alone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.daemon.worker import host_id
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows
from headwater.storage import worker_registry
from tests import _procs

FLOW = """
import os
import time
from pathlib import Path

from headwater import task, workflow

MARKS = Path(os.environ.get("HW_TEST_MARKS", "."))


@task
def nap(x: int) -> int:
    (MARKS / f"start-{x}").write_text(str(os.getpid()))
    if (MARKS / "slow").exists():
        time.sleep(120)
    time.sleep(x / 10)
    return x


@workflow
def wf(x: int = 1) -> int:
    return nap(x=x)
"""


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.marks = tmp_path / "marks"
        self.marks.mkdir()
        self.url = f"sqlite:///{tmp_path}/hw.db"
        flow = tmp_path / "flows" / "worker_options_flow.py"
        flow.parent.mkdir()
        flow.write_text(textwrap.dedent(FLOW))
        self.inst = Instance(Settings.from_env({}, home=self.home, database_url=self.url))
        with self.inst.use():
            self.reg = next(
                r for r in headwater.register(flow) if getattr(r, "kind", "") == "workflow"
            )
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = _procs.headwater_env(self.home, self.url)
        env["HW_TEST_MARKS"] = str(self.marks)
        env.update(extra)
        return env

    def enqueue(self, x: int, queue: str = "default") -> str:
        eid = _procs.enqueue(self.inst, self.reg, x)
        with self.inst.db.transaction() as tx:
            rows.update_execution(tx, eid, queue=queue)
        return eid

    def start(self, *argv: str, ready: bool = True) -> subprocess.Popen[bytes]:
        """Start a process; with ``ready`` (a worker), return once it handles SIGTERM."""
        log = self.tmp / f"proc-{len(self.procs)}.log"
        self.logs.append(log)
        ready_r, ready_w = os.pipe() if ready else (-1, -1)
        extra = ["--ready-fd", str(ready_w)] if ready else []
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "headwater.cli", *argv, *extra],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(ready_w,) if ready else (),
                cwd=self.tmp,
            )
        if ready:
            os.close(ready_w)
            with os.fdopen(ready_r, "rb") as pipe:
                pipe.readline()  # "ready", or nothing if it exited first
        self.procs.append(proc)
        return proc

    def log(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in self.logs)

    def row(self, eid: str) -> Any:
        with self.inst.db.read() as tx:
            return rows.get_execution(tx, eid)

    def nodes(self, eid: str) -> list[Any]:
        with self.inst.db.read() as tx:
            return node_rows.list_nodes(tx, eid)

    def ended(self, *ids: str) -> Callable[[], list[Any] | None]:
        def check() -> list[Any] | None:
            found = [self.row(e) for e in ids]
            return found if all(r.status in ("succeeded", "failed") for r in found) else None

        return check

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.inst.close()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    try:
        yield s
    finally:
        s.close()


def run_cli(setup: Setup, *argv: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli", *argv],
        env=env or setup.env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=setup.tmp,
    )


def test_once_runs_one_execution_of_its_queues_and_exits_0(setup: Setup) -> None:
    first, second = setup.enqueue(1), setup.enqueue(2)
    on_gpu = setup.enqueue(3, queue="gpu")
    done = run_cli(setup, "worker", "--once", "--name", "once")
    assert done.returncode == 0, done.stderr
    statuses = [setup.row(e).status for e in (first, second, on_gpu)]
    assert statuses == ["succeeded", "queued", "queued"]
    done = run_cli(setup, "worker", "--once", "--queue", "gpu")
    assert done.returncode == 0, done.stderr
    assert setup.row(on_gpu).status == "succeeded"
    done = run_cli(setup, "worker", "--once", "--queue", "gpu")
    assert done.returncode == 0, done.stderr
    assert "nothing queued on gpu" in done.stderr
    assert setup.row(second).status == "queued"


def test_bad_worker_options_exit_2_naming_the_option(setup: Setup) -> None:
    done = run_cli(setup, "worker", "--queue", "gpu queue")
    assert done.returncode == 2 and "'--queue'" in done.stderr and "not a queue name" in done.stderr
    done = run_cli(setup, "worker", "--once", "--concurrency", "2")
    assert done.returncode == 2
    assert "--once runs a single execution; it cannot be combined with --concurrency 2" in (
        done.stderr
    )
    done = run_cli(setup, "worker", "--concurrency", "0")
    assert done.returncode == 2 and "'--concurrency'" in done.stderr


def test_sigterm_lets_the_execution_finish_within_the_grace_period(setup: Setup) -> None:
    eid = setup.enqueue(15)  # 1.5 s
    proc = setup.start("worker", "--grace", "60", "--name", "patient")
    _procs.wait_for(
        lambda: (setup.marks / "start-15").exists(), "the task to start", logs=setup.log
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, setup.log()
    row = setup.row(eid)
    assert (row.status, row.attempts) == ("succeeded", 1)


def test_sigterm_hands_the_execution_back_after_the_grace_period(setup: Setup) -> None:
    (setup.marks / "slow").write_text("")
    eid = setup.enqueue(7)
    proc = setup.start("worker", "--grace", "0.5", "--name", "leaving")
    _procs.wait_for(lambda: (setup.marks / "start-7").exists(), "the task to start", logs=setup.log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, setup.log()
    assert "handed back to the queue" in setup.log()
    row = setup.row(eid)
    assert (row.status, row.worker, row.attempts) == ("queued", None, 0)
    [node] = setup.nodes(eid)
    assert node.status == "failed" and '"WorkerStopped"' in node.error
    with setup.inst.db.read() as tx:
        reasons = [
            r["payload"]
            for r in tx.all(
                "SELECT payload FROM events WHERE name = 'headwater.execution.retrying'"
            )
        ]
    assert len(reasons) == 1 and "grace period ended" in reasons[0]
    # another worker takes it at once (no lease to wait out) and runs it to its end
    (setup.marks / "slow").unlink()
    done = run_cli(setup, "worker", "--once", "--name", "next")
    assert done.returncode == 0, done.stderr
    row = setup.row(eid)
    assert (row.status, row.worker, row.attempts) == ("succeeded", "next", 1)
    assert [n.status for n in setup.nodes(eid)] == ["failed", "succeeded"]


def test_concurrency_runs_executions_side_by_side(setup: Setup) -> None:
    ids = [setup.enqueue(20), setup.enqueue(21)]  # about 2 s each
    proc = setup.start("worker", "--concurrency", "2", "--name", "pool")
    found = _procs.wait_for(setup.ended(*ids), "both executions", timeout=60, logs=setup.log)
    assert [r.status for r in found] == ["succeeded", "succeeded"], setup.log()
    assert {r.worker for r in found} == {"pool-0", "pool-1"}
    [a], [b] = setup.nodes(ids[0]), setup.nodes(ids[1])
    assert max(a.started_at, b.started_at) < min(a.finished_at, b.finished_at)  # they overlapped
    workers = _procs.workers_of(proc.pid)
    assert len(workers) == 2
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, setup.log()
    assert not [pid for pid in workers if _procs.alive(pid)]


def test_a_worker_on_another_host_refuses_local_files(setup: Setup) -> None:
    with setup.inst.db.transaction() as tx:
        worker_registry.record_server_host(
            tx, host="server-a", database=setup.url, storage="blobs", now=1.0
        )
    for argv in (("worker",), ("worker", "--concurrency", "2")):
        done = run_cli(setup, *argv, env=setup.env(HEADWATER_HOST_ID="machine-b"))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(
            "error: this worker runs on host 'machine-b' but `headwater up` runs on 'server-a'"
        )
        assert "set HEADWATER_DATABASE_URL to a PostgreSQL database" in done.stderr
        assert "set HEADWATER_STORAGE_URL to an object store" in done.stderr
    # the same host (declared so) runs
    eid = setup.enqueue(1)
    done = run_cli(setup, "worker", "--once", env=setup.env(HEADWATER_HOST_ID="server-a"))
    assert done.returncode == 0, done.stderr
    assert setup.row(eid).status == "succeeded"


def test_up_with_no_workers_runs_the_control_plane_alone(setup: Setup) -> None:
    port = _procs.free_port()
    up = setup.start("up", "--workers", "0", "--port", str(port), ready=False)
    _procs.wait_for(lambda: "0 worker processes" in setup.log(), "the start line", logs=setup.log)
    assert "reactor: running" in setup.log() and "HTTP API" in setup.log()
    with setup.inst.db.read() as tx:
        server = worker_registry.server_host(tx)
    assert server is not None and server.host == host_id()
    assert not _procs.workers_of(up.pid)
    eid = setup.enqueue(1)
    shown = run_cli(setup, "executions", "show", eid)
    assert shown.returncode == 0, shown.stderr
    assert "queued on 'default': no worker serves it" in shown.stdout
    assert setup.row(eid).status == "queued"
    # a worker started on its own (here: once) runs what the control plane queued
    done = run_cli(setup, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert setup.row(eid).status == "succeeded"
    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=30) == 0, setup.log()
