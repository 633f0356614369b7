"""The Lineage and Versions tabs in-process: the graph's JSON endpoint (shape, one hop, bad
input) and the versions list with its comparison, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

import headwater
from headwater.instance import Instance
from headwater.ui import routes
from tests.api.conftest import serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import chain_flows

P = "hw://default/development/prime@"


@pytest.fixture
def chain(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.chain_flows")
    assert headwater.run(chain_flows.start_primes).status == "succeeded"
    for _ in range(4):
        assert headwater.run(chain_flows.next_prime).status == "succeeded"
    return instance


def _producer(uri: str) -> str:
    return str(headwater.get_artifact(uri).execution_id)


def test_lineage_json_is_one_hop_around_the_version(chain: Instance) -> None:
    producer, consumer = _producer(P + "3"), _producer(P + "4")
    with serve(chain) as api:
        r = api.get("/ui/lineage.json", params={"uri": P + "3"})
        assert r.status_code == 200, r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        body = r.json()
    assert body["root"] == P + "3" and body["direction"] == "both" and body["depth"] == 1
    ids = {n["id"] for n in body["nodes"]}
    # its producer and what that consumed (v2), its consumer and what that produced (v4)
    assert ids == {P + "2", producer, P + "3", consumer, P + "4"}
    edges = {(e["source"], e["target"], e["kind"]) for e in body["edges"]}
    assert (producer, P + "3", "produced") in edges and (P + "3", consumer, "consumed") in edges
    assert (P + "2", producer, "consumed") in edges and (consumer, P + "4", "produced") in edges
    by_id = {n["id"]: n for n in body["nodes"]}
    assert by_id[P + "2"]["short"] == "prime@2"
    assert by_id[P + "2"]["href"] == "/artifacts/default/development/prime@2?tab=lineage"
    assert by_id[producer]["kind"] == "execution"
    assert by_id[producer]["href"] == f"/executions/{producer}"
    assert by_id[producer]["status"] == "succeeded"
    assert body["truncated"] is False


def test_lineage_json_goes_one_way_and_expands_from_an_execution(chain: Instance) -> None:
    producer = _producer(P + "3")
    with serve(chain) as api:
        up = api.get("/ui/lineage.json", params={"uri": P + "3", "direction": "upstream"})
        assert {n["id"] for n in up.json()["nodes"]} == {P + "2", producer, P + "3"}
        down = api.get("/ui/lineage.json", params={"uri": P + "5", "direction": "downstream"})
        assert {n["id"] for n in down.json()["nodes"]} == {P + "5"}  # the newest: no consumer
        around = api.get("/ui/lineage.json", params={"uri": producer, "direction": "both"})
        assert around.status_code == 200
        assert {n["id"] for n in around.json()["nodes"]} == {producer, P + "2", P + "3"}
        deeper = api.get("/ui/lineage.json", params={"uri": P + "5", "depth": "2"})
        assert {P + "3", P + "4", P + "5"} <= {n["id"] for n in deeper.json()["nodes"]}


def test_lineage_json_stops_at_the_node_cap(
    chain: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "LINEAGE_NODE_CAP", 1)
    with serve(chain) as api:
        body = api.get("/ui/lineage.json", params={"uri": P + "3"}).json()
    assert body["truncated"] is True and [n["id"] for n in body["nodes"]] == [P + "3"]
    assert body["edges"] == []
    monkeypatch.setattr(routes, "LINEAGE_NODE_CAP", 2)  # within one generation
    with serve(chain) as api:
        body = api.get("/ui/lineage.json", params={"uri": P + "3"}).json()
    assert body["truncated"] is True and len(body["nodes"]) == 2
    assert all(e["source"] in {n["id"] for n in body["nodes"]} for e in body["edges"])


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"uri": P + "99"}, 404, "prime@99"),
        ({"uri": "no-such-execution"}, 404, "no-such-execution"),
        ({"uri": P + "1", "direction": "sideways"}, 400, "direction must be"),
        ({"uri": P + "1", "depth": "0"}, 400, "depth must be"),
        ({"uri": P + "1", "depth": "all"}, 400, "depth must be"),
        ({}, 400, "uri is missing"),
    ],
)
def test_lineage_json_bad_input(chain: Instance, params: dict, status: int, words: str) -> None:
    with serve(chain) as api:
        r = api.get("/ui/lineage.json", params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert words in r.json()["error"]


def test_lineage_tab_carries_the_root_for_the_script(chain: Instance) -> None:
    with serve(chain) as api:
        r = api.get("/artifacts/default/development/prime@3?tab=lineage&direction=upstream")
    assert r.status_code == 200
    assert f'data-root="{P}3"' in r.text and 'data-direction="upstream"' in r.text
    assert '<script src="/static/lineage.js"' in r.text
    assert 'id="direction-upstream" aria-current="true"' in r.text


def test_versions_tab_lists_newest_first_pages_and_compares(
    chain: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "PAGE_SIZE", 3)
    with serve(chain) as api:
        first = api.get("/artifacts/default/development/prime@2?tab=versions").text
        second = api.get("/artifacts/default/development/prime@2?tab=versions&page=2").text

        def listed(text: str) -> list[int]:
            return [n for n in (5, 4, 3, 2, 1) if f'prime@{n}?tab=versions">prime@{n}' in text]

        assert listed(first) == [5, 4, 3] and listed(second) == [2, 1]
        assert 'rel="next"' not in second
        assert 'rel="next"' in first
        r = api.get("/artifacts/default/development/prime@2?tab=versions&compare=5")
        assert r.status_code == 200
        text = r.text
        assert 'id="comparison"' in text and 'id="card-diff"' in text
        assert 'class="diff-changed"><td><pre>value: 3</pre></td><td><pre>value: 11</pre>' in text
        missing = api.get("/artifacts/default/development/prime@2?tab=versions&compare=77").text
        assert 'id="compare-error"' in missing and "prime@77" in missing


def test_static_lineage_files_are_served(chain: Instance) -> None:
    with serve(chain) as api:
        for name in ("lineage.js", "lineage.css"):
            assert api.get(f"/static/{name}").status_code == 200
