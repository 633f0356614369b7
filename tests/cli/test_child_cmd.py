"""The hidden ``headwater register-process`` / ``relaunch-process``: the children the API
server runs, with the same flags as ``python -m headwater.engine.register.register_process`` /
``...relaunch_process`` (the spelling the server uses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import _procs


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return _procs.headwater_env(tmp_path / "home", f"sqlite:///{tmp_path}/hw.db")


def test_hidden_from_the_command_list_but_documented(env):
    top = run("headwater.cli", "--help", env=env)
    commands = [line.split()[0] for line in top.stdout.splitlines() if line.startswith("  ")]
    assert "register-process" not in commands and "relaunch-process" not in commands
    for argv, flags in (
        (("headwater.engine.register.register_process",), ("--digest", "--module", "--activate")),
        (("headwater.cli", "register-process"), ("--project", "--domain", "--result")),
        (("headwater.engine.execute.relaunch_process",), ("--request", "--result")),
        (("headwater.cli", "relaunch-process"), ("--request", "--result")),
    ):
        done = run(*argv, "--help", env=env)
        assert done.returncode == 0, done.stderr
        assert all(f in done.stdout for f in flags), done.stdout
        prog = "headwater " if argv[0] == "headwater.cli" else f"python -m {argv[0]} "
        assert done.stdout.startswith(f"Usage: {prog}"), done.stdout


def test_a_missing_flag_is_a_usage_error_naming_it(env, tmp_path):
    done = run(
        "headwater.engine.register.register_process", "--result", str(tmp_path / "r"), env=env
    )
    assert done.returncode == 2 and "Missing option '--digest'" in done.stderr
    done = run(
        "headwater.engine.execute.relaunch_process", "--result", str(tmp_path / "r"), env=env
    )
    assert done.returncode == 2 and "Missing option '--request'" in done.stderr
    assert not (tmp_path / "r").exists()


def test_bad_activate_json_is_refused(env, tmp_path):
    args = ["--result", str(tmp_path / "r"), "--digest", "d", "--module", "m"]
    args += ["--activate", "yes please", "--project", "", "--domain", ""]
    done = run("headwater.cli", "register-process", *args, env=env)
    assert done.returncode == 2
    assert "Invalid value for '--activate'" in done.stderr and "not JSON" in done.stderr


def test_relaunching_an_unknown_execution_writes_the_refusal(env, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps({"execution": "nope", "inputs": {}, "text_inputs": {}, "allowed_project": "*"})
    )
    result = tmp_path / "result.json"
    done = run(
        "headwater.engine.execute.relaunch_process",
        "--result",
        str(result),
        "--request",
        str(request),
        env=env,
    )
    assert done.returncode == 1, done.stderr
    error = json.loads(result.read_text())["error"]
    assert error["type"] == "NotFoundError" and "nope" in error["message"]
