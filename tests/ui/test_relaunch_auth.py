"""Relaunch with auth on, in Chromium against a real `headwater up` holding API tokens: an
editor relaunches from the form; a viewer sees no Relaunch control, cannot open the form and
is refused when posting; a forged post without the CSRF token is refused (journey 7 for the
Executions pages). Nothing is launched by a refused post."""

from __future__ import annotations

import re
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

from . import flows
from .conftest import SHOTS

pytestmark = pytest.mark.slow

OLDER = "hw://default/development/blessed_model@1"


@dataclass
class AuthExecSite:
    base: str
    secrets: dict[str, str]
    evaluated: str
    log: Any

    def count(self) -> int:
        headers = {"Authorization": f"Bearer {self.secrets['editor']}"}
        found = httpx.get(
            self.base + "/api/v1/executions", params={"limit": 1000}, headers=headers, timeout=30
        )
        return len(found.json())

    def login(self, page: Page, role: str, path: str) -> None:
        page.context.clear_cookies()
        page.goto(self.base + path)
        expect(page.locator("#login-form")).to_be_visible()  # redirected: no session yet
        page.fill("#token", self.secrets[role])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-form")).to_have_count(0)

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def auth_exec_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[AuthExecSite]:
    root = tmp_path_factory.mktemp("ui-exec-auth")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
        for seed in (1, 2):
            assert headwater.run(flows.training, seed=seed, blessed="true").status == "succeeded"
        evaluated = headwater.run(flows.evaluate).id
    secrets = {r: tokens.create(inst, f"ui-{r}", "default", r)[0] for r in ("viewer", "editor")}
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield AuthExecSite(base, secrets, evaluated, up.log)
        assert up.stop() == 0, up.log()


def test_a_viewer_sees_no_relaunch_and_is_refused(auth_exec_site: AuthExecSite, page: Page) -> None:
    site = auth_exec_site
    before = site.count()
    detail = f"/executions/{site.evaluated}"
    site.login(page, "viewer", detail)
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator("#relaunch-link")).to_have_count(0)
    site.shot(page, "execution-viewer")
    form = page.goto(site.base + detail + "/relaunch")
    assert form is not None and form.status == 403
    expect(page.locator("#relaunch-form")).to_have_count(0)
    expect(page.locator("#error-message")).to_contain_text("needs 'editor'")
    site.shot(page, "relaunch-viewer-refused")
    # The viewer's own session cookie (a viewer has no form to take a CSRF token from);
    # a viewer's API token with the right role check is refused in test_executions_routes.
    forged = page.request.post(site.base + detail + "/relaunch", form={"version-model": OLDER})
    assert forged.status == 403, forged.text()
    assert site.count() == before


def test_a_forged_post_without_the_csrf_token_is_refused(
    auth_exec_site: AuthExecSite, page: Page
) -> None:
    site = auth_exec_site
    before = site.count()
    detail = f"/executions/{site.evaluated}"
    site.login(page, "editor", detail)
    expect(page.locator("#relaunch-link")).to_be_visible()
    # An editor's session, but the post does not come from the form: no CSRF field.
    forged = page.request.post(site.base + detail + "/relaunch", form={"version-model": OLDER})
    assert forged.status == 403, forged.text()
    assert "CSRF" in forged.text()
    wrong = page.request.post(
        site.base + detail + "/relaunch", form={"csrf": "guessed", "version-model": OLDER}
    )
    assert wrong.status == 403
    assert site.count() == before
    # The form itself works for the editor (the same session, its CSRF field).
    page.click("#relaunch-link")
    html = page.content()
    assert re.search(r'name="csrf" value="[^"]+"', html)
    page.select_option("#version-model", OLDER)
    site.shot(page, "relaunch-editor")
    page.click("#relaunch-form button[type=submit]")
    expect(page.locator("a.trigger-relaunch")).to_have_text(site.evaluated)
    assert site.count() == before + 1
