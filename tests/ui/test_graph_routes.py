"""The graph page and its JSON in-process (no browser), on SQLite and PostgreSQL: the page
lists the workflows and launch plans with their counts and links, the warnings, a drawing
fed by /ui/graph.json (the API's model with links); bad scope -> 400 next to the field; a
token sees its own project only, and the nav links the page."""

from __future__ import annotations

import re

import pytest

import headwater
from headwater import client
from headwater.api import tokens
from headwater.instance import Instance
from tests.api.conftest import serve

from ..engine.conftest import instance  # noqa: F401  (fixture)

MOD = "tests.engine.graph_flows"


@pytest.fixture
def populated(instance: Instance) -> Instance:  # noqa: F811
    from tests.engine import graph_flows

    headwater.register("tests.engine.graph_helpers")
    headwater.register(MOD, activate=True)
    headwater.run(graph_flows.ingest, n=-1)
    return instance


def test_the_page_lists_nodes_counts_and_warnings(populated: Instance) -> None:
    with serve(populated) as api:
        r = api.get("/graph")
        assert r.status_code == 200, r.text
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        html = r.text
        assert '<a href="/graph" aria-current="page">Graph</a>' in html
        assert '<script src="/static/graph.js" defer></script>' in html
        assert f'href="/executions?workflow={MOD}.ingest"' in html
        assert 'href="/launch-plans/on_raw"' in html
        assert re.search(
            r'status-failed">failed</span></a> <time>[^<]+</time></td>\s*<td>1 of 1', html
        )
        assert "graph_claen" in html and "graph.kikc" in html  # the warnings
        assert 'data-src="/ui/graph.json"' in html
        assert api.get("/static/graph.js").status_code == 200


def test_the_json_is_the_api_model_with_links(populated: Instance) -> None:
    with serve(populated) as api:
        body = api.get("/ui/graph.json").json()
        model = api.get("/api/v1/graph").json()
    hrefs = {n["name"]: n.pop("href") for n in body["nodes"]}
    assert body == model
    assert hrefs[f"{MOD}.ingest"] == f"/executions?workflow={MOD}.ingest"
    assert hrefs["on_raw"] == "/launch-plans/on_raw"
    assert hrefs["graph_raw"] == "/?name=graph_raw"
    assert hrefs["graph.kick"] == "/events"


@pytest.mark.parametrize(
    ("query", "field"),
    [("project=no/slash", "project"), ("domain=a%20b", "domain")],
)
def test_a_bad_scope_is_a_400_next_to_the_field(
    populated: Instance, query: str, field: str
) -> None:
    with serve(populated) as api:
        r = api.get(f"/graph?{query}")
        assert r.status_code == 400
        assert f'id="{field}-error"' in r.text and "is not allowed" in r.text
        assert api.get(f"/ui/graph.json?{query}").status_code == 400


def test_the_scope_form_narrows_the_graph(populated: Instance) -> None:
    with populated.use():
        headwater.register("tests.engine.graph_helpers", project="other")
        headwater.register(MOD, project="other", activate=True)
    with serve(populated) as api:
        every = api.get("/ui/graph.json").json()
        other = api.get("/ui/graph.json?project=other").json()
        none = api.get("/graph?domain=production").text
    assert {n["project"] for n in every["nodes"]} == {"default", "other"}
    assert {n["project"] for n in other["nodes"]} == {"other"}
    assert "No workflow registered." in none


def test_a_token_sees_only_its_projects_graph(populated: Instance) -> None:
    with populated.use():
        headwater.register("tests.engine.graph_helpers", project="other")
        headwater.register(MOD, project="other", activate=True)
        ours = client.graph(project="other")
    theirs, _ = tokens.create(populated, "theirs", "other", "viewer")
    h = {"Authorization": f"Bearer {theirs}"}
    with serve(populated) as api:
        assert api.get("/graph").status_code == 303  # to /login: auth is on now
        body = api.get("/ui/graph.json", headers=h).json()
        assert {n["project"] for n in body["nodes"]} == {"other"}
        assert len(body["nodes"]) == len(ours.nodes)
        refused = api.get("/graph?project=default", headers=h)
        assert refused.status_code == 403 and "Forbidden" in refused.text
        assert api.get("/ui/graph.json?project=default", headers=h).status_code == 403
