"""API tokens: who may call which route (the auth matrix), and project isolation.

Matrix: every route x (no token, a token for another project, viewer, editor, admin).
Reads need viewer, writes editor; a token for another project gets 403 on anything naming
this project and filtered (empty) lists. ``/healthz`` stays open; ``/metrics``, the OpenAPI
schema and its pages take any token. Also: a server that listened beyond loopback stays
closed when every token is revoked (and after a restart), and token checks never make a
request wait for the database.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI

import headwater
from headwater.api import ApiConfig, create_app, exposure, tokens
from headwater.api.access import Gate
from headwater.api.exposure import check_host
from headwater.api.server import ApiServer
from headwater.client.http import RemoteClient
from headwater.errors import HostError
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs
from tests._procs import free_port, wait_for

from . import blob_flows
from .conftest import Api, error_of, registration, serve

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
            self.raw = headwater.create_artifact(headwater.Artifact("raw"), b"some bytes")
        self.blob = self.raw.literal["blob"]

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {} if who == "none" else {"Authorization": f"Bearer {self.secrets[who]}"}
        path = path.format(
            ex=self.execution.id,
            uri=self.version.uri,
            blob=self.blob,
            raw=self.raw.uri,
            page=self.version.uri.removeprefix("hw://"),
        )
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
    ("POST", "/api/v1/events?project=default", {"name": "x.y", "id": "auth-q"}, 202, "editor", 403),
    ("POST", "/api/v1/events/replay", REPLAY, 200, "editor", 403),
    ("POST", "/api/v1/events/replay", {**REPLAY, "project": "default"}, 200, "editor", 403),
    ("GET", "/api/v1/launch-plans", None, 200, "viewer", 200),
    ("POST", "/api/v1/launch-plans/on_sensor/activate", None, 200, "editor", 403),
    ("POST", "/api/v1/launch-plans/on_sensor/deactivate", None, 200, "editor", 403),
    ("POST", "/api/v1/registrations", registration("tests.api.sensors"), 201, "editor", 403),
    ("GET", "/api/v1/blobs/{blob}?uri={raw}", None, 200, "viewer", 403),
    ("GET", "/metrics", None, 200, "viewer", 200),
    ("GET", "/openapi.json", None, 200, "viewer", 200),
    ("GET", "/docs", None, 200, "viewer", 200),
    ("GET", "/redoc", None, 200, "viewer", 200),
    # The web UI: behind the same auth. A bearer token works as for the API; without one a
    # page redirects to /login and a post is a 401 (browser sessions: tests/ui/test_session.py).
    ("GET", "/", None, 200, "viewer", 200),
    ("GET", "/?project=default", None, 200, "viewer", 403),
    ("GET", "/artifacts/{page}", None, 200, "viewer", 403),
    ("GET", "/executions", None, 200, "viewer", 200),
    ("GET", "/executions/{ex}", None, 200, "viewer", 403),
    ("GET", "/launch-plans", None, 200, "viewer", 200),
    ("GET", "/events", None, 200, "viewer", 200),
    ("GET", "/events/auth-ev", None, 200, "viewer", 403),
    ("GET", "/static/ui.css", None, 200, "viewer", 200),
    ("GET", "/launch-plans/on_sensor", None, 200, "viewer", 403),
    ("POST", "/launch-plans/on_sensor/deactivate", None, 303, "editor", 403),
]
_API_PATHS = ("/api/", "/metrics", "/openapi.json", "/docs", "/redoc")


def expected(
    who: str, allowed: int, least: str, other: int, method: str = "GET", path: str = "/api/"
) -> int:
    if who == "none":
        if path.startswith(_API_PATHS):
            return 401
        if path.startswith("/static/"):
            return 200  # the UI's own CSS and JavaScript: the login page needs them
        return 303 if method == "GET" else 401  # a page redirects to /login
    if who == "other":
        return other
    return allowed if tokens.rank(who) >= tokens.rank(least) else 403


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "least", "other"),
    ROUTES,
    ids=[f"{m} {p}" for m, p, *_ in ROUTES],
)
def test_auth_matrix(
    world: World, who: str, method: str, path: str, body: Any, allowed: int, least: str, other: int
) -> None:
    r = world.call(who, method, path, body)
    want = expected(who, allowed, least, other, method, path)
    assert r.status_code == want, r.text
    html = r.headers.get("content-type", "").startswith("text/html")
    if want in (401, 403) and not html:
        assert r.json()["error"]["type"] == ("Unauthorized" if want == 401 else "Forbidden")
    if html:  # a web UI page refused for another project says which
        assert want != 401 and ("Forbidden" in r.text) == (want == 403), r.text
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
    # Written by a background thread, so that no request ever waits for it.
    wait_for(lambda: tokens.list_tokens(instance)[0].last_used_at, "the token's last use")


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


# -- a server that listened beyond loopback stays closed ------------------------------------
@contextmanager
def serve_app(app: FastAPI) -> Iterator[Api]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        try:
            yield Api(portal, client)
        finally:
            portal.call(client.aclose)


def statuses(api: Api, secret: str | None = None) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    paths = ("/api/v1/executions", "/metrics", "/openapi.json", "/docs", "/healthz")
    return {path: api.get(path, headers=headers).status_code for path in paths}


CLOSED = {"/api/v1/executions": 401, "/metrics": 401, "/openapi.json": 401, "/docs": 401}
OPEN = {"/api/v1/executions": 200, "/metrics": 200, "/openapi.json": 200, "/docs": 200}


def test_revoking_every_token_keeps_an_exposed_server_closed(instance: Instance) -> None:
    secret, _ = tokens.create(instance, "ops", "*", "admin")
    # What `headwater up --host 0.0.0.0` builds, without binding anything.
    exposed = create_app(instance, config=ApiConfig(), host="0.0.0.0", port=8265)
    with serve_app(exposed) as api:
        assert statuses(api, secret) == {**OPEN, "/healthz": 200}
        tokens.revoke(instance, "ops")
        assert statuses(api) == {**CLOSED, "/healthz": 200}
        assert statuses(api, secret) == {**CLOSED, "/healthz": 200}
    flag = exposure.exposure(instance)
    assert flag is not None and "0.0.0.0:8265" in flag.reason
    # A restart over the same database, even on loopback, is still closed; so is 0.0.0.0.
    with serve(instance) as api:
        assert statuses(api) == {**CLOSED, "/healthz": 200}
    assert check_host("0.0.0.0", instance) == "0.0.0.0"
    # Only the operator lifts it, on the database; the exposed app stays closed for its life.
    assert exposure.allow_open(instance) is True
    with serve(instance) as api:
        assert statuses(api) == {**OPEN, "/healthz": 200}
    with serve_app(exposed) as api:
        assert statuses(api) == {**CLOSED, "/healthz": 200}
    with pytest.raises(HostError):
        check_host("0.0.0.0", instance)


def test_an_exposed_app_needs_auth_first_and_records_nothing_when_refused(
    instance: Instance,
) -> None:
    with pytest.raises(HostError, match="headwater tokens create"):
        create_app(instance, config=ApiConfig(), host="0.0.0.0")
    with pytest.raises(HostError):
        ApiServer(instance, "::", 8265)  # what the supervisor starts; constructing binds nothing
    assert exposure.exposure(instance) is None
    assert create_app(instance, config=ApiConfig(), host="127.0.0.1").state.gate.exposed is False
    assert exposure.exposure(instance) is None
    tokens.create(instance, "ops", "*", "admin")
    server = ApiServer(instance, "0.0.0.0", 8265)
    assert server.gate.exposed and exposure.exposure(instance) is not None
    assert not server.thread.is_alive()


def test_metrics_can_be_public_for_scrapers(instance: Instance) -> None:
    secret, _ = tokens.create(instance, "ops", "*", "viewer")
    with serve(instance, ApiConfig(metrics_public=True)) as api:
        assert api.get("/metrics").status_code == 200
        assert statuses(api) == {**CLOSED, "/metrics": 200, "/healthz": 200}
        assert statuses(api, secret) == {**OPEN, "/healthz": 200}


# -- no request waits for the database ------------------------------------------------------
@contextmanager
def write_lock_held(inst: Instance) -> Iterator[None]:
    """Another connection holds the write lock (SQLite) / a lock that blocks writes to the
    tokens table (PostgreSQL), as a long write transaction elsewhere would."""
    if inst.db.dialect == "sqlite":
        conn = sqlite3.connect(inst.db.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect("postgresql://" + inst.db.url.split("://", 1)[1])
        conn.execute("LOCK TABLE api_tokens IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback() if inst.db.dialect == "postgresql" else conn.execute("ROLLBACK")
        conn.close()


def test_a_held_write_lock_does_not_freeze_the_server(instance: Instance) -> None:
    secret, _ = tokens.create(instance, "fresh", "*", "viewer")  # never used: first use now
    server = ApiServer(instance, "127.0.0.1", free_port())
    server.start()
    try:
        # A hang test, not a benchmark: before the fix both waited for the lock (minutes).
        with httpx.Client(base_url=server.url, timeout=10) as http, write_lock_held(instance):
            h = {"Authorization": f"Bearer {secret}"}
            with ThreadPoolExecutor(2) as pool:
                authed = pool.submit(http.get, "/api/v1/executions", headers=h)
                health = pool.submit(http.get, "/healthz")
                assert authed.result().status_code == 200
                assert health.result().status_code == 200
            assert http.get("/api/v1/launch-plans", headers=h).status_code == 200
        wait_for(lambda: tokens.list_tokens(instance)[0].last_used_at, "the deferred last use")
    finally:
        server.stop()


def test_revocation_reaches_a_running_server(instance: Instance) -> None:
    secret, _ = tokens.create(instance, "short", "*", "viewer")
    h = {"Authorization": f"Bearer {secret}"}
    env = _procs.headwater_env(instance.settings.home, instance.settings.database_url)
    with serve(instance) as api:
        assert api.get("/api/v1/executions", headers=h).status_code == 200
        # Revoked by another process (the CLI on the server's machine): within the cache TTL.
        revoke = [sys.executable, "-m", "headwater.cli", "tokens", "revoke", "short"]
        subprocess.run(revoke, env=env, check=True, capture_output=True, timeout=60)
        wait_for(
            lambda: api.get("/api/v1/executions", headers=h).status_code == 401,
            "the revocation",
            timeout=Gate.TTL + 5,
        )


# -- blob reads are scoped to a project ------------------------------------------------------
def test_blob_reads_name_what_they_belong_to(instance: Instance, tmp_path: Path) -> None:
    viewer_a, _ = tokens.create(instance, "viewer-a", "default", "viewer")
    everything, _ = tokens.create(instance, "all", "*", "viewer")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inner.txt").write_bytes(b"inner of A")
    with instance.use():
        a = headwater.create_artifact(headwater.Artifact("raw"), b"bytes of A")
        tree = headwater.create_artifact(headwater.Artifact("tree"), headwater.Directory(folder))
        b = headwater.create_artifact(headwater.Artifact("raw", project="proj-b"), b"B secret")
    a_key, b_key = a.literal["blob"], b.literal["blob"]
    inner_key = instance.blobs.tree_manifest(tree.literal["blob"])["inner.txt"]
    with serve(instance) as api:

        def get(key: str, who: str, **params: str) -> httpx.Response:
            return api.get(
                f"/api/v1/blobs/{key}", params=params, headers={"Authorization": f"Bearer {who}"}
            )

        assert get(a_key, viewer_a, uri=a.uri).content == b"bytes of A"
        assert get(inner_key, viewer_a, uri=tree.uri).content == b"inner of A"
        assert "?uri=" in error_of(get(b_key, viewer_a), 403)["message"]  # by key alone
        error_of(get(b_key, viewer_a, uri=b.uri), 403)  # B's version: another project
        assert a.uri in error_of(get(b_key, viewer_a, uri=a.uri), 404)["message"]
        error_of(get(b_key, viewer_a, uri=a.uri + "x"), 404)
        assert get(b_key, everything).content == b"B secret"  # a token for every project
        assert get(b_key, everything, uri=b.uri).content == b"B secret"
        error_of(get(a_key, everything, uri=b.uri), 404)


def test_blob_reads_by_execution(instance: Instance) -> None:
    viewer_a, _ = tokens.create(instance, "viewer-a", "default", "viewer")
    viewer_b, _ = tokens.create(instance, "viewer-b", "proj-b", "viewer")
    with instance.use():
        ex = headwater.run(blob_flows.echo_bytes, data=b"payload of A")
    assert ex.status.value == "succeeded", ex.error
    key = ex.output_literals["o0"]["blob"]
    with serve(instance) as api:
        h = {"Authorization": f"Bearer {viewer_a}"}
        r = api.get(f"/api/v1/blobs/{key}", params={"execution": ex.id}, headers=h)
        assert r.status_code == 200 and r.content == b"payload of A"
        hb = {"Authorization": f"Bearer {viewer_b}"}
        r = api.get(f"/api/v1/blobs/{key}", params={"execution": ex.id}, headers=hb)
        error_of(r, 403)
        r = api.get(
            f"/api/v1/blobs/{key}",
            params={"execution": ex.id, "uri": "hw://default/development/raw@1"},
            headers=h,
        )
        error_of(r, 400)


def test_client_mode_reads_values_with_a_project_token(instance: Instance) -> None:
    viewer, _ = tokens.create(instance, "viewer-a", "default", "viewer")
    with instance.use():
        ex = headwater.run(blob_flows.echo_bytes, data=b"over http")
        version = headwater.create_artifact(headwater.Artifact("raw"), b"artifact bytes")
    server = ApiServer(instance, "127.0.0.1", free_port())
    server.start()
    remote = RemoteClient(server.url, viewer)
    try:
        assert remote.get_artifact(version.uri).value() == b"artifact bytes"
        assert remote.get_execution(ex.id).outputs == {"o0": b"over http"}
    finally:
        remote.close()
        server.stop()


@pytest.mark.parametrize("n", [1, 80], ids=["json-inline", "json-in-a-blob"])
def test_files_inside_a_json_value_are_part_of_it(instance: Instance, n: int) -> None:
    viewer_a, _ = tokens.create(instance, "viewer-a", "default", "viewer")
    with instance.use():
        ex = headwater.run(blob_flows.many_files, n=n)
    assert ex.status.value == "succeeded", ex.error
    assert ("value" in ex.output_literals["o0"]) == (n == 1)
    last = ex.outputs["o0"][-1]._blob
    with serve(instance) as api:
        h = {"Authorization": f"Bearer {viewer_a}"}
        r = api.get(f"/api/v1/blobs/{last}", params={"execution": ex.id}, headers=h)
        assert r.status_code == 200 and r.content == f"part {n - 1}".encode()
