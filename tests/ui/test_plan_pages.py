"""Browser journey 5 in Chromium against a real `headwater up`: on a launch plan's page,
read what changed between its two versions, activate the OLDER one by picking it from the
list, emit the event, and the execution that fires is that version's (its default input),
shown in the plan's recent decisions after a reload. Also the list page: versions, active
version and recent executions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater import LaunchPlan, OnEvent
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import flows
from .conftest import SHOTS

pytestmark = pytest.mark.slow

NAME = "journey_plan"
EVENT = "plan.journey"


@dataclass
class PlanSite:
    base: str
    older: str  # version 1: seed 11
    newer: str  # version 2 (active at first): seed 22
    log: Any

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base + "/api/v1" + path, timeout=30, **kwargs)

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def plan_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[PlanSite]:
    root = tmp_path_factory.mktemp("ui-plans")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    older = register_launch_plan(
        inst,
        LaunchPlan(NAME, flows.review, trigger=OnEvent(EVENT), default_inputs={"seed": 11}),
    )
    newer = register_launch_plan(
        inst,
        LaunchPlan(NAME, flows.review, trigger=OnEvent(EVENT), default_inputs={"seed": 22}),
        activate=True,
    )
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield PlanSite(base, older.version, newer.version, up.log)
        assert up.stop() == 0, up.log()


def _seed(execution: dict[str, Any]) -> Any:
    value = execution["inputs"]["seed"]
    return value.get("value") if isinstance(value, dict) else value


def test_activate_the_older_version_and_the_event_fires_it(plan_site: PlanSite, page: Page) -> None:
    site = plan_site
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site.base + f"/launch-plans/{NAME}")
    newer = page.locator(f"tr.lp-version[data-version='{site.newer}']")
    older = page.locator(f"tr.lp-version[data-version='{site.older}']")
    expect(newer.locator(".active")).to_have_text("active")
    # what changed from version 1 to version 2, in words
    expect(newer.locator(".plan-change")).to_have_text("default input seed: 11 → 22")
    expect(older.locator(".changes")).to_contain_text("first version")
    expect(page.locator("#plan-decisions")).to_contain_text("No recent decision")
    site.shot(page, "launch-plan-versions")

    page.select_option("#version", site.older)
    page.click("#activate-form button[type=submit]")
    expect(older.locator(".active")).to_have_text("active")
    expect(page.locator("tr.lp-version .active")).to_have_count(1)  # one active per name
    site.shot(page, "launch-plan-older-active")

    r = site.api("POST", "/events", json={"name": EVENT, "id": "journey-1", "payload": {}})
    assert r.status_code == 202, r.text

    def fired() -> dict[str, Any] | None:
        found = site.api("GET", f"/launch-plans/{NAME}/decisions").json()["decisions"]
        mine = [d for d in found if d["event_id"] == "journey-1" and d["execution_id"]]
        return mine[0] if mine else None

    decision = _procs.wait_for(fired, "the decision about journey-1", logs=site.log)
    assert decision["launch_plan_version"] == site.older
    execution = site.api("GET", f"/executions/{decision['execution_id']}").json()
    assert execution["trigger"]["launch_plan_version"] == site.older
    assert _seed(execution) == 11  # version 1's default input, not version 2's 22

    page.reload()
    row = page.locator("tr.decision[data-event='journey-1']")
    expect(row.locator("a.fired-link")).to_have_text(decision["execution_id"])
    expect(row).to_have_attribute("data-version", site.older)
    expect(row).to_contain_text(EVENT)
    site.shot(page, "launch-plan-decisions")
    row.locator("a.fired-link").click()
    expect(page).to_have_url(site.base + f"/executions/{decision['execution_id']}")


def test_the_list_links_each_plan_with_its_versions_and_runs(
    plan_site: PlanSite, page: Page
) -> None:
    site = plan_site
    page.goto(site.base + "/launch-plans")
    row = page.locator(f"tr.launch-plan[data-launch-plan='{NAME}']")
    expect(row.locator(".versions")).to_have_text("2")
    expect(row).to_contain_text(f"event {EVENT}")
    site.shot(page, "launch-plans-list")
    page.set_viewport_size({"width": 420, "height": 800})
    site.shot(page, "launch-plans-list-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})
    # keyboard: focus the plan's link and open it with Enter
    row.locator("a.launch-plan-link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#versions")).to_be_visible()
    expect(page.locator("h1")).to_have_text(f"Launch plan {NAME}")
    page.set_viewport_size({"width": 420, "height": 800})
    expect(page.locator(".plan-change")).to_be_in_viewport()
    site.shot(page, "launch-plan-narrow")
