"""A real ``headwater up`` sends the run events of a triggered chain to a local endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import headwater
from headwater.instance import Instance
from headwater.integrations.openlineage.events import run_id
from headwater.settings import Settings
from tests import _procs

from . import chain
from .conftest import Receiver, validate_event

MODULE = "tests.openlineage_export.chain"


@pytest.mark.slow
def test_up_delivers_a_triggered_chain(tmp_path: Path, receiver: Receiver, monkeypatch) -> None:
    for var in [v for v in os.environ if v.startswith(("HEADWATER_", "OPENLINEAGE"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HEADWATER_OPENLINEAGE_URL", receiver.url)
    home = tmp_path / "home"
    inst = Instance(Settings.from_env({}, home=home))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(home), HEADWATER_OPENLINEAGE_URL=receiver.url)
    out, err = tmp_path / "up.out", tmp_path / "up.err"
    with inst.use():
        headwater.register(MODULE, activate=True)
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root), env.get("PYTHONPATH", "")])
    port = _procs.free_port()
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

    try:
        _procs.wait_for(lambda: out.read_text(), "the start line", logs=logs)
        with inst.use():
            a = headwater.run(chain.make_sales, region="EU")
        assert a.status == "succeeded"

        def four() -> bool:
            return len(receiver.events) >= 4 and receiver.events[-1]["eventType"] == "COMPLETE"

        _procs.wait_for(four, "4 events at the receiver", timeout=60, logs=logs)
        events = receiver.events
        for event in events:
            validate_event(event)
        assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "COMPLETE"]
        assert {e["run"]["runId"] for e in events[:2]} == {run_id(a.id)}
        b_start = events[2]
        assert b_start["job"]["name"] == f"{MODULE}.summarize"
        assert b_start["run"]["facets"]["parent"]["run"]["runId"] == run_id(a.id)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, logs()
        assert "Traceback" not in err.read_text(), logs()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        inst.close()
