"""``headwater worker --executor dask://``: whole triggered executions run as tasks of a real
Dask cluster (a scheduler and two worker processes); the Headwater worker keeps their leases
and every execution and node is recorded once, as in a local run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.engine.react.reactor import Reactor
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows
from tests import _procs

pytest.importorskip("distributed")

BURST = 8

FLOW = """
import os
import time
from pathlib import Path

import headwater
from headwater import LaunchPlan, OnEvent, task, workflow


@task
def square(x: int, folder: str) -> int:
    (Path(folder) / f"{x}-{os.getpid()}-{time.monotonic_ns()}").touch()
    time.sleep(0.4)
    return x * x


@workflow
def on_dask(x: int = 0, folder: str = ".") -> int:
    return square(x=x, folder=folder)


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@workflow
def napping(seconds: float = 60.0) -> float:
    return nap(seconds=seconds)


on_dask_nap = LaunchPlan.create(
    "on_dask_nap", napping, trigger=OnEvent("dask.nap", parameters=["seconds"]), auto_activate=True
)

@workflow
def mapped(n: int = 4) -> list[float]:
    # the items run in a local process pool started inside the Dask worker process
    return headwater.map(nap, [0.01 * i for i in range(n)])


on_dask_map = LaunchPlan.create(
    "on_dask_map", mapped, trigger=OnEvent("dask.map", parameters=["n"]), auto_activate=True
)

on_dask_tick = LaunchPlan.create(
    "on_dask_tick",
    on_dask,
    trigger=OnEvent("dask.tick", parameters=["x", "folder"]),
    auto_activate=True,
)
"""


@pytest.fixture
def instance(postgres_url: str, tmp_path: Path) -> Iterator[Instance]:
    inst = Instance(
        Settings.from_env({}, home=tmp_path / "author" / "home", database_url=postgres_url)
    )
    with inst.use():
        yield inst
    inst.close()


def _worker(tmp_path: Path, inst: Instance, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "worker.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(
        HEADWATER_HOME=str(tmp_path / "worker-home"),
        HEADWATER_DATABASE_URL=inst.settings.database_url,
        HEADWATER_STORAGE_URL=inst.settings.storage_url,
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.cli", "worker", "--name", "hw-dask", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def test_a_burst_of_firings_spreads_over_the_dask_cluster(
    cluster: str, instance: Instance, tmp_path: Path
) -> None:
    from distributed import Client

    marks = tmp_path / "marks"
    marks.mkdir()
    flow = tmp_path / "author" / "dask_burst_flow.py"
    flow.write_text(textwrap.dedent(FLOW))
    headwater.register(flow, activate=True)
    for x in range(BURST):
        headwater.emit_event("dask.tick", {"x": x, "folder": str(marks)})
    while Reactor(instance).run_once():
        pass

    def executions() -> list[Any]:
        with instance.db.read() as tx:
            return rows.list_executions(tx, launch_plan="on_dask_tick", limit=100)

    assert [r.status for r in executions()] == ["queued"] * BURST
    proc, log = _worker(tmp_path, instance, "--executor", cluster, "--lease", "5")
    try:

        def ended() -> list[Any] | None:
            found = executions()
            return found if all(r.status in ("succeeded", "failed") for r in found) else None

        found = _procs.wait_for(ended, "the burst to end", timeout=120, logs=log.read_text)
        assert [r.status for r in found] == ["succeeded"] * BURST, [r.error for r in found]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert "executions on Dask at tcp://127.0.0.1:" in log.read_text()
    assert "running executions on Dask, 2 at a time" in log.read_text()

    # every execution ran once, claimed by the Headwater worker, with its one node recorded
    assert all((r.worker, r.attempts) == ("hw-dask", 1) for r in found)
    with instance.db.read() as tx:
        for r in found:
            nodes = node_rows.list_nodes(tx, r.id)
            assert [(n.status, n.attempts) for n in nodes] == [("succeeded", 1)], r.id
    outputs = sorted(int(headwater.get_execution(r.id).output) for r in found)
    assert outputs == sorted(x * x for x in range(BURST))

    # ... in the Dask worker processes, both of them, and nowhere else
    with Client(cluster.replace("dask://", "tcp://"), set_as_default=False) as client:
        dask_pids = set(client.run(os.getpid).values())
    ran = [p.name.split("-") for p in marks.iterdir()]
    assert sorted(int(x) for x, _, _ in ran) == list(range(BURST))
    pids = {int(pid) for _, pid, _ in ran}
    assert pids == dask_pids, (pids, dask_pids)


def test_an_unknown_executor_is_refused_naming_the_forms(
    instance: Instance, tmp_path: Path
) -> None:
    proc, log = _worker(tmp_path, instance, "--executor", "spark://x:1", "--once")
    assert proc.wait(60) == 2
    text = log.read_text()
    assert "executor 'spark://x:1' is not understood" in text
    assert "'dask://host:8786'" in text and "HEADWATER_WORKER_EXECUTOR" in text


def test_a_stopping_worker_hands_back_what_still_runs_on_dask_after_its_grace(
    cluster: str, instance: Instance, tmp_path: Path
) -> None:
    flow = tmp_path / "author" / "dask_burst_flow.py"
    flow.write_text(textwrap.dedent(FLOW))
    headwater.register(flow, activate=True)
    headwater.emit_event("dask.nap", {"seconds": 60})
    while Reactor(instance).run_once():
        pass
    proc, log = _worker(tmp_path, instance, "--executor", cluster, "--grace", "1")
    try:

        def running() -> list[Any]:
            with instance.db.read() as tx:
                found = rows.list_executions(tx, launch_plan="on_dask_nap")
                return [r for r in found if r.status == "running"] and [
                    n for r in found for n in node_rows.list_nodes(tx, r.id)
                ]

        _procs.wait_for(running, "the nap to start on Dask", timeout=60, logs=log.read_text)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    with instance.db.read() as tx:
        [row] = rows.list_executions(tx, launch_plan="on_dask_nap")
    assert (row.status, row.worker) == ("queued", None), log.read_text()
    assert "handed " + row.id + " back to the queue" in log.read_text()


def test_an_execution_on_dask_can_start_processes_of_its_own(
    cluster: str, instance: Instance, tmp_path: Path
) -> None:
    flow = tmp_path / "author" / "dask_burst_flow.py"
    flow.write_text(textwrap.dedent(FLOW))
    headwater.register(flow, activate=True)
    headwater.emit_event("dask.map", {"n": 4})
    while Reactor(instance).run_once():
        pass
    proc, log = _worker(tmp_path, instance, "--executor", cluster, "--once")
    try:
        assert proc.wait(120) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    with instance.db.read() as tx:
        [row] = rows.list_executions(tx, launch_plan="on_dask_map")
    ex = headwater.get_execution(row.id)
    assert ex.status == "succeeded", ex.error
    assert ex.output == [0.01 * i for i in range(4)]
    assert len(ex.nodes) == 4
