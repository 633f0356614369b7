"""Registering over HTTP against a real ``headwater up`` (client mode): the code is uploaded
and imported in a child process, so a module that kills its process at import cannot take the
server down, and registrations running at once do not share half-imported modules."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import _pg
import _procs
import headwater
from headwater.errors import DefinitionError
from headwater.instance import reset_default

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=_pg.backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, _procs.Up]]:
    tmp = tmp_path_factory.mktemp(f"register-up-{request.param}")
    home = tmp / "home"
    env = _procs.headwater_env(home, _pg.database_for(request, request.param, home))
    with _procs.running_up(env, tmp / "up.log", workers=1) as up:
        url = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(url, up.log)
        yield url, up
        assert up.stop() == 0, up.log()


@pytest.fixture
def remote(
    server: tuple[str, _procs.Up], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[_procs.Up]:
    """This process in client mode against the server (its own home holds nothing)."""
    for var in [v for v in os.environ if v.startswith("HEADWATER_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "client-home"))
    monkeypatch.setenv("HEADWATER_API_URL", server[0])
    reset_default()
    try:
        yield server[1]
    finally:
        reset_default()


def module(tmp_path: Path, source: str) -> Path:
    name = f"up_reg_{uuid.uuid4().hex[:10]}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source).replace("NAME", name))
    return path


REACTIVE = """
from headwater import LaunchPlan, OnEvent, task, workflow

@task
def triple(n: int) -> int:
    return n * 3

@workflow
def tripled(n: int = 0) -> int:
    return triple(n=n)

LaunchPlan.create("NAME_on_event", tripled, trigger=OnEvent("NAME.ready"))
"""


def test_os_exit_at_import_is_a_clear_error_and_up_stays_healthy(remote, tmp_path):
    path = module(tmp_path, "import os\n\nos._exit(3)\n")
    with pytest.raises(DefinitionError) as err:
        headwater.register(path)
    message = str(err.value)
    assert f"({path.name}) ended the registration process with exit status 3" in message
    assert remote.proc.poll() is None, remote.log()
    assert httpx.get(headwater_url() + "/healthz").status_code == 200
    register_and_fire(tmp_path, remote)  # and it still registers and runs what it is given


def headwater_url() -> str:
    return os.environ["HEADWATER_API_URL"]


def test_a_registered_module_fires_its_launch_plans(remote, tmp_path):
    register_and_fire(tmp_path, remote)


def register_and_fire(tmp_path: Path, up: _procs.Up) -> None:
    path = module(tmp_path, REACTIVE)
    name = path.stem
    found = headwater.register(path, activate=True)
    assert {r.name: r.active for r in found if r.kind.startswith("launch plan")} == {
        f"{name}_on_event": True,  # created without a variable, activated: it has a trigger
        f"{name}.tripled": False,
    }
    assert any(f"'{name}.ready'" in w for w in found.warnings)
    event_id = headwater.emit_event(f"{name}.ready", {"n": 7})
    event = headwater.wait_for(lambda: (e := headwater.get_event(event_id)).decisions and e, 60)
    ex = headwater.wait_for(headwater.get_execution(event.decisions[0].execution_id), 60)
    assert ex.status == "succeeded" and ex.output == 21, up.log()


def test_concurrent_registrations_of_two_modules_both_succeed(remote, tmp_path):
    paths = [module(tmp_path, REACTIVE) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: headwater.register(p, activate=True), paths))
    for path, found in zip(paths, results, strict=True):
        assert f"{path.stem}.tripled" in {r.name for r in found}
    active = {lp.name for lp in headwater.list_launch_plans(active_only=True)}
    assert {f"{p.stem}_on_event" for p in paths} <= active
