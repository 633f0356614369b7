"""``headwater demo``, global options, and the CLI as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import headwater
from tests.cli.cli_helpers import REPO, Invoke, as_json, ok


def test_demo(hw: Invoke) -> None:
    started = time.monotonic()
    out = ok(hw("demo")).stdout
    elapsed = time.monotonic() - started
    assert "running examples" in out or "sales_pipeline.py" in out
    assert out.count("  succeeded\n") == 5
    assert "daily_sales@4" in out and "region=US" in out and "2026-11-02" in out
    assert "model card of hw://default/development/sales_model@1" in out
    assert "# Sales model (EU)" in out and "| metric | value |" in out
    assert "lineage of hw://default/development/sales_model@1" in out
    assert "consumed (sales) hw://default/development/daily_sales@3" in out
    assert "try next" in out and "headwater artifacts lineage" in out
    assert elapsed < 30  # generous: ~1-3 s on a slow machine
    assert len(as_json(hw("executions", "list", "--json"))) == 5


def test_demo_without_a_source_checkout(
    hw: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "site-packages" / "lib" / "headwater" / "__init__.py"
    monkeypatch.setattr(headwater, "__file__", str(fake))
    result = hw("demo")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the demo runs examples/sales_pipeline.py")
    assert "source checkout" in result.stderr


def test_version_and_help(hw: Invoke) -> None:
    assert ok(hw("--version")).stdout.strip() == f"headwater {headwater.__version__}"
    top = ok(hw("--help")).stdout
    for command in ("run", "register", "artifacts", "executions", "events", "launchplans", "demo"):
        assert f"  {command} " in top
    for group, subs in (
        ("artifacts", ("list", "search", "show", "get", "create", "lineage")),
        ("executions", ("list", "show")),
        ("events", ("list", "show", "emit", "replay")),
        ("launchplans", ("list", "activate", "deactivate")),
    ):
        text = ok(hw(group, "--help")).stdout
        commands = text.split("Commands:")[1].splitlines()
        assert not [line for line in commands if line.endswith("...")]  # helps fit one line
        for sub in subs:
            assert f"  {sub} " in text
            assert f"Usage: headwater {group} {sub}" in ok(hw(group, sub, "--help")).stdout
    assert not [line for line in top.split("Commands:")[1].splitlines() if line.endswith("...")]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


TINY = """
from headwater import task, workflow


@task
def add(a: int, b: int = 1) -> int:
    return a + b


@workflow
def wf(a: int = 1) -> int:
    return add(a=a)
"""


def test_end_to_end_process(tmp_path: Path) -> None:
    flow = tmp_path / "tiny_e2e.py"
    flow.write_text(TINY)
    env = _env(tmp_path / "home")
    cmd = [sys.executable, "-m", "headwater.cli"]
    run = subprocess.run(
        [*cmd, "run", str(flow), "wf", "-i", "a=41", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["status"] == "succeeded" and body["outputs"]["o0"]["value"] == 42
    shown = subprocess.run(
        [*cmd, "executions", "show", body["id"], "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert json.loads(shown.stdout)["id"] == body["id"]
    bad = subprocess.run(
        [*cmd, "run", str(flow), "wf", "-i", "a=x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert bad.stderr == "error: input 'a' expects int, got 'x': give a whole number like 42\n"
    assert bad.stdout == ""


def test_run_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """Once the schema exists, a run loads no pandas, SQLAlchemy, fsspec or rich."""
    flow = tmp_path / "tiny_light.py"
    flow.write_text(TINY)
    env = _env(tmp_path / "home")
    probe = (
        "import sys\n"
        "from headwater.cli import main\n"
        "light = not any(m in sys.modules for m in ('rich', 'headwater.client'))\n"
        f"try:\n    main(['run', {str(flow)!r}, 'wf'], prog_name='headwater')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pandas', 'sqlalchemy', 'alembic', 'fsspec', 'rich', 'pyarrow', 'numpy'})\n"
        "print(light, heavy)\n"
    )
    subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, timeout=120
    )  # first run creates the schema
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True []"
