"""Every route over the Python client's operations: results, 404 for unknown ids, 400/422
for bad input, always with the error body shape and nothing stored on refusal."""

from __future__ import annotations

import headwater
from headwater.api.errors import STATUS_CODES, status_for
from headwater.errors import NoMatchError, NotFoundError, TypeMismatchError, UserInputError

from .conftest import error_of, registration, stored

MODULE = "tests.api.sensors"


def test_health_and_openapi(api):
    assert api.get("/healthz").json() == {"status": "ok", "database": api_dialect(api)}
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/replay",
        "/api/v1/artifacts",
        "/api/v1/artifacts/get",
        "/api/v1/artifacts/lineage",
        "/api/v1/executions",
        "/api/v1/executions/{execution_id}",
        "/api/v1/executions/{execution_id}/relaunch",
        "/api/v1/launch-plans",
        "/api/v1/launch-plans/{name}/activate",
        "/api/v1/launch-plans/{name}/deactivate",
        "/api/v1/registrations",
        "/healthz",
        "/metrics",
    ):
        assert path in paths


def api_dialect(api) -> str:
    return str(api.get("/healthz").json()["database"])


def test_artifacts_create_search_get_and_lineage(instance, api):
    body = {
        "name": "daily_sales",
        "value": {"total": 3},
        "partitions": {"region": "EU"},
        "time_partition": "2026-11-01",
        "cards": [{"kind": "data", "text": "# sales"}],
    }
    r = api.post("/api/v1/artifacts", json=body)
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["uri"] == "hw://default/development/daily_sales@1"
    assert v["partitions"] == {"region": "EU"} and v["cards"] == [
        {"kind": "data", "text": "# sales"}
    ]
    assert headwater.get_artifact(v["uri"]).value() == {"total": 3}
    found = api.get("/api/v1/artifacts", params={"name": "daily_*", "partition": "region=EU"})
    assert [x["uri"] for x in found.json()] == [v["uri"]]
    assert api.get("/api/v1/artifacts", params={"partition": "region=US"}).json() == []
    query = "hw://default/development/daily_sales?region=EU"
    assert api.get("/api/v1/artifacts/get", params={"uri": query}).json()["version"] == "1"
    graph = api.get("/api/v1/artifacts/lineage", params={"uri": v["uri"]}).json()
    assert graph["root"] == v["uri"] and graph["nodes"][0]["kind"] == "artifact"


def test_artifact_errors(instance, api):
    before = stored(instance)
    missing = {"uri": "hw://default/development/nothing@1"}
    error_of(api.get("/api/v1/artifacts/get", params=missing), 404)
    error_of(api.get("/api/v1/artifacts/lineage", params=missing), 404)
    error_of(api.get("/api/v1/artifacts/get", params={"uri": "not-a-uri"}), 400)
    error_of(api.get("/api/v1/artifacts", params={"partition": "noequals"}), 400)
    error_of(api.get("/api/v1/artifacts", params={"limit": "-1"}), 400)
    error_of(api.get("/api/v1/artifacts/lineage", params={**missing, "direction": "x"}), 400)
    error_of(api.post("/api/v1/artifacts", json={"name": "bad name"}), 400)
    error_of(api.post("/api/v1/artifacts", json={"value": 1}), 400)
    error_of(api.post("/api/v1/artifacts", json={"name": "a", "time_partition": "soon"}), 400)
    error_of(
        api.post("/api/v1/artifacts", content=b"{", headers={"content-type": "application/json"}),
        400,
    )
    assert stored(instance) == before


def test_registration_launch_plans_executions_and_relaunch(instance, api):
    r = api.post("/api/v1/registrations", json=registration(MODULE))
    assert r.status_code == 201
    assert {x["kind"] for x in r.json()["registered"]} >= {"task", "workflow", "launch_plan"}
    lps = api.get("/api/v1/launch-plans").json()
    assert {lp["name"] for lp in lps} == {"on_sensor", "tests.api.sensors.on_reading"}
    assert api.get("/api/v1/launch-plans", params={"active_only": True}).json() == []
    assert api.post("/api/v1/launch-plans/on_sensor/activate").json()["active"] is True
    assert [lp["name"] for lp in api.get("/api/v1/launch-plans?active_only=true").json()] == [
        "on_sensor"
    ]
    assert api.post("/api/v1/launch-plans/on_sensor/deactivate").json()["active"] is False

    from .sensors import on_reading

    ex = headwater.run(on_reading, value=4)
    listed = api.get("/api/v1/executions", params={"status": "succeeded"}).json()
    assert [e["id"] for e in listed] == [ex.id]
    got = api.get(f"/api/v1/executions/{ex.id}", params={"nodes": True}).json()
    assert got["status"] == "succeeded" and got["nodes"][0]["name"].endswith("scale")
    r = api.post(f"/api/v1/executions/{ex.id}/relaunch", json={"inputs": {"factor": 10}})
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["status"] == "queued" and again["trigger"]["of"] == ex.id
    assert again["inputs"]["factor"] != ex.input_literals["factor"]


