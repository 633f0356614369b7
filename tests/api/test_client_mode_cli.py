"""The CLI in client mode: `executions relaunch`, `events replay` and `artifacts create` over
HTTP against a real `headwater up`, on SQLite and on PostgreSQL.

Each command must work without opening an embedded instance (the client's HEADWATER_HOME stays
empty) and print what it prints embedded.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import _pg
import _procs
import headwater
from headwater.api import tokens
from headwater.cli import main
from headwater.instance import Instance, reset_default
from headwater.settings import Settings
from tests.cli.cli_helpers import as_json, ok

pytestmark = pytest.mark.slow


@dataclass
class Server:
    home: Path
    database_url: str
    url: str
    secret: str
    log: Callable[[], str]


@pytest.fixture(scope="module", params=_pg.backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A `headwater up` (one worker) on a fresh database of the backend; an editor token."""
    tmp = tmp_path_factory.mktemp(f"client-cli-{request.param}")
    home = tmp / "home"
    database_url = _pg.database_for(request, request.param, home)
    inst = Instance(Settings.from_env({}, home=home, database_url=database_url))
    secret, _ = tokens.create(inst, "cli", "*", "editor")
    inst.close()
    env = _procs.headwater_env(home, database_url)
    with _procs.running_up(env, tmp / "up.log", workers=1) as up:
        url = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(url, up.log)
        yield Server(home, database_url, url, secret, up.log)
        assert up.stop() == 0, up.log()


class Cli:
    """Runs `headwater ...` in this process, as a client of the server or embedded on its
    database (the same rows the server reads)."""

    def __init__(self, server: Server, mp: pytest.MonkeyPatch, client_home: Path) -> None:
        self.server, self.mp, self.client_home = server, mp, client_home
        self.runner = CliRunner()

    def remote(self) -> None:
        self.mp.setenv("HEADWATER_HOME", str(self.client_home))
        self.mp.delenv("HEADWATER_DATABASE_URL", raising=False)
        self.mp.setenv("HEADWATER_API_URL", self.server.url)
        self.mp.setenv("HEADWATER_API_TOKEN", self.server.secret)
        reset_default()

    def embedded(self) -> None:
        self.mp.setenv("HEADWATER_HOME", str(self.server.home))
        self.mp.setenv("HEADWATER_DATABASE_URL", self.server.database_url)
        self.mp.delenv("HEADWATER_API_URL", raising=False)
        self.mp.delenv("HEADWATER_API_TOKEN", raising=False)
        reset_default()

    def __call__(self, *args: Any) -> Result:
        return self.runner.invoke(
            main, [str(a) for a in args], catch_exceptions=False, prog_name="headwater"
        )


