"""The launch plan reads of ``headwater.client`` give the same answers embedded and as a
client of a real `headwater up` (``HEADWATER_API_URL``): the versions of a plan, the page of
plan names and the plan's decisions (through ``GET /api/v1/launch-plans/NAME/decisions``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import headwater
from headwater import client
from headwater.instance import Instance, reset_default
from headwater.settings import Settings
from tests import _pg, _procs

from . import plans

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=_pg.backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str, str]]:
    """(home, database URL, API URL) of a `headwater up` whose plan has decided events."""
    tmp = tmp_path_factory.mktemp(f"plan-client-{request.param}")
    home = tmp / "home"
    database_url = _pg.database_for(request, request.param, home)
    inst = Instance(Settings.from_env({}, home=home, database_url=database_url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    plans.register_two_versions(inst)
    inst.close()
    env = _procs.headwater_env(home, database_url)
    with _procs.running_up(env, tmp / "up.log", workers=1) as up:
        url = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(url, up.log)
        yield home, database_url, url
        assert up.stop() == 0, up.log()


def _facts() -> tuple[object, ...]:
    versions = client.launch_plan_versions(plans.NAME)
    names = client.launch_plan_summaries(None, 3, 1)
    page = client.launch_plan_decisions(plans.NAME, limit=2)
    older = client.launch_plan_decisions(plans.NAME, limit=2, before=page.next_before)
    return (
        [(v.version, v.active, v.spec.get("triggers")) for v in versions],
        [(s.name, s.versions, s.active, s.shown.version) for s in names],
        [d.to_model() for d in page.decisions],
        [d.to_model() for d in older.decisions],
    )


def test_the_same_answers_embedded_and_over_http(
    server: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, database_url, url = server
    for var in [v for v in os.environ if v.startswith("HEADWATER_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    monkeypatch.setenv("HEADWATER_DATABASE_URL", database_url)
    monkeypatch.setenv("HEADWATER_API_URL", url)
    reset_default()
    try:
        for i in range(3):
            headwater.emit_event("lp.demo", {"env": "prod", "seed": i}, id=f"cm-{i}")
        headwater.wait_for(
            lambda: len(client.launch_plan_decisions(plans.NAME).decisions) == 3, timeout=30
        )
        over_http = _facts()
        monkeypatch.delenv("HEADWATER_API_URL")
        reset_default()
        embedded = _facts()
    finally:
        reset_default()
    assert over_http == embedded
    assert [d.event_id for d in embedded[2]] == ["cm-2", "cm-1"]
    assert [d.event_id for d in embedded[3]] == ["cm-0"]
    assert len(embedded[0]) == 2 and embedded[0][0][1] is True
