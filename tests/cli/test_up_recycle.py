"""``HEADWATER_WORKER_MAX_EXECUTIONS`` under ``headwater up``: the processes that run
executions are replaced as they age, at once and without losing an execution."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.types import decode
from tests import _procs

pytestmark = pytest.mark.slow

FLOW = """
from headwater import task, workflow

SEEN = []


@task
def count(x: int) -> int:
    SEEN.append(x)  # module state: must not survive into the next execution
    return len(SEEN) * 100 + x


@workflow
def wf(x: int = 1) -> int:
    return count(x=x)
"""


def test_up_recycles_workers_after_max_executions(home: Path, tmp_path: Path) -> None:
    flow = tmp_path / "flows" / "recycle_flow.py"
    flow.parent.mkdir()
    flow.write_text(textwrap.dedent(FLOW))
    inst = Instance(Settings.from_env({}, home=home))
    with inst.use():
        reg = next(r for r in headwater.register(flow) if getattr(r, "kind", "") == "workflow")
    ids = [_procs.enqueue(inst, reg, x) for x in range(5)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(home), HEADWATER_WORKER_MAX_EXECUTIONS="2")
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headwater.cli",
                "up",
                "--workers",
                "1",
                "--port",
                str(_procs.free_port()),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )

    def logs() -> str:
        return log.read_text(errors="replace")

    def ended() -> list[Any] | None:
        with inst.db.read() as tx:
            found = [rows.get_execution(tx, e) for e in ids]
        return found if all(r.status in ("succeeded", "failed") for r in found) else None

    try:
        done = _procs.wait_for(ended, "all five executions", timeout=60, logs=logs)
        results = [decode(json.loads(r.outputs)["o0"], int, inst.blobs) for r in done]
        # Two executions per process: the second sees the first's module state, the third
        # (a new process) does not.
        assert results == [100, 201, 102, 203, 104], logs()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, logs()
        text = logs()
        assert text.count("recycled (ran 2 executions") == 2, text
        assert "exited unexpectedly" not in text and "Traceback" not in text, text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        inst.close()