@pytest.fixture
def hw(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    for var in [v for v in os.environ if v.startswith("HEADWATER_")]:
        monkeypatch.delenv(var)
    client_home = tmp_path / "client-home"
    cli = Cli(server, monkeypatch, client_home)
    cli.remote()
    try:
        yield cli
    finally:
        reset_default()
    assert not client_home.exists(), "client mode opened an embedded instance"


def fired_execution(event_name: str, payload: dict[str, Any]) -> headwater.Execution:
    """Emit an event over HTTP and return the execution it fired, once it has ended."""
    event_id = headwater.emit_event(event_name, payload, id=f"cli-{uuid.uuid4().hex}")
    event = headwater.wait_for(
        lambda: (e := headwater.get_event(event_id)).decisions and e, timeout=60
    )
    ex = headwater.get_execution(event.decisions[0].execution_id)
    headwater.wait_for(ex, timeout=60)
    return ex


def test_relaunch_runs_on_the_server_with_the_recorded_inputs(hw: Cli) -> None:
    headwater.register("tests.api.sensors", activate=True)
    first = fired_execution("sensor.reading", {"reading": 4})
    assert first.status == "succeeded" and first.output["scaled"] == 8

    again = as_json(hw("executions", "relaunch", first.id, "--json"))
    assert again["status"] == "succeeded" and again["id"] != first.id
    assert again["inputs"] == first.to_dict()["inputs"]  # value=4 from the event, factor=2
    assert again["trigger"]["kind"] == "relaunch" and again["trigger"]["of"] == first.id
    assert again["outputs"]["o0"]["value"]["scaled"] == 8

    other = as_json(hw("executions", "relaunch", first.id, "-i", "factor=5", "--json"))
    assert other["inputs"]["factor"]["value"] == 5
    assert other["inputs"]["value"] == first.to_dict()["inputs"]["value"]
    assert other["outputs"]["o0"]["value"]["scaled"] == 20

    text = ok(hw("executions", "relaunch", first.id)).stdout
    assert text.startswith("execution ") and "succeeded" in text and "'scaled': 8" in text

    queued = ok(hw("executions", "relaunch", first.id, "--queue")).stdout
    new_id, rest = queued.split(" ", 1)
    assert rest == f"queued (relaunch of {first.id}); `headwater up` runs it\n"
    assert headwater.wait_for(headwater.get_execution(new_id), timeout=60).status == "succeeded"


def test_relaunch_refuses_bad_input_and_queues_nothing(hw: Cli) -> None:
    headwater.register("tests.api.sensors", activate=True)
    first = fired_execution("sensor.reading", {"reading": 1})
    before = len(headwater.list_executions(limit=10_000))

    bad = hw("executions", "relaunch", first.id, "-i", "factor=ten")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert (
        bad.stderr == "error: input 'factor' expects int, got 'ten': give a whole number like 42\n"
    )
    unknown = hw("executions", "relaunch", first.id, "-i", "nope=1")
    assert unknown.exit_code == 2
    assert "has no input 'nope' (inputs: value, factor)" in unknown.stderr
    ghost = hw("executions", "relaunch", "no-such-execution")
    assert ghost.exit_code == 2 and "no execution 'no-such-execution'" in ghost.stderr
    assert len(headwater.list_executions(limit=10_000)) == before


def test_replay_fires_once_then_says_already_fired(hw: Cli) -> None:
    headwater.register("tests.api.extra_flows")  # inactive while the event arrives
    event_id = headwater.emit_event("sensor.replayed", {"reading": 6}, id=f"rp-{uuid.uuid4().hex}")
    event = headwater.wait_for(lambda: (e := headwater.get_event(event_id)).decided and e, 60)
    assert [d.outcome for d in event.decisions] == ["not_fired"]
    headwater.activate("on_replayed")
    replay = ("events", "replay", "--since", "2000-01-01", "--launch-plan", "on_replayed")

    [fired] = as_json(hw(*replay, "--json"))
    assert set(fired) == {"event_id", "outcome", "reason", "execution_id"}
    assert (fired["event_id"], fired["outcome"]) == (event_id, "fired")
    ex = headwater.wait_for(headwater.get_execution(fired["execution_id"]), timeout=60)
    assert ex.status == "succeeded" and ex.inputs["value"] == 6 and ex.output == 12

    text = ok(hw(*replay)).stdout.splitlines()
    assert text[0].split() == ["EVENT", "OUTCOME", "REASON", "EXECUTION"]
    assert text[1].split()[:2] == [event_id, "not_fired"]
    assert "already fired for this event (exactly once)" in text[1]
    assert len(headwater.list_executions(launch_plan="on_replayed")) == 1

    over_http = as_json(hw(*replay, "--json"))
    hw.embedded()  # the same command on the server's database prints the same
    assert as_json(hw(*replay, "--json")) == over_http
    assert ok(hw(*replay)).stdout.splitlines()[1:] == text[1:]
    hw.remote()

    ghost = hw("events", "replay", "--since", "2000-01-01", "--launch-plan", "ghost")
    assert ghost.exit_code == 2 and ghost.stdout == ""
    assert "no active launch plan 'ghost'" in ghost.stderr and "activate it first" in ghost.stderr
    bad = hw("events", "replay", "--since", "yesterday", "--launch-plan", "on_replayed")
    assert bad.exit_code == 2 and "must be a datetime, date or ISO string" in bad.stderr
    assert len(headwater.list_executions(launch_plan="on_replayed")) == 1


def test_artifacts_create_publishes_over_http(hw: Cli, tmp_path: Path) -> None:
    card = tmp_path / "card.md"
    card.write_text("# Daily sales\nEU only.")
    create = (
        "artifacts",
        "create",
        "cli_daily",
        "--value",
        '{"rows": 3}',
        "-p",
        "region=EU",
        "--time-partition",
        "2026-11-01T13:45:00Z",
        "--granularity",
        "hour",
        "--card-md",
        card,
        "--json",
    )
    made = as_json(hw(*create))
    assert made["uri"].startswith("hw://default/development/cli_daily@")
    assert made["partitions"] == {"region": "EU"}
    assert made["time_partition"] == "2026-11-01T13:00:00+00:00"  # cut to the hour, as asked
    assert made["value"]["value"] == {"rows": 3}
    assert made["cards"] == [{"kind": "data", "text": "# Daily sales\nEU only."}]
    assert headwater.get_artifact(made["uri"]).value() == {"rows": 3}

    hw.embedded()  # the same command embedded makes the same version, one number up
    local = as_json(hw(*create))
    hw.remote()
    volatile = ("uri", "version", "created_at")
    assert {k: v for k, v in local.items() if k not in volatile} == {
        k: v for k, v in made.items() if k not in volatile
    }
    assert int(local["version"]) == int(made["version"]) + 1

    text = ok(
        hw(
            "artifacts",
            "create",
            "cli_daily",
            "--value",
            "4",
            "-p",
            "region=US",
            "--time-partition",
            "2026-11-02",
            "--granularity",
            "hour",
        )
    ).stdout
    assert text.startswith("published hw://default/development/cli_daily@")
    assert "partitions:      region=US" in text

    redeclared = hw("artifacts", "create", "cli_daily", "--value", "1")
    assert redeclared.exit_code == 2
    assert "is declared with partition keys region and a time partition" in redeclared.stderr
    with_file = hw("artifacts", "create", "cli_file", "--file", card)
    assert with_file.exit_code == 2 and "publishes JSON values only" in with_file.stderr
    assert len(headwater.search_artifacts(name="cli_daily")) == 3
    assert headwater.search_artifacts(name="cli_file") == []


def test_register_uploads_the_code_and_reports_the_servers_verdict(hw: Cli, tmp_path) -> None:
    name = f"cli_up_{uuid.uuid4().hex[:8]}"
    dies = tmp_path / f"{name}_dies.py"
    dies.write_text("import os\n\nos._exit(3)\n")  # importing it here would end this test
    refused = hw("register", dies)
    assert refused.exit_code == 2, refused.output
    assert f"({dies.name}) ended the registration process with exit status 3" in refused.stderr

    good = tmp_path / f"{name}.py"
    good.write_text(
        "from headwater import LaunchPlan, OnEvent, workflow\n\n"
        "@workflow\ndef echo(n: int = 0) -> int:\n    return n\n\n"
        f"LaunchPlan.create('{name}_plan', echo, trigger=OnEvent('{name}.ready'))\n"
    )
    done = hw("register", good, "--activate", "--json")
    plans = {r["name"]: r["active"] for r in as_json(done) if r["kind"] == "launch_plan"}
    assert plans == {f"{name}_plan": True, f"{name}.echo": False}
    assert f"warning: launch plan '{name}_plan' listens to event '{name}.ready'" in done.stderr


def test_relaunch_takes_an_artifact_for_an_input_over_http(hw: Cli) -> None:
    from headwater.client.http import remote

    headwater.register("tests.api.sensors", activate=True)
    first = fired_execution("sensor.reading", {"reading": 3})
    name = f"factor_{uuid.uuid4().hex[:8]}"
    factor = headwater.create_artifact(headwater.Artifact(name=name), 5)
    again = as_json(hw("executions", "relaunch", first.id, "-i", f"factor={factor.uri}", "--json"))
    assert again["status"] == "succeeded" and again["outputs"]["o0"]["value"]["scaled"] == 15
    assert again["resolved_inputs"]["factor"] == {"uri": factor.uri, "via": "explicit"}
    server = remote()
    assert server is not None
    queued = server.relaunch(first.id, {"factor": factor})  # a handle, sent as its URI
    assert headwater.wait_for(queued, timeout=60).output["scaled"] == 15
    downstream = headwater.lineage(factor, direction="downstream", depth=1)
    assert {again["id"], queued.id} <= {n.id for n in downstream.nodes}

    before = len(headwater.list_executions(limit=10_000))
    words = headwater.create_artifact(headwater.Artifact(name=f"w_{uuid.uuid4().hex[:8]}"), "x")
    bad = hw("executions", "relaunch", first.id, "-i", f"factor={words.uri}")
    assert bad.exit_code == 2 and "input 'factor' expects int" in bad.stderr
    assert "holds a str" in bad.stderr
    assert len(headwater.list_executions(limit=10_000)) == before
