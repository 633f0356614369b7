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
from headwater.engine import queue, snapshots
from headwater.engine.worker import EXIT_SNAPSHOT_CONFLICT, default_name
from headwater.errors import NotFoundError
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import entities as entity_rows
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
    """Start ``python -m headwater.engine.worker`` for an instance; all are killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(inst: Instance, *args: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(
            HEADWATER_HOME=str(inst.settings.home),
            HEADWATER_DATABASE_URL=inst.settings.database_url,
            HEADWATER_STORAGE_URL=inst.settings.storage_url,
        )
        log = open(tmp_path / f"worker-{len(procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.engine.worker", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        procs.append(proc)
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
    return row if row["status"] in ("succeeded", "failed") else None


def output(inst: Instance, row: Any) -> Any:
    assert row["status"] == "succeeded", row["error"]
    return decode(json.loads(row["outputs"])["o0"], int, inst.blobs)


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
    assert row["worker"] and row["attempts"] == 1 and row["lease_expires_at"] is None
    assert (Path(instance.settings.home) / "code" / reg.snapshot / path.name).is_file()

    failed = get(instance, bad)  # a load error fails that execution, not the worker
    assert failed["status"] == "failed"
    error = json.loads(failed["error"])
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
    assert get(inst, eid)["status"] == "running"
    first.kill()
    first.wait(timeout=10)
    # Its lease runs out without heartbeats; the reaper puts the execution back in the queue.
    wait_for(lambda: queue.reap(inst), "the reaper to requeue the execution", tmp_path)
    row = get(inst, eid)
    assert row["status"] == "queued" and row["attempts"] == 1
    second = workers(inst, "--lease", "0.6")
    row = wait_for(lambda: ended(inst, eid), "the retry to end", tmp_path)
    assert output(inst, row) == 15 and row["attempts"] == 2
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
    idle = workers(inst)
    time.sleep(0.3)
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
    b = enqueue(inst, reg_b, 1)
    first = workers(inst)
    assert first.wait(timeout=20) == EXIT_SNAPSHOT_CONFLICT, logs(tmp_path)
    assert output(inst, get(inst, a)) == 2
    row = get(inst, b)
    assert row["status"] == "queued" and row["attempts"] == 0 and row["worker"] is None
    workers(inst)
    assert output(inst, wait_for(lambda: ended(inst, b), "b to end", tmp_path)) == 5


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
            entity_rows.insert_snapshot(
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
