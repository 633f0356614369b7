"""``GET /api/v1/graph``: the same graph as the client function, scoped by project/domain and
by the token's project, read access only; and client mode gets the same graph over HTTP."""

from __future__ import annotations

import headwater
from headwater import client
from headwater.api import tokens
from headwater.api.server import ApiServer
from headwater.client.http import RemoteClient
from headwater.instance import Instance
from tests._procs import free_port

from .conftest import Api, serve

MOD = "tests.engine.graph_flows"


def _register(inst: Instance, project: str | None = None) -> None:
    with inst.use():
        headwater.register("tests.engine.graph_helpers", project=project)
        headwater.register(MOD, project=project, activate=True)


def _edges(body: dict) -> set[tuple[str, str, str]]:
    names = {n["id"]: n["name"] for n in body["nodes"]}
    return {(names[e["source"]], e["kind"], names[e["target"]]) for e in body["edges"]}


def test_the_route_returns_the_clients_graph(instance: Instance, api: Api) -> None:
    _register(instance)
    with instance.use():
        headwater.run(__import__(MOD, fromlist=["ingest"]).ingest, n=1)
        expected = client.graph(project="*").to_dict()
    r = api.get("/api/v1/graph")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == expected
    assert body["project"] == "*" and body["domain"] is None
    assert {
        (f"{MOD}.ingest", "produces", "graph_raw"),
        ("graph_raw", "triggers", "on_raw"),
        ("on_raw", "starts", f"{MOD}.cleanse"),
        (f"{MOD}.ingest", "triggers", "after_ingest"),
        ("graph.kick", "triggers", "on_clean"),
    } <= _edges(body)
    ingest = next(n for n in body["nodes"] if n["name"] == f"{MOD}.ingest")
    assert ingest["counts"]["last_run"]["status"] == "succeeded"
    assert ingest["counts"]["failures"] == 0
    assert {(w["launch_plan"], w["name"]) for w in body["warnings"]} >= {
        ("typo_artifact", "graph_claen"),
        ("typo_event", "graph.kikc"),
    }
    assert api.get("/api/v1/graph?domain=production").json()["nodes"] == []
    assert (
        api.get("/api/v1/graph?project=default&domain=development").json()["nodes"]
        == (body["nodes"])
    )


def test_a_token_sees_its_own_projects_graph_only(instance: Instance) -> None:
    _register(instance)
    _register(instance, project="other")
    viewer, _ = tokens.create(instance, "viewer", "default", "viewer")
    elsewhere, _ = tokens.create(instance, "elsewhere", "other", "admin")
    everyone, _ = tokens.create(instance, "everyone", "*", "viewer")
    with serve(instance) as api:

        def get(secret: str | None, query: str = "") -> object:
            headers = {"Authorization": f"Bearer {secret}"} if secret else {}
            return api.get("/api/v1/graph" + query, headers=headers)

        assert get(None).status_code == 401  # tokens exist: auth is required
        mine = get(viewer).json()
        assert mine["project"] == "default"
        assert {n["project"] for n in mine["nodes"]} == {"default"}
        theirs = get(elsewhere).json()
        assert {n["project"] for n in theirs["nodes"]} == {"other"}
        refused = get(elsewhere, "?project=default")
        assert refused.status_code == 403
        assert refused.json()["error"]["type"] == "Forbidden"
        assert {n["project"] for n in get(everyone).json()["nodes"]} == {"default", "other"}
        assert get(everyone, "?domain=%00").status_code == 400
        # read-only: there is nothing to post, whatever the role
        admin, _ = tokens.create(instance, "admin", "*", "admin")
        posted = api.post("/api/v1/graph", headers={"Authorization": f"Bearer {admin}"})
        assert posted.status_code == 405


def test_client_mode_gets_the_same_graph_over_http(instance: Instance) -> None:
    _register(instance)
    reader, _ = tokens.create(instance, "reader", "default", "viewer")
    with instance.use():
        embedded = client.graph()
    server = ApiServer(instance, "127.0.0.1", free_port())
    server.start()
    remote = RemoteClient(server.url, reader)
    try:
        over_http = remote.graph("default", None)
        assert over_http.to_model() == embedded.to_model()
        assert over_http.to_dot() == embedded.to_dot()
        assert remote.graph("default", "production").nodes == []
    finally:
        remote.close()
        server.stop()
