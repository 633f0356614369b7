"""API tokens: who may call which route (the auth matrix), and project isolation.

Matrix: every route x (no token, a token for another project, viewer, editor, admin).
Reads need viewer, writes editor; a token for another project gets 403 on anything naming
this project and filtered (empty) lists. ``/healthz`` stays open; ``/metrics`` takes any token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.engine import tokens
from headwater.instance import Instance
from headwater.settings import Settings

from .conftest import Api, serve

ROLES = ("none", "other", "viewer", "editor", "admin")


class World:
    def __init__(self, inst: Instance, api: Api) -> None:
        self.inst, self.api = inst, api
        self.secrets: dict[str, str] = {}
        for role in ("viewer", "editor", "admin"):
            self.secrets[role], _ = tokens.create(inst, f"t-{role}", "default", role)
        self.secrets["other"], _ = tokens.create(inst, "t-other", "other", "admin")
        from tests.api import sensors

        with inst.use():
            headwater.register("tests.api.sensors")
            headwater.register("tests.api.extra_flows", activate=True)
            self.execution = headwater.run(sensors.on_reading, value=2)
            self.version = headwater.create_artifact(headwater.Artifact("table"), {"rows": 3})
            self.event = headwater.emit_event("sensor.other", {"k": 1}, id="auth-ev")
        self.blob = inst.blobs.put_bytes(b"some bytes")

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {} if who == "none" else {"Authorization": f"Bearer {self.secrets[who]}"}
        path = path.format(ex=self.execution.id, uri=self.version.uri, blob=self.blob)
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        return self.api.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("auth") / "home"
    inst = Instance(Settings.from_env({}, home=home))
    with serve(inst) as api:
        yield World(inst, api)
    inst.close()


REPLAY = {"launch_plan": "on_replayed", "since": "2000-01-01T00:00:00Z"}
# (method, path, body, status when allowed, least role, status for another project's token)
ROUTES: list[tuple[str, str, Any, int, str, int]] = [
    ("GET", "/api/v1/artifacts", None, 200, "viewer", 200),
    ("GET", "/api/v1/artifacts?project=default", None, 200, "viewer", 403),
    ("GET", "/api/v1/artifacts/get?uri={uri}", None, 200, "viewer", 403),
    ("GET", "/api/v1/artifacts/lineage?uri={uri}", None, 200, "viewer", 403),
    ("POST", "/api/v1/artifacts", {"name": "table", "value": 1}, 201, "editor", 403),
    ("GET", "/api/v1/executions", None, 200, "viewer", 200),
    ("GET", "/api/v1/executions/{ex}", None, 200, "viewer", 403),
    ("GET", "/api/v1/executions/{ex}/produced", None, 200, "viewer", 403),
    ("POST", "/api/v1/executions/{ex}/relaunch", None, 201, "editor", 403),
    # The execution has ended: an editor gets the 409 that says so.
    ("POST", "/api/v1/executions/{ex}/cancel", None, 409, "editor", 403),
    ("GET", "/api/v1/events", None, 200, "viewer", 200),
    ("GET", "/api/v1/events/auth-ev", None, 200, "viewer", 403),
    ("POST", "/api/v1/events", {"name": "x.y", "id": "auth-post"}, 202, "editor", 403),
    ("POST", "/api/v1/events/replay", REPLAY, 200, "editor", 403),
    ("POST", "/api/v1/events/replay", {**REPLAY, "project": "default"}, 200, "editor", 403),
    ("GET", "/api/v1/launch-plans", None, 200, "viewer", 200),
    ("POST", "/api/v1/launch-plans/on_sensor/activate", None, 200, "editor", 403),
    ("POST", "/api/v1/launch-plans/on_sensor/deactivate", None, 200, "editor", 403),
    ("POST", "/api/v1/registrations", {"path": "tests.api.sensors"}, 201, "editor", 403),
    ("GET", "/api/v1/blobs/{blob}", None, 200, "viewer", 200),
    ("GET", "/metrics", None, 200, "viewer", 200),
]


def expected(who: str, allowed: int, least: str, other: int) -> int:
    if who == "none":
        return 401
    if who == "other":
        return other
    return allowed if tokens.rank(who) >= tokens.rank(least) else 403


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "least", "other"),
    ROUTES,
    ids=[f"{m} {p.split('?')[0]}" for m, p, *_ in ROUTES],
)
def test_auth_matrix(
    world: World, who: str, method: str, path: str, body: Any, allowed: int, least: str, other: int
) -> None:
    r = world.call(who, method, path, body)
    want = expected(who, allowed, least, other)
    assert r.status_code == want, r.text
    if want in (401, 403):
        assert r.json()["error"]["type"] == ("Unauthorized" if want == 401 else "Forbidden")
    listing = path.startswith("/api/v1/") and "blobs" not in path and method == "GET"
    if who == "other" and want == 200 and listing:
        assert r.json() == [], "a token for another project must not list this one"


@pytest.mark.parametrize("who", ROLES)
def test_healthz_is_open(world: World, who: str) -> None:
    assert world.call(who, "GET", "/healthz").status_code == 200


def test_bad_header_and_unknown_token(world: World) -> None:
    for header in ("Basic abc", "Bearer", "Bearer hw_not-a-token", "Bearer nope"):
        r = world.api.get("/api/v1/executions", headers={"Authorization": header})
        assert r.status_code == 401, (header, r.text)


def test_open_without_tokens_and_required_by_env(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(instance) as api:
        assert api.get("/api/v1/executions").status_code == 200
        monkeypatch.setenv("HEADWATER_AUTH", "required")
        assert api.get("/api/v1/executions").status_code == 401
        monkeypatch.delenv("HEADWATER_AUTH")
        secret, _ = tokens.create(instance, "ci", "*", "viewer")
        assert api.get("/api/v1/executions").status_code == 401
        ok = api.get("/api/v1/executions", headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200
        assert api.get("/metrics", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        assert api.get("/metrics").status_code == 401
        tokens.revoke(instance, "ci")  # no live token left: open again
        assert api.get("/api/v1/executions").status_code == 200
        r = api.get("/api/v1/executions", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 401  # a revoked token is refused even on an open server


def test_all_projects_token_and_last_used(instance: Instance, tmp_path: Path) -> None:
    secret, info = tokens.create(instance, "ops", "*", "editor")
    assert info.last_used_at is None
    with serve(instance) as api:
        h = {"Authorization": f"Bearer {secret}"}
        assert api.get("/api/v1/artifacts?project=anything", headers=h).status_code == 200
        r = api.post("/api/v1/events", json={"name": "a.b", "project": "elsewhere"}, headers=h)
        assert r.status_code == 202, r.text
    (found,) = tokens.list_tokens(instance)
    assert found.last_used_at is not None


def test_events_for_another_project_are_refused_and_not_stored(instance: Instance) -> None:
    secret, _ = tokens.create(instance, "a", "proj-a", "editor")
    with serve(instance) as api:
        h = {"Authorization": f"Bearer {secret}"}
        r = api.post("/api/v1/events", json={"name": "a.b", "project": "proj-b"}, headers=h)
        assert r.status_code == 403, r.text
        r = api.post("/api/v1/events", json={"name": "a.b", "project": "proj-a"}, headers=h)
        assert r.status_code == 202, r.text
    with instance.db.read() as tx:
        assert [r["project"] for r in tx.all("SELECT project FROM events")] == ["proj-a"]


def test_replay_names_a_project_the_token_may_touch(world: World) -> None:
    # A token for project "other" passes the project check for its own project (and finds no
    # such launch plan there); for this project it is refused before anything is replayed.
    own = world.call("other", "POST", "/api/v1/events/replay", {**REPLAY, "project": "other"})
    assert own.status_code == 404, own.text
    r = world.call("editor", "POST", "/api/v1/events/replay", {**REPLAY, "project": "other"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "Forbidden", r.text
