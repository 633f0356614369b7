"""`python flow.py run|show|deploy` in subprocesses, with local --trigger/--trigger-event."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.flows import Run
from headwater.instance import Instance
from headwater.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "flows"


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def flow(
    home: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    env.update(extra)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES,
        timeout=60,
    )


def run_id(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"Done! \w+/(\w+) succeeded", proc.stdout)
    assert m, proc.stdout
    return m.group(1)


def test_run_show_and_local_triggers(home):
    up = run_id(flow(home, "upstream_flow.py", "run", "--size", "4"))
    shown = flow(home, "reactive_flow.py", "show")
    assert shown.returncode == 0 and "Step start" in shown.stdout
    before = run_id(flow(home, "reactive_flow.py", "--trigger", f"UpstreamFlow/{up}", "run"))
    after = run_id(flow(home, "reactive_flow.py", "run", "--trigger", f"UpstreamFlow/{up}"))
    ev = run_id(
        flow(
            home,
            "reactive_flow.py",
            "run",
            "--trigger-event",
            "data.updated",
            "--payload",
            '{"table_name": "sales", "n": 2.5}',
        )
    )
    bad = flow(home, "reactive_flow.py", "run", "--nope", "1")
    assert bad.returncode == 2 and "--nope" in bad.stderr
    inst = Instance(Settings.from_env({}, home=home))
    with inst.use():
        for rid in (before, after):
            r = Run(f"ReactiveFlow/{rid}")
            assert r.data.kind == "run" and r.data.upstream_rows == [0, 1, 2, 3]
            assert r.trigger.run.id == up
        r = Run(f"ReactiveFlow/{ev}")
        assert (r.data.table, r.data.n, r.data.kind) == ("sales", 2.5, "event")
        assert r.data.payload == {"table_name": "sales", "n": 2.5}
    inst.close()


def test_trigger_event_the_flow_does_not_listen_to_is_refused(home):
    wrong = flow(home, "reactive_flow.py", "run", "--trigger-event", "data.updatd")
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr == (
        "error: ReactiveFlow does not listen to event 'data.updatd': it listens to "
        "'data.updated'; give one of those to --trigger-event\n"
    )
    none = flow(home, "upstream_flow.py", "run", "--trigger-event", "data.updated")
    assert none.returncode == 2 and "it has no @trigger(event=...)" in none.stderr
    inst = Instance(Settings.from_env({}, home=home))
    with inst.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM executions") == 0
    inst.close()


def test_deploy(home):
    out = flow(home, "reactive_flow.py", "deploy")
    assert out.returncode == 0, out.stderr
    assert "trigger: event data.updated" in out.stdout


def test_deploy_to_a_server_with_headwater_api_url(tmp_path):
    import json as _json
    import subprocess
    import sys

    from headwater.instance import Instance
    from headwater.settings import Settings
    from tests._procs import headwater_env, running_up, wait_for

    home = tmp_path / "server"
    inst = Instance(Settings.from_env({}, home=home))
    env = headwater_env(home, inst.settings.database_url)
    flow = Path(__file__).resolve().parents[2] / "examples" / "flows" / "reactive_flow.py"
    with running_up(env, tmp_path / "up.log", workers=1) as up:
        client = {
            **env,
            "HEADWATER_API_URL": f"http://127.0.0.1:{up.port}",
            "HEADWATER_HOME": str(tmp_path / "client-home"),
        }
        wait_for(lambda: "HTTP API: http" in up.log(), "the HTTP API", logs=up.log)
        done = subprocess.run(
            [sys.executable, str(flow), "deploy"],
            env=client,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "Deployed ReactiveFlow" in done.stdout
        subprocess.run(
            [
                sys.executable,
                "-m",
                "headwater.cli",
                "events",
                "emit",
                "data.updated",
                "--payload",
                _json.dumps({"table_name": "remote", "n": 3}),
            ],
            env=client,
            check=True,
            capture_output=True,
            timeout=60,
        )
        with inst.use():
            import headwater

            ran = wait_for(
                lambda: [
                    e
                    for e in headwater.list_executions(workflow="ReactiveFlow")
                    if e.status == "succeeded"
                ],
                "the deployed flow to run",
                logs=up.log,
            )
            assert ran[0].outputs["table"] == "remote"
        assert up.stop() == 0
    inst.close()


def test_parallel_example_runs_fails_and_resumes(home):
    done = flow(home, "parallel_flow.py", "run", "--max-workers", "4", "--width", "6")
    first = run_id(done)
    assert "total: 55 check error: None" in done.stdout
    env_fail = {"FAIL_ON": "2"}
    failed = flow(home, "parallel_flow.py", "run", "--width", "5", env=env_fail)
    assert failed.returncode == 1 and "item 2 fails" in failed.stderr
    failed_id = re.search(r"ParallelFlow/(\w+) failed", failed.stderr).group(1)
    resumed = flow(home, "parallel_flow.py", "resume")
    again = run_id(resumed)
    assert f"5 step task(s) reused from {failed_id}" in resumed.stdout  # start, items 0 1 3 4
    assert "total: 30 check error: None" in resumed.stdout
    inst = Instance(Settings.from_env({}, home=home))
    with inst.use():
        assert Run(f"ParallelFlow/{again}").data.total == 30
        nodes = Run(f"ParallelFlow/{again}").execution.nodes
        square = [n for n in nodes if n.name.endswith(".square")]
        assert sorted(n.attempts for n in square if not n.cached_from) == [1]
        assert {n.cached_from.split("/")[0] for n in nodes if n.cached_from} == {failed_id}
    again_given = run_id(flow(home, "parallel_flow.py", "resume", "--origin-run-id", first))
    assert again_given != first
    inst.close()
