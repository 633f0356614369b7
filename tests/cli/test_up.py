"""``headwater up`` as a real process: workers run queued executions; SIGINT stops it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.types import decode
from tests import _procs
from tests.cli.cli_helpers import Invoke

FLOW = """
from headwater import task, workflow


@task
def triple(x: int) -> int:
    return x * 3


@workflow
def wf(x: int = 1) -> int:
    return triple(x=x)
"""


def test_up_runs_queued_executions_and_stops_on_sigint(home: Path, tmp_path: Path) -> None:
    flow = tmp_path / "flows" / "up_flow.py"
    flow.parent.mkdir()
    flow.write_text(textwrap.dedent(FLOW))
    inst = Instance(Settings.from_env({}, home=home))
    port = _procs.free_port()
    with inst.use():
        reg = next(r for r in headwater.register(flow) if getattr(r, "name", "") == "up_flow.wf")

    def enqueue(x: int) -> str:
        return _procs.enqueue(inst, reg, x)

    def result(eid: str) -> Any:
        def ended() -> Any:
            with inst.db.read() as tx:
                row = rows.get_execution(tx, eid)
            return row if row.status in ("succeeded", "failed") else None

        row = _procs.wait_for(ended, f"execution {eid} to end", logs=logs)
        assert row.status == "succeeded", row.error
        return decode(json.loads(row.outputs)["o0"], int, inst.blobs)

    first = enqueue(14)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    out, err = tmp_path / "up.out", tmp_path / "up.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.cli", "up", "--workers", "1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=o,
            stderr=e,
            cwd=tmp_path,
        )

    def logs() -> str:
        return f"--- stdout ---\n{out.read_text()}\n--- stderr ---\n{err.read_text()}"

    seen: set[int] = set()
    try:
        line = _procs.wait_for(lambda: out.read_text(), "the start line", logs=logs)
        assert line.startswith("headwater up: ") and line.count("\n") == 1
        assert f"database sqlite:///{home}" in line and "1 worker process;" in line
        assert "reactor" in line and "scheduler" in line
        assert f"HTTP API: http://127.0.0.1:{port}" in line
        assert result(first) == 42

        # A worker that dies is replaced (and the restart is logged).
        [worker] = _procs.wait_for(
            lambda: _procs.workers_of(proc.pid), "a worker process", logs=logs
        )
        seen.add(worker)
        os.kill(worker, signal.SIGKILL)
        replaced = _procs.wait_for(
            lambda: _procs.workers_of(proc.pid) - {worker}, "a new worker", logs=logs
        )
        seen |= replaced
        assert "exited unexpectedly (killed by SIGKILL); restarting" in err.read_text()
        assert result(enqueue(5)) == 15

        # So is the reactor, a process of its own.
        reactor = _procs.wait_for(lambda: _procs.reactor_of(proc.pid), "the reactor", logs=logs)
        seen.add(reactor)
        os.kill(reactor, signal.SIGKILL)
        again = _procs.wait_for(
            lambda: (
                _procs.reactor_of(proc.pid) not in (None, reactor) and _procs.reactor_of(proc.pid)
            ),
            "a new reactor",
            logs=logs,
        )
        seen.add(again)
        assert f"reactor pid {reactor} exited unexpectedly (killed by SIGKILL)" in err.read_text()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, logs()
        assert not [pid for pid in seen if _procs.alive(pid)]
        assert "Traceback" not in err.read_text(), logs()
    finally:
        for pid in [proc.pid, *seen]:
            if _procs.alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        inst.close()


def test_up_refuses_a_non_loopback_host(hw: Invoke) -> None:
    result = hw("up", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: refusing to listen on '0.0.0.0'")
    assert "loopback" in result.stderr


def test_up_restarted_over_an_exposed_database_stays_closed(home: Path, tmp_path: Path) -> None:
    # A server once built for 0.0.0.0 (not bound here: tests bind loopback only), then every
    # token revoked: a real `up` restarted on loopback still answers 401, healthz stays open.
    import httpx

    from headwater.api import create_app, tokens

    inst = Instance(Settings.from_env({}, home=home))
    secret, _ = tokens.create(inst, "ops", "*", "admin")
    create_app(inst, host="0.0.0.0", port=8265)
    tokens.revoke(inst, "ops")
    inst.close()
    env = _procs.headwater_env(home, f"sqlite:///{home / 'headwater.db'}")
    with _procs.running_up(env, tmp_path / "up.log", workers=0) as up:
        url = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(url, up.log)
        assert httpx.get(url + "/api/v1/executions").status_code == 401
        h = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(url + "/api/v1/executions", headers=h).status_code == 401
        assert httpx.get(url + "/openapi.json").status_code == 401
        assert up.stop() == 0, up.log()
