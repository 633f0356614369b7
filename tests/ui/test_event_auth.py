"""Who may see an event page and replay an event from it, with auth on: in-process on SQLite
and PostgreSQL (every role, with a session or a bearer token, forged posts), and in Chromium
(a viewer sees no replay control and a forged post is refused; an editor replays)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater import LaunchPlan, OnEvent
from headwater.api import tokens
from headwater.engine.react.reactor import Reactor
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs
from tests.api.conftest import Api, serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import flows
from .conftest import SHOTS

LATE = "review_late"  # inactive when the event arrived, active since: a replay fires it
EVENT = "/events/late-1"
REPLAY = EVENT + "/replay"


def _populate(inst: Instance) -> dict[str, str]:
    """The event late-1, decided while review_late was inactive; review_late active now.
    Tokens of every role for this project, and an admin's for another project."""
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
        register_launch_plan(inst, LaunchPlan(LATE, flows.review, trigger=OnEvent("review.late")))
        headwater.emit_event("review.late", {}, id="late-1")
        while Reactor(inst).run_once():
            pass
        headwater.activate(LATE)
    secrets = {r: tokens.create(inst, f"ui-{r}", "default", r)[0] for r in ("viewer", "editor")}
    secrets["other"] = tokens.create(inst, "ui-other", "other", "admin")[0]
    return secrets


@dataclass
class Site:
    inst: Instance
    api: Api
    secrets: dict[str, str]

    def login(self, role: str) -> dict[str, str]:
        """A session for the role's token: the cookie header a browser would send."""
        r = self.api.post("/login", data={"token": self.secrets[role], "next": EVENT})
        assert r.status_code == 303, r.text
        self.api.client.cookies.clear()  # each call names its session itself
        return {"Cookie": f"hw_session={r.cookies['hw_session']}"}

    def decisions(self) -> list[str]:
        with self.inst.use():
            return [d.outcome for d in headwater.get_event("late-1").decisions]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@pytest.fixture
def site(instance: Instance) -> Iterator[Site]:  # noqa: F811
    secrets = _populate(instance)
    with serve(instance) as api:
        yield Site(instance, api, secrets)


def test_an_editor_replays_with_the_pages_csrf_token(site: Site) -> None:
    cookie = site.login("editor")
    html = site.api.get(EVENT, headers=cookie).text
    assert 'id="replay-form"' in html
    r = site.api.post(REPLAY, data={"csrf": csrf_of(html), "launch_plan": LATE}, headers=cookie)
    assert r.status_code == 303, r.text
    assert site.decisions() == ["not_fired", "fired"]


@pytest.mark.parametrize("csrf", [None, "", "wrong"])
def test_a_post_without_the_right_csrf_token_is_refused_and_replays_nothing(
    site: Site, csrf: str | None
) -> None:
    cookie = site.login("editor")
    data = {"launch_plan": LATE} | ({} if csrf is None else {"csrf": csrf})
    r = site.api.post(REPLAY, data=data, headers=cookie)
    assert r.status_code == 403 and "CSRF" in r.text
    other_session = site.api.get(EVENT, headers=site.login("editor")).text
    r = site.api.post(
        REPLAY, data={"csrf": csrf_of(other_session), "launch_plan": LATE}, headers=cookie
    )
    assert r.status_code == 403
    assert site.decisions() == ["not_fired"]


def test_a_viewer_sees_the_decisions_but_no_control_and_is_refused(site: Site) -> None:
    cookie = site.login("viewer")
    html = site.api.get(EVENT, headers=cookie).text
    assert 'id="replay-form"' not in html and "Replay" not in html
    assert f'data-launch-plan="{LATE}"' in html and "is inactive" in html
    live = site.api.get("/ui/events/late-1/decisions.json", headers=cookie)
    assert live.status_code == 200 and len(live.json()["decisions"]) == 1
    # Even with a valid CSRF token of its own session, the role is too low.
    own = csrf_of(site.api.get("/logout", headers=cookie).text)
    r = site.api.post(REPLAY, data={"csrf": own, "launch_plan": LATE}, headers=cookie)
    assert r.status_code == 403 and "viewer" in r.text
    assert site.decisions() == ["not_fired"]


