"""Client mode: the same calls give the same results embedded and over HTTP.

A real ``headwater up`` serves an instance; this process reads it once embedded (no
``HEADWATER_API_URL``) and once as a client of the server (with ``HEADWATER_API_URL`` and a
token), and compares.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import _pg
import _procs
import headwater
from headwater import client
from headwater.api import tokens
from headwater.cli import main
from headwater.errors import AuthError, NotFoundError, UserInputError
from headwater.instance import Instance, reset_default
from headwater.settings import Settings

pytestmark = pytest.mark.slow


class Modes:
    def __init__(self, mp: pytest.MonkeyPatch, url: str, secret: str) -> None:
        self.mp, self.url, self.secret = mp, url, secret

    def embedded(self) -> None:
        self.mp.delenv("HEADWATER_API_URL", raising=False)
        self.mp.delenv("HEADWATER_API_TOKEN", raising=False)
        reset_default()

    def remote(self, token: str | None = "default") -> None:
        self.mp.setenv("HEADWATER_API_URL", self.url)
        if token is None:
            self.mp.delenv("HEADWATER_API_TOKEN", raising=False)
        else:
            self.mp.setenv("HEADWATER_API_TOKEN", self.secret if token == "default" else token)
        reset_default()

    def both(self, read: Any) -> tuple[Any, Any]:
        self.embedded()
        local = read()
        self.remote()
        over_http = read()
        self.embedded()
        return local, over_http


@pytest.fixture(scope="module", params=_pg.backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str, str, str]]:
    """A `headwater up` on a fresh database of the backend; an editor and a viewer token.
    Yields (home, database URL, API URL, editor token)."""
    tmp = tmp_path_factory.mktemp(f"client-mode-{request.param}")
    home = tmp / "home"
    database_url = _pg.database_for(request, request.param, home)
    inst = Instance(Settings.from_env({}, home=home, database_url=database_url))
    secret, _ = tokens.create(inst, "client", "*", "editor")
    tokens.create(inst, "reader", "default", "viewer")
    inst.close()
    env = _procs.headwater_env(home, database_url)
    with _procs.running_up(env, tmp / "up.log", workers=1) as up:
        url = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(url, up.log)
        yield home, database_url, url, secret
        assert up.stop() == 0, up.log()


@pytest.fixture
def modes(server: tuple[Path, str, str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Modes]:
    import os

    home, database_url, url, secret = server
    for var in [v for v in os.environ if v.startswith("HEADWATER_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    monkeypatch.setenv("HEADWATER_DATABASE_URL", database_url)
    reset_default()
    try:
        yield Modes(monkeypatch, url, secret)
    finally:
        reset_default()


def test_same_results_embedded_and_over_http(modes: Modes) -> None:
    from tests.api import sensors

    modes.remote()
    registered = headwater.register("tests.api.sensors", activate=True)
    assert {r.name for r in registered} >= {"on_sensor"}
    json_version = headwater.create_artifact(
        headwater.Artifact("table", partition_keys=["region"]), {"rows": 3}, region="EU"
    )
    with pytest.raises(UserInputError, match="client mode"):
        headwater.run(sensors.on_reading, value=1)
    event_id = headwater.emit_event("sensor.reading", {"reading": 4}, id="cm-1")
    event = headwater.wait_for(
        lambda: (e := headwater.get_event(event_id)).decisions and e, timeout=30
    )
    ex = headwater.get_execution(event.decisions[0].execution_id)
    headwater.wait_for(ex, timeout=60)
    assert ex.status.value == "succeeded" and ex.output["scaled"] == 8

    modes.embedded()  # a blob-backed value, published on the server's machine
    blob_version = headwater.create_artifact(headwater.Artifact("raw"), b"\x00binary" * 100)

    got = modes.both(lambda: headwater.get_artifact(json_version.uri).value())
    assert got == ({"rows": 3}, {"rows": 3})
    got = modes.both(lambda: headwater.get_artifact(blob_version.uri).value())
    assert got[0] == got[1] == b"\x00binary" * 100
    got = modes.both(lambda: headwater.get_artifact(json_version.uri).to_dict())
    assert got[0] == got[1]
    got = modes.both(lambda: headwater.lineage(json_version.uri).to_dict())
    assert got[0] == got[1]
    got = modes.both(lambda: [e.id for e in headwater.list_executions()])
    assert got[0] == got[1] and ex.id in got[0]
    got = modes.both(lambda: headwater.get_execution(ex.id).to_dict(nodes=True))
    assert got[0] == got[1]
    got = modes.both(lambda: headwater.get_execution(ex.id).outputs)
    assert got[0] == got[1]
    got = modes.both(lambda: headwater.get_event(event_id).to_dict())
    assert got[0] == got[1] and got[0]["decisions"][0]["outcome"] == "fired"
    got = modes.both(lambda: [e.to_dict() for e in headwater.list_events()])
    assert got[0] == got[1]
    got = modes.both(lambda: [lp.to_dict() for lp in headwater.list_launch_plans()])
    assert got[0] == got[1]
    got = modes.both(
        lambda: [v.uri for v in headwater.search_artifacts("table", partitions={"region": "EU"})]
    )
    assert got[0] == got[1] == [json_version.uri]

    runner = CliRunner()

    def cli(*args: str) -> Any:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    for args in (
        ("artifacts", "list", "--json"),
        ("executions", "show", ex.id, "--json"),
        ("executions", "list", "--json"),
        ("events", "list", "--json"),
        ("launchplans", "list", "--json"),
    ):
        got = modes.both(lambda args=args: cli(*args))
        assert got[0] == got[1], args


def test_errors_map_back(modes: Modes) -> None:
    modes.remote()
    with pytest.raises(NotFoundError):
        headwater.get_execution("no-such-execution")
    with pytest.raises(UserInputError):
        headwater.list_executions(limit=0)
    modes.remote(token=None)
    with pytest.raises(AuthError) as info:
        client.list_executions()
    assert info.value.status == 401
    modes.remote(token="hw_unknown")
    with pytest.raises(AuthError):
        client.list_events()


def test_viewer_token_cannot_write(modes: Modes, server: tuple[Path, str, str, str]) -> None:
    home, database_url = server[:2]
    inst = Instance(Settings.from_env({}, home=home, database_url=database_url))
    secret, _ = tokens.create(inst, "viewer-only", "default", "viewer")
    inst.close()
    modes.remote(token=secret)
    assert isinstance(headwater.list_executions(), list)
    with pytest.raises(AuthError) as info:
        headwater.emit_event("x.y", {})
    assert info.value.status == 403


def test_list_executions_scope_and_launch_plan_filter_match_embedded(
    modes: Modes, server: tuple[Path, str, str, str]
) -> None:
    from tests.api import sensors

    home, database_url = server[:2]
    other = Instance(
        Settings.from_env({}, home=home, database_url=database_url, project="elsewhere")
    )
    with other.use():
        theirs = headwater.run(sensors.on_reading, value=1)
    other.close()
    modes.remote()
    headwater.register("tests.api.sensors", activate=True)
    event_id = headwater.emit_event("sensor.reading", {"reading": 2}, id="cm-scope")
    fired = headwater.wait_for(
        lambda: (e := headwater.get_event(event_id)).decisions and e, timeout=30
    ).decisions[0]

    def listed(**kwargs: Any) -> list[str]:
        return [e.id for e in headwater.list_executions(limit=10_000, **kwargs)]

    got = modes.both(lambda: listed(launch_plan="on_sensor"))
    assert got[0] == got[1] and fired.execution_id in got[0]
    got = modes.both(listed)
    assert got[0] == got[1] and theirs.id not in got[0] and fired.execution_id in got[0]
    got = modes.both(lambda: listed(project="*"))
    assert got[0] == got[1] and {theirs.id, fired.execution_id} <= set(got[0])
    modes.mp.setenv("HEADWATER_PROJECT", "elsewhere")
    got = modes.both(listed)
    assert got[0] == got[1] == [theirs.id]


def test_lineage_of_any_depth_over_http(modes: Modes) -> None:
    from headwater.client.http import remote
    from headwater.engine.publish.lineage import merge
    from headwater.instance import get_instance
    from tests.engine.long_chain import build

    modes.embedded()
    uris = build(get_instance(), 300)
    got = modes.both(lambda: headwater.lineage(uris[-1], "upstream", depth="all").to_dict())
    assert got[0] == got[1] and len(got[0]["nodes"]) == 600
    modes.remote()
    server = remote()
    assert server is not None
    pages = list(server.lineage_pages(uris[-1], "upstream", None, page_nodes=50))
    assert len(pages) >= 12
    assert merge(uris[-1], "upstream", None, pages).to_dict() == got[0]
    lines = CliRunner().invoke(main, ["artifacts", "lineage", uris[-1], "--depth", "all"])
    assert lines.exit_code == 0, lines.output
    assert lines.stdout.count(" <- produced (o0) by execution ") == 300


def test_unstorable_text_and_times_are_refused_over_http_as_embedded(modes: Modes) -> None:
    daily = headwater.Artifact(name="bad_input_daily", time_partitioned=True)
    for mode in (modes.embedded, modes.remote):
        mode()
        with pytest.raises(UserInputError, match=r"payload\.k contains a lone surrogate"):
            headwater.emit_event("x.y", {"k": "\ud800"})
        with pytest.raises(UserInputError, match="id contains a NUL"):
            headwater.emit_event("x.y", {}, id="a\x00")
        with pytest.raises(UserInputError, match=r"time_partition .* out of range"):
            headwater.create_artifact(daily, 1, time_partition="0001-01-01T00:00:00+14:00")
        with pytest.raises(UserInputError, match="event id contains a lone surrogate"):
            headwater.get_event("\udcff")
    modes.embedded()
