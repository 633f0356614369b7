"""headwater.map on a real Dask cluster: a scheduler and two worker processes on loopback."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import headwater
from headwater import ExecutionStatus
from headwater.instance import Instance
from headwater.settings import Settings

from .._procs import free_port
from . import dask_tasks as d

pytest.importorskip("distributed")


@pytest.fixture
def dask_instance(cluster: str, database_url: str, tmp_path: Path) -> Iterator[Instance]:
    settings = Settings.from_env(
        {}, home=tmp_path / "home", database_url=database_url, executor=cluster
    )
    inst = Instance(settings)
    with inst.use():
        yield inst
    inst.close()


def _node_ids(ex: headwater.Execution) -> list[str]:
    return [n.node_id for n in ex.nodes]


def test_a_map_over_200_items_records_every_node_once(dask_instance):
    ex = headwater.run(d.cubes_wf, n=200)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error.get("traceback")
    assert ex.output == [x**3 for x in range(200)]
    nodes = ex.nodes
    assert sorted(_node_ids(ex)) == sorted(f"n{i}" for i in range(200))
    assert all(n.status is ExecutionStatus.SUCCEEDED for n in nodes)
    assert all(n.attempts == 1 for n in nodes)


def test_killing_a_dask_worker_mid_map_still_finishes_and_records_the_retry(
    dask_instance, tmp_path
):
    marks = tmp_path / "marks"
    marks.mkdir()
    result: dict[str, headwater.Execution] = {}
    runner = threading.Thread(
        target=lambda: result.update(ex=_run(dask_instance, str(marks))), daemon=True
    )
    runner.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        started = sorted(marks.iterdir(), key=lambda p: p.stat().st_mtime)
        if len(started) >= 6:  # well into the map: kill the process running the newest item
            item, pid = started[-1].name.split("-")
            victim = (int(item), int(pid))
            os.kill(victim[1], signal.SIGKILL)
        time.sleep(0.02)
    assert victim is not None, "the map never got going"
    runner.join(timeout=300)
    ex = result["ex"]
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error.get("traceback")
    assert ex.output == [i + 1 for i in range(30)]
    nodes = {n.node_id: n for n in ex.nodes}
    assert len(nodes) == 30 == len(ex.nodes)
    assert all(n.status is ExecutionStatus.SUCCEEDED for n in nodes.values())
    killed = nodes[f"n{victim[0]}"]
    assert killed.attempts == 2  # the killed start and the one Dask ran elsewhere
    starts = [p.name for p in marks.iterdir() if p.name.startswith(f"{victim[0]}-")]
    assert len(starts) == 2


def _run(inst: Instance, folder: str) -> headwater.Execution:
    with inst.use():
        return headwater.run(d.tracked_wf, folder=folder, n=30)


def test_an_unreachable_scheduler_fails_naming_the_address_and_the_setting(database_url, tmp_path):
    port = free_port()  # nothing listens there
    settings = Settings.from_env(
        {},
        home=tmp_path / "home",
        database_url=database_url,
        executor=f"dask://127.0.0.1:{port}",
    )
    inst = Instance(settings)
    with inst.use():
        ex = headwater.run(d.cubes_wf, n=3)
    inst.close()
    assert ex.status is ExecutionStatus.FAILED
    message = ex.error["message"]
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in message
    assert "HEADWATER_EXECUTOR" in message
    assert "tried 3 times" in message