def test_launch_plan_execution_and_registration_errors(instance, api):
    before = stored(instance)
    error_of(api.post("/api/v1/launch-plans/nope/activate"), 404)
    error_of(api.post("/api/v1/launch-plans/nope/deactivate"), 404)
    error_of(api.post("/api/v1/launch-plans/nope/activate", json={"version": 3}), 400)
    error_of(api.get("/api/v1/executions/nope"), 404)
    error_of(api.post("/api/v1/executions/nope/relaunch"), 404)
    error_of(api.get("/api/v1/executions", params={"status": "sleeping"}), 400)
    error_of(api.post("/api/v1/registrations", json={"path": "no.such.module"}), 400)
    error_of(api.post("/api/v1/registrations", json={}), 400)
    error_of(api.get("/api/v1/events/nope"), 404)
    error_of(api.get("/api/v1/events", params={"since": "yesterday"}), 400)
    error_of(api.get("/api/v1/nothing-here"), 404)
    assert stored(instance) == before


def test_relaunch_with_a_wrong_input_type_is_refused(instance, api):
    from .sensors import on_reading

    ex = headwater.run(on_reading, value=1)
    before = stored(instance)
    err = error_of(
        api.post(f"/api/v1/executions/{ex.id}/relaunch", json={"inputs": {"factor": "ten"}}), 422
    )
    assert "factor" in err["message"]
    err = error_of(
        api.post(f"/api/v1/executions/{ex.id}/relaunch", json={"inputs": {"nope": 1}}), 400
    )
    assert stored(instance) == before


def test_the_status_table_maps_subclasses_to_their_nearest_entry():
    assert status_for(NotFoundError("x")) == 404 and status_for(NoMatchError("x")) == 404
    assert status_for(TypeMismatchError("x")) == 422 and status_for(UserInputError("x")) == 400
    assert status_for(RuntimeError("x")) == 500
    assert all(100 <= code < 600 for code in STATUS_CODES.values())


def test_relaunch_text_inputs_are_converted_to_the_declared_types(instance, api):
    from .sensors import on_reading

    ex = headwater.run(on_reading, value=1)
    r = api.post(f"/api/v1/executions/{ex.id}/relaunch", json={"text_inputs": {"factor": "10"}})
    assert r.status_code == 201, r.text
    assert r.json()["inputs"]["factor"]["value"] == 10
    assert r.json()["inputs"]["value"] == ex.input_literals["value"]
    before = stored(instance)
    url = f"/api/v1/executions/{ex.id}/relaunch"
    err = error_of(api.post(url, json={"text_inputs": {"factor": "ten"}}), 422)
    assert err["type"] == "TypeMismatchError" and "input 'factor'" in err["message"]
    both = {"inputs": {"factor": 3}, "text_inputs": {"factor": "3"}}
    assert "given twice" in error_of(api.post(url, json=both), 400)["message"]
    error_of(api.post(url, json={"text_inputs": {"factor": 3}}), 400)  # text, not a number
    assert stored(instance) == before


def test_relaunch_text_inputs_never_read_a_path_on_the_server(instance, api, tmp_path):
    from headwater import File

    from .extra_flows import file_size

    data = tmp_path / "data.bin"
    data.write_bytes(b"12345")
    ex = headwater.run(file_size, f=File(str(data)))
    assert ex.output == 5
    before = stored(instance)
    secret = tmp_path / "server-only.txt"
    secret.write_text("not for clients")
    url = f"/api/v1/executions/{ex.id}/relaunch"
    err = error_of(api.post(url, json={"text_inputs": {"f": str(secret)}}), 400)
    assert "input 'f'" in err["message"] and "does not read paths" in err["message"]
    assert stored(instance) == before


