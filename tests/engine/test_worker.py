"""Worker processes run claimed executions from their registered code snapshots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.daemon.worker import EXIT_SNAPSHOT_CONFLICT, default_name
from headwater.engine.execute import queue
from headwater.engine.register import snapshots
from headwater.errors import NotFoundError
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import code_snapshots
from headwater.storage import executions as rows
from headwater.types import decode
from tests import _procs

MODULE = """
import os
import time
from pathlib import Path

from headwater import task, workflow

FLAG = Path({flag!r})


@task(retries={retries})
def scale(x: int) -> int:
    if FLAG.name != "none" and not FLAG.exists():  # the first attempt hangs here
        FLAG.write_text(str(os.getpid()))
        time.sleep({sleep})
    return x * {factor}


@workflow
def wf(x: int = 1) -> int:
    if {sleep_in_body} and not FLAG.exists():
        FLAG.write_text(str(os.getpid()))
        time.sleep({sleep})
    return scale(x=x)
"""


@pytest.fixture
def sqlite_instance(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance(Settings.from_env({}, home=tmp_path / "home"))
    with inst.use():
        yield inst
    inst.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``python -m headwater.daemon.worker`` for an instance; all are killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(inst: Instance, *args: str, ready: bool = True) -> subprocess.Popen[bytes]:
        """Start a worker; with ``ready``, return once it handles SIGTERM (--ready-fd)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(
            HEADWATER_HOME=str(inst.settings.home),
            HEADWATER_DATABASE_URL=inst.settings.database_url,
            HEADWATER_STORAGE_URL=inst.settings.storage_url,
        )
        log = open(tmp_path / f"worker-{len(procs)}.log", "wb")  # noqa: SIM115
        ready_r, ready_w = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.daemon.worker", "--ready-fd", str(ready_w), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(ready_w,),
        )
        os.close(ready_w)
        log.close()
        procs.append(proc)
        with os.fdopen(ready_r, "rb") as pipe:
            if ready:  # blocks until the line, or EOF if the worker died first
                assert pipe.readline() == b"ready\n", logs(tmp_path)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker-*.log")))


