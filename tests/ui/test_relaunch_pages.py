"""Browser journeys of the Executions pages, in Chromium against a real `headwater up`:
relaunch an execution with Override set to an older compatible version, and the new
execution consumed exactly that version (journey 4); an incompatible override is explained
and launches nothing; a running execution's status changes on its page and in the list
without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import flows
from .conftest import SHOTS

pytestmark = pytest.mark.slow

OLDER = "hw://default/development/blessed_model@1"
LIVE_TIMEOUT = 30_000  # ms the page may take to show what the server already knows


@dataclass
class ExecSite:
    base: str
    root: Path
    evaluated: str  # the evaluate execution, which consumed blessed_model@3
    log: Any

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base + "/api/v1" + path, timeout=30, **kwargs)

    def execution(self, execution_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.api("GET", f"/executions/{execution_id}").json()
        return body

    def count(self) -> int:
        return len(self.api("GET", "/executions", params={"limit": 1000}).json())

    def finished(self, execution_id: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            ex = self.execution(execution_id)
            return ex if ex["status"] not in ("queued", "running") else None

        found: dict[str, Any] = _procs.wait_for(done, f"execution {execution_id}", logs=self.log)
        return found

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def exec_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[ExecSite]:
    root = tmp_path_factory.mktemp("ui-exec")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
        headwater.register("tests.ui.exec_flows", activate=True)
        for seed, blessed in ((1, "true"), (2, "false"), (3, "true")):
            assert headwater.run(flows.training, seed=seed, blessed=blessed).status == "succeeded"
        evaluated = headwater.run(flows.evaluate)
        assert evaluated.resolved_inputs["model"]["uri"].endswith("blessed_model@3")
        assert headwater.run(flows.release, text="# Notes").status == "succeeded"
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=2) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield ExecSite(base, root, evaluated.id, up.log)
        assert up.stop() == 0, up.log()


def test_relaunch_with_an_older_version_consumes_exactly_that_version(
    exec_site: ExecSite, page: Page
) -> None:
    site = exec_site
    page.goto(f"{site.base}/executions/{site.evaluated}")
    expect(page.locator("tr[data-input=model] .how")).to_contain_text("query default")
    page.click("#relaunch-link")
    expect(page.locator("#relaunch-form")).to_be_visible()
    options = page.locator("#version-model option")
    expect(options).to_have_count(3)  # blessed_model@3, @2, @1: the compatible versions
    expect(page.locator("#version-model")).to_have_value("hw://default/development/blessed_model@3")
    page.fill("#filter-model", "@1")  # the list is searchable
    expect(page.locator("#version-model option:not([hidden])")).to_have_count(1)
    page.select_option("#version-model", OLDER)
    site.shot(page, "relaunch-form")
    page.click("#relaunch-form button[type=submit]")
    expect(page.locator("a.trigger-relaunch")).to_have_text(site.evaluated)
    new_id = page.url.rsplit("/", 1)[-1]
    assert new_id != site.evaluated
    # The page follows the new execution live until it ends.
    expect(page.locator("#status")).to_have_text("succeeded", timeout=LIVE_TIMEOUT)
    expect(page.locator("tr[data-input=model] .how")).to_contain_text("relaunch override")
    # ...and the sections below follow: the version it produced, its task call.
    expect(page.locator("a.produced-link")).to_contain_text("model_score")
    expect(page.locator("#timeline .node-row")).to_have_count(1)
    site.shot(page, "relaunched-execution")

    again = site.finished(new_id)
    assert again["status"] == "succeeded", again["error"]
    assert again["resolved_inputs"]["model"] == {"uri": OLDER, "via": "explicit"}
    assert again["outputs"]["o0"]["value"] == 3.0  # the weights of seed 1: 1 + 2
    lineage = site.api(
        "GET", "/artifacts/lineage", params={"uri": OLDER, "direction": "downstream", "depth": 1}
    ).json()
    assert {"source": OLDER, "target": new_id, "kind": "consumed"}.items() <= next(
        e for e in lineage["edges"] if e["target"] == new_id
    ).items()


def test_an_incompatible_override_is_explained_and_nothing_is_launched(
    exec_site: ExecSite, page: Page
) -> None:
    site = exec_site
    before = site.count()
    page.goto(f"{site.base}/executions/{site.evaluated}/relaunch")
    page.fill("#uri-model", "hw://default/development/release_notes@1")
    page.click("#relaunch-form button[type=submit]")
    error = page.locator("#error-model")
    expect(error).to_contain_text("type mismatch")
    expect(error).to_contain_text("pick a version of blessed_model")
    expect(page.locator("#uri-model")).to_have_attribute("aria-invalid", "true")
    site.shot(page, "relaunch-type-mismatch")
    assert site.count() == before


def test_a_running_execution_turns_succeeded_without_a_reload(
    exec_site: ExecSite, page: Page
) -> None:
    site = exec_site
    go = site.root / "go.txt"
    # The list is open before the execution exists: its row is added while it runs.
    listing = page.context.new_page()
    listing.goto(f"{site.base}/executions?workflow=tests.ui.exec_flows.wait_for_file")
    expect(listing.locator("#executions")).to_contain_text("No execution matches.")
    listing.evaluate("window.notReloaded = true")  # a mark that a reload would wipe
    r = site.api(
        "POST", "/events", json={"name": "exec.wait", "id": "wait-1", "payload": {"path": str(go)}}
    )
    assert r.status_code == 202, r.text

    def running() -> str | None:
        decisions = site.api("GET", "/events/wait-1").json()["decisions"]
        ids = [d["execution_id"] for d in decisions if d["execution_id"]]
        if ids and site.execution(ids[0])["status"] == "running":
            return str(ids[0])
        return None

    ex_id = _procs.wait_for(running, "the waiting execution to run", logs=site.log)
    row = listing.locator(f"tr[data-execution-id='{ex_id}']")
    expect(row.locator(".status")).to_have_text("running", timeout=LIVE_TIMEOUT)
    expect(listing.locator("#executions tbody tr")).to_have_count(1)  # the empty row is gone
    site.shot(listing, "executions-running")

    page.goto(f"{site.base}/executions/{ex_id}")
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("tr[data-input=path] .how")).to_contain_text("trigger binding")
    expect(page.locator("#live-note")).to_be_hidden()
    site.shot(page, "execution-running")
    page.evaluate("window.notReloaded = true")

    go.write_text("done")
    expect(page.locator("#status")).to_have_text("succeeded", timeout=LIVE_TIMEOUT)
    expect(page.locator("#live-note")).to_be_visible()
    expect(page.locator("#timeline .node-row .status")).to_have_text("succeeded")
    expect(row.locator(".status")).to_have_text("succeeded", timeout=LIVE_TIMEOUT)
    row.locator("a.execution-link").focus()  # the added row links to the execution
    assert page.evaluate("window.notReloaded") is True
    assert listing.evaluate("window.notReloaded") is True
    site.shot(page, "execution-finished-live")
    site.shot(listing, "executions-finished-live")
    listing.set_viewport_size({"width": 420, "height": 800})
    site.shot(listing, "executions-narrow")
    page.set_viewport_size({"width": 420, "height": 800})
    site.shot(page, "execution-narrow")
    listing.close()