def test_relaunch_takes_an_artifact_version_for_an_input(instance, api):
    from .sensors import on_reading

    ex = headwater.run(on_reading, value=1)
    factor = headwater.create_artifact(headwater.Artifact(name="factor"), 7)
    url = f"/api/v1/executions/{ex.id}/relaunch"
    r = api.post(url, json={"inputs": {"factor": factor.uri}})
    assert r.status_code == 201, r.text
    assert r.json()["inputs"]["factor"]["value"] == 7
    assert r.json()["resolved_inputs"]["factor"] == {"uri": factor.uri, "via": "explicit"}
    query = "hw://default/development/factor"
    r = api.post(url, json={"text_inputs": {"factor": query}})
    assert r.status_code == 201, r.text
    assert r.json()["resolved_inputs"]["factor"]["uri"] == factor.uri
    downstream = api.get("/api/v1/artifacts/lineage", params={"uri": factor.uri}).json()
    assert len([n for n in downstream["nodes"] if n["kind"] == "execution"]) == 2

    words = headwater.create_artifact(headwater.Artifact(name="words"), "hello")
    before = stored(instance)
    err = error_of(api.post(url, json={"inputs": {"factor": words.uri}}), 422)
    assert err["type"] == "TypeMismatchError"
    assert "input 'factor' expects int" in err["message"] and "holds a str" in err["message"]
    err = error_of(api.post(url, json={"text_inputs": {"factor": f"{query}@9"}}), 404)
    assert stored(instance) == before


def test_executions_list_by_project_and_launch_plan(instance, api):
    from headwater.api import tokens
    from headwater.instance import Instance

    from .sensors import on_reading

    other = Instance(instance.settings.with_(project="other"))
    try:
        with other.use():
            theirs = headwater.run(on_reading, value=1)
    finally:
        other.close()
    mine = headwater.run(on_reading, value=2)

    def ids(**params):
        r = api.get("/api/v1/executions", params=params, headers=params.pop("headers", {}))
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()]

    assert ids() == [mine.id, theirs.id] == ids(project="*")
    assert ids(project="other") == [theirs.id] and ids(project="nobody") == []
    assert ids(launch_plan="nope") == []
    secret, _ = tokens.create(instance, "t-other", "other", "viewer")
    auth = {"Authorization": f"Bearer {secret}"}
    assert ids(limit=1, headers=auth) == [theirs.id]  # filtered before the limit
    r = api.get("/api/v1/executions", params={"project": "default"}, headers=auth)
    assert error_of(r, 403)["type"] == "Forbidden"


def test_lineage_of_any_depth_comes_in_pages(instance, api):
    from ..engine.long_chain import build

    uris = build(instance, 300)
    url = "/api/v1/artifacts/lineage"
    params = {"uri": uris[-1], "direction": "upstream", "depth": "all", "limit": 100}
    nodes: set[str] = set()
    edges: set[tuple[str, ...]] = set()
    pages = 0
    while True:
        r = api.get(url, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["depth"] is None and page["root"] == uris[-1]
        assert len(page["nodes"]) <= 100 + 2  # a page ends with the generation reaching 100
        nodes |= {n["id"] for n in page["nodes"]}
        edges |= {tuple(e.values()) for e in page["edges"]}
        pages += 1
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages >= 6 and len(nodes) == 600 and len(edges) == 599
    assert set(uris) <= nodes

    whole = api.get(url, params={"uri": uris[-1], "depth": "all", "direction": "up" + "stream"})
    assert len(whole.json()["nodes"]) == 600 and whole.json()["next_cursor"] is None
    three = api.get(url, params={"uri": uris[-1], "depth": 3}).json()  # as before: one page
    assert len(three["nodes"]) == 1 + 3 * 2 and three["next_cursor"] is None

    del params["cursor"]
    cursor = api.get(url, params=params).json()["next_cursor"]
    forged = cursor[:-4] + ("AAAA" if cursor[-4:] != "AAAA" else "BBBB")
    err = error_of(api.get(url, params={**params, "cursor": forged}), 400)
    assert "cursor" in err["message"]
    other = {**params, "uri": uris[0], "cursor": cursor}
    assert "another version" in error_of(api.get(url, params=other), 400)["message"]
    error_of(api.get(url, params={**params, "depth": "forever"}), 400)
