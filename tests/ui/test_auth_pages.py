"""Browser journeys with auth on, in Chromium against a real `headwater up` holding API
tokens: an editor logs in and activates an older launch-plan version from the list, and the
next event fires that version (journey 5); a viewer sees no controls and a forged post is
refused (journey 7)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater.api import tokens
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import plans
from .conftest import SHOTS

pytestmark = pytest.mark.slow

DETAIL = f"/launch-plans/{plans.NAME}"


@dataclass
class AuthSite:
    base: str
    secrets: dict[str, str]
    first: str
    second: str
    log: Any

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secrets['editor']}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def active(self) -> list[str]:
        found = self.api("GET", "/api/v1/launch-plans", params={"active_only": "true"}).json()
        return [lp["version"] for lp in found if lp["name"] == plans.NAME]

    def login(self, page: Page, role: str) -> None:
        page.goto(self.base + DETAIL)
        expect(page.locator("#login-form")).to_be_visible()  # redirected: no session yet
        page.fill("#token", self.secrets[role])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#versions")).to_be_visible()

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def auth_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[AuthSite]:
    root = tmp_path_factory.mktemp("ui-auth")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    first, second = plans.register_two_versions(inst)
    secrets = {r: tokens.create(inst, f"ui-{r}", "default", r)[0] for r in ("viewer", "editor")}
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield AuthSite(base, secrets, first.version, second.version, up.log)
        assert up.stop() == 0, up.log()


def test_activate_an_older_version_and_the_next_event_fires_it(
    auth_site: AuthSite, page: Page
) -> None:
    site = auth_site
    page.goto(site.base + "/login")
    site.shot(page, "login")
    site.login(page, "editor")
    row = page.locator(f"tr.lp-version[data-version='{site.second}']")
    expect(row.locator(".active")).to_have_text("active")
    site.shot(page, "launch-plan")
    page.select_option("#version", site.first)
    page.click("#activate-form button[type=submit]")
    expect(page.locator(f"tr.lp-version[data-version='{site.first}'] .active")).to_have_text(
        "active"
    )
    expect(page.locator("tr.lp-version .active")).to_have_count(1)  # one active per name
    site.shot(page, "launch-plan-activated")
    assert site.active() == [site.first]
    # Version 2 only fires on env=prod; version 1, now active, on any lp.demo event.
    r = site.api(
        "POST",
        "/api/v1/events",
        json={"name": "lp.demo", "id": "demo-1", "payload": {"env": "dev", "seed": 7}},
    )
    assert r.status_code == 202, r.text

    def decision() -> dict | None:
        found = site.api("GET", "/api/v1/events/demo-1").json()["decisions"]
        mine = [d for d in found if d["launch_plan"] == plans.NAME and d["execution_id"]]
        return mine[0] if mine else None

    fired = _procs.wait_for(decision, "the decision about demo-1", logs=site.log)
    assert fired["launch_plan_version"] == site.first
    page.goto(site.base + "/events/demo-1")
    expect(page.locator(f"tr.decision[data-launch-plan={plans.NAME}] a.fired-link")).to_have_text(
        fired["execution_id"]
    )


def test_a_viewer_sees_no_controls_and_a_forged_post_is_refused(
    auth_site: AuthSite, page: Page
) -> None:
    site = auth_site
    before = site.active()
    site.login(page, "viewer")
    expect(page.locator("tr.lp-version")).to_have_count(2)
    expect(page.locator("#activate-form")).to_have_count(0)
    expect(page.locator("#deactivate-form")).to_have_count(0)
    site.shot(page, "launch-plan-viewer")
    # The browser's own session cookie, but no CSRF field: refused, nothing changed.
    other = site.second if before == [site.first] else site.first
    forged = page.request.post(site.base + DETAIL + "/activate", form={"version": other})
    assert forged.status == 403, forged.text()
    assert "CSRF" in forged.text()
    refused = page.request.post(site.base + DETAIL + "/deactivate", form={})
    assert refused.status == 403
    assert site.active() == before
