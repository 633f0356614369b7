"""The shell recipes of docs/deploy.md, run for real.

Each block marked ``<!-- recipe: NAME -->`` is read as a script of "machines": every full-line
comment starts a new machine (run twice when it says "each"), with a home and a working
directory of its own that holds the ``<!-- recipe-file: ... -->`` files its commands name. ``export`` lines set
that machine's environment, ``pip install`` lines are skipped (the test environment has the
extras), long-running commands (``headwater up``, ``headwater worker``, ``dask scheduler``,
``dask worker``) start in the background and the rest must exit 0. Placeholders are replaced by
a throwaway PostgreSQL, a SeaweedFS S3 bucket, a Dask scheduler port and free HTTP ports; every
process binds 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from tests import _procs
from tests._s3 import S3

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
DB_PLACEHOLDER = "postgresql+psycopg://headwater:SECRET@db.internal:5432/headwater"
S3_PLACEHOLDER = "s3://my-bucket/headwater"
LEFTOVERS = ("db.internal", "my-bucket", "sched-host", "SECRET", "0.0.0.0")
DOC_PORT = "8265"


def _blocks(kind: str, lang: str) -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    pattern = rf"<!-- {kind}: (\S+) -->\n```{lang}\n(.*?)```"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, text, re.S)}


def recipe(name: str) -> str:
    found = _blocks("recipe", "sh")
    assert name in found, f"docs/deploy.md has no `<!-- recipe: {name} -->` sh block"
    return found[name]


@dataclass
class Section:
    """One machine of a recipe (``copies`` of it when its comment says "each")."""

    title: str
    copies: int = 1
    lines: list[list[str]] = field(default_factory=list)


def parse(script: str, substitutions: dict[str, str]) -> list[Section]:
    for old, new in substitutions.items():
        script = script.replace(old, new)
    leftover = [p for p in LEFTOVERS if p in script]
    assert not leftover, f"placeholders left in the recipe: {leftover}\n{script}"
    sections = [Section("this machine")]
    for line in script.splitlines():
        if line.startswith("#"):
            title = line.lstrip("# ").strip()
            sections.append(Section(title, 2 if re.search(r"\beach\b", title) else 1))
            continue
        argv = shlex.split(line, comments=True)
        if argv and argv[-1] == "&":
            argv.pop()
        if argv and argv[:2] != ["pip", "install"]:  # the test environment has the extras
            sections[-1].lines.append(argv)
    return [s for s in sections if s.lines]


def long_running(argv: list[str]) -> bool:
    program = argv[:2]
    if program in (["headwater", "up"], ["dask", "scheduler"], ["dask", "worker"]):
        return True
    return program == ["headwater", "worker"] and "--once" not in argv


@dataclass
class Machine:
    name: str
    home: Path
    cwd: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)  # of its `headwater up`s

    def log(self) -> str:
        path = self.cwd / "out.log"
        text = path.read_text(errors="replace")[-3000:] if path.exists() else ""
        return f"--- {self.name}\n{text}"


class Recipe:
    """Runs a parsed recipe; ``stop()`` kills every process it started (by process group)."""

    def __init__(self, root: Path, base_env: dict[str, str]) -> None:
        self.root = root
        self.base_env = base_env
        self.machines: list[Machine] = []

    def logs(self) -> str:
        return "\n".join(m.log() for m in self.machines)

    def run(self, sections: list[Section]) -> list[list[Machine]]:
        files = _blocks("recipe-file", "python")
        assert files, "docs/deploy.md has no `<!-- recipe-file: NAME -->` python block"
        started = []
        for s, section in enumerate(sections):
            copies = []
            for i in range(section.copies):
                folder = self.root / f"m{s}-{i}"
                machine = Machine(section.title, folder / "home", folder / "cwd", {})
                machine.cwd.mkdir(parents=True)
                for name, text in files.items():  # only where a command names the file
                    if any(name in argv for argv in section.lines):
                        (machine.cwd / name).write_text(text)
                machine.env = {**self.base_env, "HEADWATER_HOME": str(machine.home)}
                self.machines.append(machine)
                for argv in section.lines:
                    self._line(machine, argv)
                copies.append(machine)
            started.append(copies)
        return started

    def _line(self, machine: Machine, argv: list[str]) -> None:
        if argv[0] == "export":
            for assignment in argv[1:]:
                key, _, value = assignment.partition("=")
                machine.env[key] = value
            return
        argv = list(argv)
        if argv[:2] == ["headwater", "up"]:
            port = _procs.free_port()
            if "--port" in argv:
                at = argv.index("--port") + 1
                assert argv[at] == DOC_PORT, argv
                argv[at] = str(port)
            else:
                argv += ["--port", str(port)]
            machine.ports.append(port)
        if argv[0] == "dask":
            argv += ["--no-dashboard"]
            if argv[1] == "worker" and "--host" not in argv:
                argv += ["--host", "127.0.0.1"]
        command = (
            [sys.executable, "-m", "headwater.cli", *argv[1:]]
            if argv[0] == "headwater"
            else [str(Path(sys.executable).with_name(argv[0])), *argv[1:]]
        )
        if not long_running(argv):
            done = subprocess.run(
                command, env=machine.env, cwd=machine.cwd, capture_output=True, timeout=120
            )
            assert done.returncode == 0, (argv, done.stdout, done.stderr, self.logs())
            return
        out = (machine.cwd / "out.log").open("ab")
        machine.procs.append(
            subprocess.Popen(
                command,
                env=machine.env,
                cwd=machine.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        out.close()
        if argv[:2] == ["headwater", "up"]:
            _procs.wait_healthy(f"http://127.0.0.1:{machine.ports[-1]}", self.logs)
        if argv[:2] == ["dask", "scheduler"]:
            port = int(argv[argv.index("--port") + 1])
            _procs.wait_for(lambda: _listening(port), "the Dask scheduler", logs=self.logs)

    def stop(self) -> None:
        for machine in self.machines:
            for proc in machine.procs:
                kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(30)


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        found.add(todo[-1])
        todo += sorted(_procs.children(todo.pop()))
    return found


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(extra or {}, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return env


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[list[Recipe]]:
    made: list[Recipe] = []
    yield made
    for r in made:
        r.stop()


@pytest.fixture
def shared(
    postgres_url: str, seaweed_s3: S3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Instance]]:
    """Substitutions for a PostgreSQL database and an S3 bucket, and an instance on them."""
    bucket = seaweed_s3.new_bucket(f"hw-{uuid.uuid4().hex[:12]}")
    for key, value in seaweed_s3.env().items():
        monkeypatch.setenv(key, value)
    subs = {DB_PLACEHOLDER: postgres_url, S3_PLACEHOLDER: f"s3://{bucket}/headwater"}
    settings = Settings.from_env(
        {},
        home=tmp_path / "test-home",
        database_url=postgres_url,
        storage_url=subs[S3_PLACEHOLDER],
    )
    inst = Instance(settings)
    yield subs, inst
    inst.close()


def on_number_runs(inst: Instance) -> list[Any]:
    with inst.db.read() as tx:
        return list(rows.list_executions(tx, launch_plan="on_number", limit=100))


def test_single_machine_recipe(tmp_path: Path, runner: list[Recipe]) -> None:
    r = Recipe(tmp_path, base_env())
    runner.append(r)
    [[machine]] = r.run(parse(recipe("single-machine"), {}))
    inst = Instance(Settings.from_env({}, home=machine.home))
    try:
        done = _procs.wait_for(
            lambda: [e for e in on_number_runs(inst) if e.status == "succeeded"],
            "the triggered execution",
            timeout=60,
            logs=r.logs,
        )
        with inst.use():
            assert [headwater.get_execution(e.id).output for e in done] == [49]
        assert (machine.home / "headwater.db").exists()  # the default: SQLite in the home
    finally:
        inst.close()


def test_workers_recipe_runs_a_burst_on_the_worker_machines(
    tmp_path: Path, runner: list[Recipe], shared: tuple[dict[str, str], Instance]
) -> None:
    subs, inst = shared
    r = Recipe(tmp_path, base_env(dict(S3(os.environ["AWS_ENDPOINT_URL"]).env())))
    runner.append(r)
    [[control], workers] = r.run(parse(recipe("workers"), subs))
    assert len(workers) == 2
    with inst.use():
        for x in range(6):
            headwater.emit_event("number.ready", {"x": x})

    def all_succeeded() -> list[Any]:
        found = on_number_runs(inst)
        return found if len(found) == 6 and all(e.status == "succeeded" for e in found) else []

    found = _procs.wait_for(all_succeeded, "6 executions", timeout=90, logs=r.logs)
    with inst.use():
        outputs = sorted(headwater.get_execution(e.id).output for e in found)
    assert outputs == [x * x for x in range(6)]
    # run once each, by the worker machines: a worker is named host:PID after its process
    worker_pids = {str(pid) for m in workers for p in m.procs for pid in descendants(p.pid)}
    for e in found:
        assert e.attempts == 1, e
        assert e.worker.rsplit(":", 1)[1] in worker_pids, (e.worker, worker_pids)
    assert control.procs[0].poll() is None and not (control.home / "headwater.db").exists()
    assert not any((m.home / "headwater.db").exists() for m in workers)


def test_standby_recipe_a_standby_decides_once_the_leader_is_killed(
    tmp_path: Path, runner: list[Recipe], shared: tuple[dict[str, str], Instance]
) -> None:
    import httpx

    subs, inst = shared
    r = Recipe(tmp_path, base_env(dict(S3(os.environ["AWS_ENDPOINT_URL"]).env())))
    runner.append(r)
    [_token, ups] = r.run(parse(recipe("standby"), {**subs, "0.0.0.0": "127.0.0.1"}))
    assert len(ups) == 2
    with inst.use():
        flows = tmp_path / "flows.py"  # the recipe registers nothing: the test does
        flows.write_text(_blocks("recipe-file", "python")["flows.py"])
        headwater.register(flows, activate=True)

    def roles() -> list[str]:
        found = []
        for m in ups:
            try:
                body = httpx.get(f"http://127.0.0.1:{m.ports[0]}/healthz").json()
                found.append(body["roles"]["reactor"])
            except (httpx.TransportError, KeyError, ValueError):
                found.append("gone")
        return found

    _procs.wait_for(
        lambda: sorted(roles()) == ["leader", "standby"], "one leader", timeout=60, logs=r.logs
    )
    leader, standby = ups if roles()[0] == "leader" else ups[::-1]
    kill_group(leader.procs[0])
    with inst.use():
        headwater.emit_event("number.ready", {"x": 5})
    [execution] = _procs.wait_for(
        lambda: on_number_runs(inst), "the standby's decision", timeout=60, logs=r.logs
    )
    assert execution.status == "queued"  # decided and fired; no worker runs in this recipe
    _procs.wait_for(
        lambda: roles()[ups.index(standby)] == "leader",
        "the standby to lead",
        timeout=60,
        logs=r.logs,
    )
    assert "reactor: standby -> leader" in standby.log()


def test_dask_recipe_runs_the_map_on_the_cluster(
    tmp_path: Path, runner: list[Recipe], shared: tuple[dict[str, str], Instance]
) -> None:
    pytest.importorskip("distributed")
    from distributed import Client

    subs, inst = shared
    port = _procs.free_port()
    subs = {**subs, "sched-host:8786": f"127.0.0.1:{port}", "--port 8786": f"--port {port}"}
    subs["0.0.0.0"] = "127.0.0.1"
    r = Recipe(tmp_path, base_env(dict(S3(os.environ["AWS_ENDPOINT_URL"]).env())))
    runner.append(r)
    [_scheduler, compute, _caller] = r.run(parse(recipe("dask"), subs))
    assert len(compute) == 2
    with inst.db.read() as tx:
        [found] = rows.list_executions(tx, limit=10)  # the one `headwater run`
    assert found.status == "succeeded", r.logs()
    with inst.use():
        execution = headwater.get_execution(found.id)
        assert execution.output == [x * x for x in range(20)]
        items = [n for n in execution.nodes if n.name.endswith("square")]
        assert len(items) == 20 and all(n.status == "succeeded" for n in items), items
    with Client(f"tcp://127.0.0.1:{port}", timeout=30, set_as_default=False) as client:
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: sorted(dask_scheduler.task_prefixes)
        )
    assert "headwater-map" in prefixes, prefixes