def test_a_token_for_another_project_sees_no_event_and_cannot_replay(site: Site) -> None:
    cookie = site.login("other")
    assert site.api.get(EVENT, headers=cookie).status_code == 403
    assert site.api.get("/ui/events/late-1/decisions.json", headers=cookie).status_code == 403
    own = csrf_of(site.api.get("/logout", headers=cookie).text)
    r = site.api.post(REPLAY, data={"csrf": own, "launch_plan": LATE}, headers=cookie)
    assert r.status_code == 403
    assert site.decisions() == ["not_fired"]


# (who, method, path, status): with a bearer token no session (nor CSRF token) is involved.
BEARER = [
    ("none", "GET", EVENT, 303),
    ("none", "GET", "/ui/events/late-1/decisions.json", 303),
    ("none", "POST", REPLAY, 401),
    ("viewer", "GET", EVENT, 200),
    ("viewer", "GET", "/events", 200),
    ("viewer", "POST", REPLAY, 403),
    ("other", "GET", EVENT, 403),
    ("other", "GET", "/events", 200),
    ("other", "POST", REPLAY, 403),
    ("editor", "POST", REPLAY, 303),
]


@pytest.mark.parametrize(("who", "method", "path", "status"), BEARER)
def test_auth_matrix_of_the_event_routes(
    site: Site, who: str, method: str, path: str, status: int
) -> None:
    headers = {} if who == "none" else {"Authorization": f"Bearer {site.secrets[who]}"}
    data = {"launch_plan": LATE} if method == "POST" else None
    r = site.api.request(method, path, headers=headers, data=data)
    assert r.status_code == status, r.text
    if status == 303 and who == "none":
        assert r.headers["location"].startswith("/login?next=")
    replayed = method == "POST" and status == 303
    assert site.decisions() == (["not_fired", "fired"] if replayed else ["not_fired"])
    if who == "other" and path == "/events":
        assert "late-1" not in r.text  # another project's events are not listed


# -- in Chromium -----------------------------------------------------------------------------


@dataclass
class BrowserSite:
    base: str
    secrets: dict[str, str]
    log: Any

    def login(self, page: Page, role: str) -> None:
        page.context.clear_cookies()
        page.goto(self.base + EVENT)
        expect(page.locator("#login-form")).to_be_visible()  # redirected: no session yet
        page.fill("#token", self.secrets[role])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#event-name")).to_have_text("review.late")

    def decisions(self) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.secrets['editor']}"}
        r = httpx.get(self.base + "/api/v1/events/late-1", headers=headers, timeout=30)
        return list(r.json()["decisions"])

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[BrowserSite]:
    root = tmp_path_factory.mktemp("ui-event-auth")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    secrets = _populate(inst)
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield BrowserSite(base, secrets, up.log)
        assert up.stop() == 0, up.log()


@pytest.mark.slow
def test_a_viewer_sees_no_replay_control_and_a_forged_post_is_refused(
    browser_site: BrowserSite, page: Page
) -> None:
    site = browser_site
    site.login(page, "viewer")
    expect(page.locator(f"tr.decision[data-launch-plan={LATE}] .reason")).to_contain_text(
        "is inactive"
    )
    expect(page.locator("#replay-form")).to_have_count(0)
    site.shot(page, "event-viewer")
    # The browser's own session cookie, but no CSRF field: refused, nothing replayed.
    forged = page.request.post(site.base + REPLAY, form={"launch_plan": LATE})
    assert forged.status == 403 and "CSRF" in forged.text()
    assert len(site.decisions()) == 1


@pytest.mark.slow
def test_an_editor_replays_from_the_event_page(browser_site: BrowserSite, page: Page) -> None:
    site = browser_site
    site.login(page, "editor")
    forged = page.request.post(site.base + REPLAY, form={"launch_plan": LATE})
    assert forged.status == 403 and "CSRF" in forged.text()
    page.select_option("#launch_plan", LATE)
    page.click("#replay-form button[type=submit]")
    expect(page.locator("#replayed")).to_contain_text(f"Replayed the event to {LATE}")
    fired = page.locator(f"tr.decision-replayed[data-launch-plan={LATE}] a.fired-link")
    expect(fired).to_have_count(1)
    site.shot(page, "event-editor-replayed")
    assert [d["outcome"] for d in site.decisions()] == ["not_fired", "fired"]
