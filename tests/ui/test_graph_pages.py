"""The meta-workflow graph page in Chromium, on a real `headwater up` over real registrations
and runs: the drawing shows every node of the API's graph (misspelt trigger names dashed and
listed as warnings), the live counts (a failed ingest, and the notify run its OnFinish plan
started), and every node links to its page: a launch plan to its page, a workflow to its
executions, an artifact to its search; by mouse and by keyboard; wide and narrow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from .conftest import Site

pytestmark = pytest.mark.slow

MOD = "tests.engine.graph_flows"
P = "default/development"


@pytest.fixture(scope="module")
def graph_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[Site]:
    from tests.engine import graph_flows

    root = tmp_path_factory.mktemp("ui-graph")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.engine.graph_helpers")
        headwater.register(MOD, activate=True)
        assert headwater.run(graph_flows.ingest, n=-1).status == "failed"
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)

        def notified() -> str | None:  # the failed ingest fires after_ingest: notify runs
            nodes = httpx.get(f"{base}/api/v1/graph").json()["nodes"]
            plan = next(n for n in nodes if n["name"] == "after_ingest")
            last = (plan["counts"] or {}).get("last_run") or {}
            return last.get("id") if last.get("status") == "succeeded" else None

        ex_id = _procs.wait_for(notified, "after_ingest's run of notify", logs=up.log)
        yield Site(base, env, ex_id)
        assert up.stop() == 0, up.log()


def _node(page: Page, kind: str, name: str) -> Any:
    return page.locator(f'#meta-graph g.node[data-id="{kind}:{P}/{name}"]')


def test_the_graph_shows_every_node_counts_and_warnings(graph_site: Site, page: Page) -> None:
    model = httpx.get(f"{graph_site.base}/api/v1/graph").json()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{graph_site.base}/graph")
    expect(page.locator("header nav a[aria-current='page']")).to_have_text("Graph")
    expect(page.locator("#meta-graph g.node")).to_have_count(len(model["nodes"]))
    expect(page.locator("#meta-graph path.edge")).to_have_count(len(model["edges"]))
    expect(page.locator("#graph-status")).to_contain_text(
        f"{len(model['nodes'])} nodes, {len(model['edges'])} edges"
    )
    for kind, name in (
        ("workflow", f"{MOD}.ingest"),
        ("artifact", "graph_raw"),
        ("launch_plan", "on_raw"),
        ("event", "graph.kick"),
    ):
        expect(_node(page, kind, name)).to_be_visible()
    # live counts: the failed ingest, and the run its OnFinish plan started
    expect(_node(page, "workflow", f"{MOD}.ingest").locator("text.detail")).to_have_text(
        "failed · 1/1 failed"
    )
    expect(_node(page, "launch_plan", "after_ingest").locator("text.detail")).to_have_text(
        "succeeded · 0/1 failed"
    )
    # misspelt names: drawn dashed, and listed with the launch plan that listens to them
    expect(_node(page, "artifact", "graph_claen")).to_have_class(re.compile(r"\bunknown\b"))
    expect(_node(page, "event", "graph.kikc")).to_have_class(re.compile(r"\bunknown\b"))
    warning = page.locator('#graph-warnings li[data-launch-plan="typo_artifact"]')
    expect(warning).to_contain_text("graph_claen")
    # the edges a chain is made of
    for source, kind, target in (
        (f"workflow:{P}/{MOD}.ingest", "produces", f"artifact:{P}/graph_raw"),
        (f"artifact:{P}/graph_raw", "triggers", f"launch_plan:{P}/on_raw"),
        (f"launch_plan:{P}/on_raw", "starts", f"workflow:{P}/{MOD}.cleanse"),
    ):
        edge = f'#meta-graph path[data-source="{source}"][data-target="{target}"]'
        expect(page.locator(f'{edge}[data-kind="{kind}"]')).to_have_count(1)
    # the tables say the same, readable without the drawing
    row = page.locator("#graph-plans tr", has_text="after_ingest")
    expect(row).to_contain_text("succeeded")
    graph_site.shot(page, "graph")

    page.set_viewport_size({"width": 420, "height": 800})
    page.reload()
    expect(page.locator("#meta-graph g.node")).to_have_count(len(model["nodes"]))
    expect(page.locator("#graph-workflows")).to_be_visible()
    graph_site.shot(page, "graph-narrow")


def test_nodes_open_their_pages(graph_site: Site, page: Page) -> None:
    page.goto(f"{graph_site.base}/graph")
    _node(page, "launch_plan", "on_raw").locator("a.node-link").click()
    expect(page).to_have_url(f"{graph_site.base}/launch-plans/on_raw")
    expect(page.locator("h1")).to_have_text("Launch plan on_raw")
    graph_site.shot(page, "graph-launch-plan")

    page.go_back()
    _node(page, "workflow", f"{MOD}.ingest").locator("a.node-link").click()
    expect(page).to_have_url(
        re.compile(r"/executions\?workflow=tests\.engine\.graph_flows\.ingest$")
    )
    expect(page.locator("#executions tbody tr")).to_have_count(1)
    expect(page.locator("#executions")).to_contain_text("failed")
    graph_site.shot(page, "graph-workflow-executions")

    page.go_back()
    link = _node(page, "artifact", "graph_raw").locator("a.node-link")
    link.focus()  # keyboard: a node is a link
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?name=graph_raw$"))
    graph_site.shot(page, "graph-artifact-search")


def test_a_bad_scope_shows_the_error_next_to_the_field(graph_site: Site, page: Page) -> None:
    page.goto(f"{graph_site.base}/graph")
    page.fill("#graph-domain", "not a name")
    page.click("#graph-form button[type=submit]")
    expect(page.locator("#domain-error")).to_contain_text("is not allowed")
    expect(page.locator("#meta-graph")).to_have_count(0)
    page.fill("#graph-domain", "production")
    page.click("#graph-form button[type=submit]")
    expect(page.locator("#graph-workflows")).to_contain_text("No workflow registered.")
    graph_site.shot(page, "graph-empty-domain")
