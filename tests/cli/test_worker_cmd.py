"""``headwater worker`` (and the hidden ``headwater reactor``): the daemons as CLI commands,
with the same flags as ``python -m headwater.daemon.worker`` / ``...reactor_process``."""

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
from headwater.cli import app, worker_cmd
from headwater.daemon import worker as engine_worker
from headwater.definitions import launch_plan
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.types import decode
from tests import _procs

FLOW = """
from headwater import task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow
def wf(x: int = 1) -> int:
    return double(x=x)
"""


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_worker_help_lists_every_flag(tmp_path: Path) -> None:
    env = _procs.headwater_env(tmp_path / "home", f"sqlite:///{tmp_path}/hw.db")
    for argv in (("headwater.cli", "worker", "--help"), ("headwater.daemon.worker", "--help")):
        done = run(*argv, env=env)
        assert done.returncode == 0, done.stderr
        for flag in (
            "--lease",
            "--name",
            "--max-executions",
            "--max-memory-mb",
            "--parent-pid",
            "--json-logs",
            "--ready-fd",
            "--queue",
            "--concurrency",
            "--once",
            "--grace",
        ):
            assert flag in done.stdout
    assert "Usage: python -m headwater.daemon.worker" in done.stdout
    top = run("headwater.cli", "--help", env=env)
    commands = [line.split()[0] for line in top.stdout.splitlines() if line.startswith("  ")]
    assert "worker" in commands
    assert "up" in commands and "reactor" not in commands  # hidden: only `up` starts it
    reactor = run("headwater.cli", "reactor", "--help", env=env)
    assert reactor.returncode == 0 and "--ready-fd" in reactor.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("headwater.cli", "worker", "--lease", "0"), "Invalid value for '--lease'"),
        (("headwater.daemon.worker", "--lease", "-1"), "Invalid value for '--lease'"),
        (("headwater.daemon.worker", "--max-executions", "-1"), "'--max-executions'"),
        (("headwater.cli", "worker", "--max-memory-mb", "x"), "'--max-memory-mb'"),
        (("headwater.daemon.worker", "--bogus"), "No such option '--bogus'"),
        (("headwater.daemon.reactor_process", "--parent-pid", "x"), "'--parent-pid'"),
        (("headwater.cli", "reactor", "--lease", "3"), "No such option '--lease'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    env = _procs.headwater_env(tmp_path / "home", f"sqlite:///{tmp_path}/hw.db")
    done = run(*argv, env=env)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "hw.db").exists()  # nothing was opened, let alone written


def test_bad_settings_exit_2_with_a_message(tmp_path: Path) -> None:
    env = _procs.headwater_env(tmp_path / "home", "bogus://nowhere")
    for argv in (("headwater.cli", "worker"), ("headwater.daemon.reactor_process",)):
        done = run(*argv, env=env)
        assert done.returncode == 2
        assert "error: unsupported database URL 'bogus://nowhere'" in done.stderr
    env = _procs.headwater_env(tmp_path / "home", f"sqlite:///{tmp_path}/hw.db")
    env["HEADWATER_WORKER_MAX_EXECUTIONS"] = "lots"
    done = run("headwater.cli", "worker", env=env)
    assert done.returncode == 2
    assert "HEADWATER_WORKER_MAX_EXECUTIONS='lots' is not a whole number" in done.stderr


def test_starting_a_worker_imports_no_other_command(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv = ['w', '--lease', '0']\n"
        "try:\n"
        "    runpy.run_module('headwater.daemon.worker', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 2, exc.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('headwater.cli')))\n"
    )
    env = _procs.headwater_env(tmp_path / "home", f"sqlite:///{tmp_path}/hw.db")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['headwater.cli', 'headwater.cli.worker_cmd']"


def test_cli_defaults_agree_with_the_engine() -> None:
    # The CLI keeps these literal so that `headwater --help` does not import the engine.
    assert worker_cmd.CONTEXT_SETTINGS == app.CONTEXT_SETTINGS
    assert worker_cmd.DEFAULT_LEASE == engine_worker.DEFAULT_LEASE
    assert worker_cmd.MAX_EXECUTIONS_ENV == engine_worker.MAX_EXECUTIONS_ENV
    assert worker_cmd.MAX_MEMORY_ENV == engine_worker.MAX_MEMORY_ENV
    assert worker_cmd.DEFAULT_GRACE == engine_worker.DEFAULT_GRACE
    assert worker_cmd.DEFAULT_QUEUE == engine_worker.queue.DEFAULT_QUEUE
    assert worker_cmd._QUEUE_NAME.pattern == launch_plan._QUEUE_NAME.pattern
    help_text = " ".join((worker_cmd.worker.help or "").split())
    assert f"{engine_worker.EXIT_SNAPSHOT_CONFLICT} when" in help_text
    assert f"{engine_worker.EXIT_RECYCLE} when" in help_text


def test_headwater_worker_runs_queued_executions(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    flow = tmp_path / "flows" / "worker_cmd_flow.py"
    flow.parent.mkdir()
    flow.write_text(textwrap.dedent(FLOW))
    inst = Instance(Settings.from_env({}, home=home, database_url=database_url))
    try:
        with inst.use():
            reg = next(r for r in headwater.register(flow) if getattr(r, "kind", "") == "workflow")
        ids = [_procs.enqueue(inst, reg, x) for x in (3, 4)]
        log = tmp_path / "worker.log"
        ready_r, ready_w = os.pipe()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "headwater.cli",
                    "worker",
                    "--name",
                    "cli-worker",
                    "--lease",
                    "5",
                    "--ready-fd",
                    str(ready_w),
                ],
                env=_procs.headwater_env(home, database_url),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(ready_w,),
            )
        os.close(ready_w)

        def logs() -> str:
            return log.read_text(errors="replace")

        try:
            with os.fdopen(ready_r, "rb") as pipe:
                assert pipe.readline() == b"ready\n", logs()

            def done() -> list[Any] | None:
                with inst.db.read() as tx:
                    found = [rows.get_execution(tx, e) for e in ids]
                ended = all(r.status in ("succeeded", "failed") for r in found)
                return found if ended else None

            found = _procs.wait_for(done, "both executions to end", logs=logs)
            assert [r.status for r in found] == ["succeeded", "succeeded"], logs()
            outputs = [decode(json.loads(r.outputs)["o0"], int, inst.blobs) for r in found]
            assert outputs == [6, 8]
            assert {r.worker for r in found} == {"cli-worker"}
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, logs()
            assert "worker cli-worker: stopped" in logs()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    finally:
        inst.close()