def wait_for(check: Callable[[], Any], what: str, tmp_path: Path, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n{logs(tmp_path)}")


def write_module(
    folder: Path,
    factor: int,
    flag: Path | None = None,
    sleep: float = 0,
    sleep_in_body: bool = False,
    name: str | None = None,
    retries: int = 0,
) -> Path:
    name = name or f"hw_worker_{uuid.uuid4().hex[:10]}"
    path = folder / f"{name}.py"
    path.write_text(
        textwrap.dedent(
            MODULE.format(
                flag=str(flag or folder / "none"),
                sleep=sleep,
                factor=factor,
                sleep_in_body=sleep_in_body,
                retries=retries,
            )
        )
    )
    return path


def register(path: Path) -> Any:
    regs = headwater.register(path)
    sys.modules.pop(path.stem, None)  # the test process keeps no copy: workers import it
    return next(r for r in regs if getattr(r, "name", "").endswith(".wf"))


def enqueue(
    inst: Instance, reg: Any, x: int, version: str | None = None, max_attempts: int = 1
) -> str:
    return _procs.enqueue(inst, reg, x, version, max_attempts)


def get(inst: Instance, eid: str) -> Any:
    with inst.db.read() as tx:
        return rows.get_execution(tx, eid)


def ended(inst: Instance, eid: str) -> Any:
    row = get(inst, eid)
    return row if row.status in ("succeeded", "failed") else None


def output(inst: Instance, row: Any) -> Any:
    assert row.status == "succeeded", row.error
    return decode(json.loads(row.outputs)["o0"], int, inst.blobs)


def test_worker_runs_the_registered_snapshot(
    instance: Instance, tmp_path: Path, workers: Any
) -> None:
    path = write_module(tmp_path, factor=2)
    reg = register(path)
    path.write_text(path.read_text().replace("x * 2", "x * 1000"))  # edited, not registered
    bad = enqueue(instance, reg, 1, version="0" * 20)
    good = enqueue(instance, reg, 21)
    proc = workers(instance)
    row = wait_for(lambda: ended(instance, good), "the execution to end", tmp_path)
    assert output(instance, row) == 42  # the snapshot's x * 2, not the file's x * 1000
    assert row.worker and row.attempts == 1 and row.lease_expires_at is None
    assert (Path(instance.settings.home) / "code" / reg.snapshot / path.name).is_file()

    failed = get(instance, bad)  # a load error fails that execution, not the worker
    assert failed.status == "failed"
    error = json.loads(failed.error)
    assert error["type"] == "NotFoundError" and "is not registered" in error["message"]
    assert proc.poll() is None

    with instance.db.read() as tx:
        names = [
            r["name"]
            for r in tx.all(
                "SELECT name FROM events WHERE subject = :id ORDER BY seq", {"id": good}
            )
        ]
    assert names == ["headwater.execution.started", "headwater.execution.succeeded"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def _kill_and_recover(inst: Instance, tmp_path: Path, workers: Any, *, in_task: bool) -> None:
    flag = tmp_path / "started.flag"
    # A kill inside the task retries as often as that task's retries allow (1 here); outside
    # a task, as the launch plan allows (max_attempts=2 below).
    path = write_module(
        tmp_path, factor=3, flag=flag, sleep=60, sleep_in_body=not in_task, retries=1
    )
    if not in_task:  # the task itself must not hang then
        path.write_text(path.read_text().replace('FLAG.name != "none"', "False"))
    reg = register(path)
    eid = enqueue(inst, reg, 5, max_attempts=2)
    first = workers(inst, "--lease", "0.6")
    wait_for(flag.exists, "user code to start", tmp_path)
    assert get(inst, eid).status == "running"
    first.kill()
    first.wait(timeout=10)
    # Its lease runs out without heartbeats; the reaper puts the execution back in the queue.
    wait_for(lambda: queue.reap(inst), "the reaper to requeue the execution", tmp_path)
    row = get(inst, eid)
    assert row.status == "queued" and row.attempts == 1
    second = workers(inst, "--lease", "0.6")
    row = wait_for(lambda: ended(inst, eid), "the retry to end", tmp_path)
    assert output(inst, row) == 15 and row.attempts == 2
    with inst.db.read() as tx:
        statuses = [r["status"] for r in tx.all("SELECT status FROM executions")]
        retrying = tx.all(
            "SELECT payload FROM events WHERE name = :n", {"n": queue.EXECUTION_RETRYING}
        )
    assert statuses == ["succeeded"]
    assert len(retrying) == 1
    reason = json.loads(retrying[0]["payload"])["reason"]
    assert reason == f"worker {default_name(first.pid)} stopped heartbeating"
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0


def test_killed_worker_execution_is_retried_by_another(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    _kill_and_recover(sqlite_instance, tmp_path, workers, in_task=False)


def test_worker_killed_inside_a_task_is_retried(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    _kill_and_recover(sqlite_instance, tmp_path, workers, in_task=True)


def test_sigterm_finishes_the_current_execution_then_exits(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    inst = sqlite_instance
    idle = workers(inst)  # returns once the worker said it handles SIGTERM: no sleep, no race
    idle.send_signal(signal.SIGTERM)
    assert idle.wait(timeout=10) == 0

    flag = tmp_path / "busy.flag"
    reg = register(write_module(tmp_path, factor=2, flag=flag, sleep=1))
    eid = enqueue(inst, reg, 4)
    busy = workers(inst)
    wait_for(flag.exists, "user code to start", tmp_path)
    busy.send_signal(signal.SIGTERM)
    assert busy.wait(timeout=15) == 0
    assert output(inst, get(inst, eid)) == 8


def test_snapshot_conflict_hands_the_execution_to_a_fresh_worker(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    inst = sqlite_instance
    name = f"hw_worker_{uuid.uuid4().hex[:10]}"
    reg_a = register(write_module(tmp_path, factor=2, name=name))
    reg_b = register(write_module(tmp_path, factor=5, name=name))
    assert reg_a.version != reg_b.version and reg_a.snapshot != reg_b.snapshot
    a = enqueue(inst, reg_a, 1)
    a2 = enqueue(inst, reg_a, 2)
    b = enqueue(inst, reg_b, 1)
    # The process that runs a and a2 imports snapshot A's module, so it cannot import B's: it
    # puts b back (uncounted) and the worker, which holds A too, exits for a fresh one. (The
    # next process in line, forked before A was imported, may run b meanwhile.)
    first = workers(inst)
    assert first.wait(timeout=20) == EXIT_SNAPSHOT_CONFLICT, logs(tmp_path)
    assert output(inst, get(inst, a)) == 2 and output(inst, get(inst, a2)) == 4
    assert "snapshot" in logs(tmp_path) and "needs a fresh process" in logs(tmp_path)
    row = get(inst, b)
    if row.status == "queued":
        assert row.attempts == 0 and row.worker is None
        workers(inst)
    row = wait_for(lambda: ended(inst, b), "b to end", tmp_path)
    assert output(inst, row) == 5 and row.attempts == 1  # B's code; the conflict not counted


# -- supervision: timeouts, cancel, isolation, recycling -------------------------------------

SUPERVISED = """
import os
import time
from datetime import timedelta
from pathlib import Path

from headwater import task, workflow

FLAG = Path({flag!r})
CALLS = []


@task(timeout=timedelta(seconds=0.5), retries=1)
def stubborn(x: int) -> int:
    FLAG.write_text(str(os.getpid()))
    while True:  # catches its own TaskTimeoutError and goes on
        try:
            time.sleep(0.05)
        except BaseException:
            pass


@task
def hang(x: int) -> int:
    FLAG.write_text(str(os.getpid()))
    time.sleep(60)
    return x


@task(retries=3)
def patient(x: int) -> int:
    return x


@task
def count(x: int) -> int:
    CALLS.append(x)  # a module global: each execution must start from the imported state
    return len(CALLS)


@workflow
def timeout_wf(x: int = 1) -> int:
    return stubborn(x=x)


@workflow
def hang_wf(x: int = 1) -> int:
    return hang(x=patient(x=x))


@task
def pid(x: int) -> int:
    return os.getpid()


@workflow
def count_wf(x: int = 1) -> int:
    return count(x=x)


@workflow
def pid_wf(x: int = 1) -> int:
    return pid(x=x)
"""


def supervised(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    flag = tmp_path / "supervised.flag"
    path = tmp_path / f"hw_sup_{uuid.uuid4().hex[:10]}.py"
    path.write_text(SUPERVISED.format(flag=str(flag)))
    regs = {
        r.name.rsplit(".", 1)[1]: r
        for r in headwater.register(path)
        if getattr(r, "kind", "") == "workflow"
    }
    sys.modules.pop(path.stem, None)
    return regs, flag


def events_of(inst: Instance, eid: str) -> list[tuple[str, dict[str, Any]]]:
    with inst.db.read() as tx:
        found = tx.all(
            "SELECT name, payload FROM events WHERE subject = :id ORDER BY seq", {"id": eid}
        )
    return [(r["name"], json.loads(r["payload"])) for r in found]


def nodes_of(inst: Instance, eid: str) -> list[Any]:
    with inst.db.read() as tx:
        return tx.all(
            "SELECT name, status, error FROM node_executions WHERE execution_id = :id ORDER BY id",
            {"id": eid},
        )


def test_a_task_that_catches_its_timeout_is_killed_and_retried_per_its_retries(
    instance: Instance, tmp_path: Path, workers: Any
) -> None:
    regs, flag = supervised(tmp_path)
    # The queue's budget says 1 attempt; the task's retries=1 decide: 2 attempts.
    eid = enqueue(instance, regs["timeout_wf"], 1, max_attempts=1)
    later = enqueue(instance, regs["count_wf"], 7)
    proc = workers(instance)
    row = wait_for(lambda: ended(instance, eid), "the timed-out execution to fail", tmp_path, 40)
    assert row.status == "failed" and row.attempts == 2, (row.error, logs(tmp_path))
    error = json.loads(row.error)
    assert error["type"] == "TaskTimeoutError", error
    assert "timeout of 0.5 s" in error["message"] and "did not stop" in error["message"]
    nodes = nodes_of(instance, eid)
    assert [n["status"] for n in nodes] == ["failed", "failed"]
    assert {json.loads(n["error"])["type"] for n in nodes} == {"TaskTimeoutError"}
    names = [name for name, _ in events_of(instance, eid)]
    assert names == [
        "headwater.execution.started",
        "headwater.execution.retrying",
        "headwater.execution.started",
        "headwater.execution.failed",
    ]
    assert not _procs.alive(int(flag.read_text()))  # the task's process was killed
    # The worker was not stalled: it goes on with the next execution.
    assert output(instance, wait_for(lambda: ended(instance, later), "next", tmp_path)) == 1
    assert proc.poll() is None


def test_cancel_stops_a_running_execution_for_real(
    instance: Instance, tmp_path: Path, workers: Any
) -> None:
    regs, flag = supervised(tmp_path)
    eid = enqueue(instance, regs["hang_wf"], 1)
    proc = workers(instance)
    task_pid = int(wait_for(lambda: flag.exists() and flag.read_text(), "the task", tmp_path))
    ex = headwater.cancel(eid)
    assert ex.status.value == "cancelled"
    wait_for(lambda: not _procs.alive(task_pid), "the task's process to be killed", tmp_path)
    row = get(instance, eid)
    assert row.status == "cancelled" and json.loads(row.error)["type"] == "Cancelled"
    assert [n["status"] for n in nodes_of(instance, eid)] == ["succeeded", "cancelled"]
    events = events_of(instance, eid)
    assert [(n, p.get("status")) for n, p in events] == [
        ("headwater.execution.started", None),
        ("headwater.execution.failed", "cancelled"),
    ]
    later = enqueue(instance, regs["count_wf"], 1)
    assert output(instance, wait_for(lambda: ended(instance, later), "next", tmp_path)) == 1
    assert proc.poll() is None


def test_one_execution_per_process_starts_from_fresh_module_state(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    inst = sqlite_instance
    regs, _ = supervised(tmp_path)
    ids = [enqueue(inst, regs["count_wf"], i) for i in range(3)]
    workers(inst, "--max-executions", "1")
    results = [output(inst, wait_for(lambda e=e: ended(inst, e), e, tmp_path)) for e in ids]
    assert results == [1, 1, 1]  # not 1, 2, 3: nothing carried over between executions


def test_a_lost_worker_retries_as_the_running_task_allows(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    inst = sqlite_instance
    regs, flag = supervised(tmp_path)
    # 4 attempts is what the module's most patient task (retries=3) would give; the worker is
    # lost inside `hang` (retries=0), so the execution is not retried.
    eid = enqueue(inst, regs["hang_wf"], 1, max_attempts=4)
    first = workers(inst, "--lease", "0.6")
    task_pid = int(wait_for(lambda: flag.exists() and flag.read_text(), "the task", tmp_path))
    first.kill()
    first.wait(timeout=10)
    wait_for(lambda: queue.reap(inst), "the reaper", tmp_path)
    row = get(inst, eid)
    assert row.status == "failed" and row.attempts == 1
    assert json.loads(row.error)["type"] == "WorkerLost"
    wait_for(lambda: not _procs.alive(task_pid), "the orphaned task process to exit", tmp_path)


def test_execution_processes_are_recycled_after_max_executions_and_memory(
    sqlite_instance: Instance, tmp_path: Path, workers: Any
) -> None:
    inst = sqlite_instance
    regs, _ = supervised(tmp_path)

    def pids(*args: str) -> list[int]:
        ids = [enqueue(inst, regs["pid_wf"], i) for i in range(5)]
        proc = workers(inst, *args)
        found = [output(inst, wait_for(lambda e=e: ended(inst, e), e, tmp_path)) for e in ids]
        assert proc.pid not in found and proc.poll() is None  # the worker itself stays
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, logs(tmp_path)
        return found

    a, b, c, d, e = pids("--max-executions", "2")
    assert a == b != c == d != e and len({a, c, e}) == 3
    assert len(set(pids("--max-memory-mb", "1"))) == 5  # every Python process is above 1 MB
    assert "recycled (ran 2 executions, the most per process)" in logs(tmp_path)


def test_worker_limits_from_the_environment_are_checked() -> None:
    from headwater.daemon.worker import MAX_EXECUTIONS_ENV, limit_from_env
    from headwater.errors import UserInputError

    assert limit_from_env(MAX_EXECUTIONS_ENV, {}) == 0
    assert limit_from_env(MAX_EXECUTIONS_ENV, {MAX_EXECUTIONS_ENV: "25"}) == 25
    for bad in ("-1", "lots", "1.5"):
        with pytest.raises(UserInputError, match=f"{MAX_EXECUTIONS_ENV}=.* whole number"):
            limit_from_env(MAX_EXECUTIONS_ENV, {MAX_EXECUTIONS_ENV: bad})


# -- snapshots, in this process ---------------------------------------------------------------


def test_load_entity_imports_from_the_snapshot_and_refuses_mixing(
    sqlite_instance: Instance, tmp_path: Path
) -> None:
    inst = sqlite_instance
    name = f"hw_snap_{uuid.uuid4().hex[:10]}"
    reg_a = register(write_module(tmp_path, factor=2, name=name))
    reg_b = register(write_module(tmp_path, factor=7, name=name))
    try:
        entity = snapshots.load_entity(inst, reg_a.project, reg_a.domain, reg_a.name, reg_a.version)
        assert entity.name == reg_a.name and entity.fn(x=3) == 6
        module_file = Path(sys.modules[name].__file__ or "")
        assert module_file.parent == Path(inst.settings.home) / "code" / reg_a.snapshot
        again = snapshots.load_entity(inst, reg_a.project, reg_a.domain, reg_a.name, reg_a.version)
        assert again is entity
        with pytest.raises(snapshots.SnapshotConflict, match=name):
            snapshots.load_entity(inst, reg_b.project, reg_b.domain, reg_b.name, reg_b.version)
        with pytest.raises(NotFoundError, match="is not registered"):
            snapshots.load_entity(inst, reg_a.project, reg_a.domain, reg_a.name, "nope")
    finally:
        sys.modules.pop(name, None)
        snapshots.forget()


def test_a_module_name_taken_outside_snapshots_fails_clearly(
    sqlite_instance: Instance, tmp_path: Path
) -> None:
    inst = sqlite_instance
    name = f"hw_taken_{uuid.uuid4().hex[:10]}"
    reg = register(write_module(tmp_path, factor=2, name=name))
    fake = types.ModuleType(name)
    fake.__file__ = "/usr/lib/python3/site-packages/somewhere.py"
    sys.modules[name] = fake  # as if an installed package had this name
    try:
        with pytest.raises(snapshots.SnapshotError, match="is taken by") as info:
            snapshots.load_entity(inst, reg.project, reg.domain, reg.name, reg.version)
        assert not isinstance(info.value, snapshots.SnapshotConflict)  # no retry loop
    finally:
        sys.modules.pop(name, None)
        snapshots.forget()


def test_snapshot_paths_must_stay_inside(sqlite_instance: Instance) -> None:
    inst = sqlite_instance
    for i, rel in enumerate(["../evil.py", "/tmp/evil.py", "a/../../evil.py"]):
        bundle = json.dumps({"root": "x", "files": {rel: "print('hi')"}}).encode()
        digest = f"{i:064x}"
        with inst.db.transaction() as tx:
            code_snapshots.insert_snapshot(
                tx,
                digest=digest,
                blob_key=inst.blobs.put_bytes(bundle),
                root="x",
                files=1,
                size=len(bundle),
                now=time.time(),
            )
        with pytest.raises(snapshots.SnapshotError, match="refusing the snapshot path"):
            snapshots.materialize(inst, digest)
        assert not (Path(inst.settings.home) / "code" / digest).exists()
    code = Path(inst.settings.home) / "code"
    assert not code.exists() or not list(code.iterdir())
