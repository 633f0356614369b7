"""Journey 6 in Chromium against a real `headwater up`: emit an event two launch plans listen
to (one filters it out), open its page right away and watch the decisions arrive without a
reload: one fired (linked to its execution, which opens), one not fired with the reason.
Then replay an event to a launch plan activated after it arrived (a backfill)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
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

LATE = "review_backfill"  # inactive when its event arrives; activated, then replayed to
WAIT = 30_000  # ms Playwright waits for what the reactor and the page's polling bring


@dataclass
class EventSite:
    base: str
    up: _procs.Up

    def log(self) -> str:
        return self.up.log()

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base + path, timeout=30, **kwargs)

    def emit(self, name: str, event_id: str, payload: dict[str, Any]) -> None:
        body = {"name": name, "id": event_id, "payload": payload}
        r = self.api("POST", "/api/v1/events", json=body)
        assert r.status_code == 202, r.text

    def decisions(self, event_id: str, n: int) -> list[dict[str, Any]]:
        """The event's decisions once there are ``n``."""

        def found() -> list[dict[str, Any]] | None:
            got = self.api("GET", f"/api/v1/events/{event_id}").json()["decisions"]
            return got if len(got) >= n else None

        return list(_procs.wait_for(found, f"{n} decisions about {event_id}", logs=self.log))

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def event_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[EventSite]:
    # review_any fires on any model.review event, review_prod only on env=prod (tests.ui.flows);
    # review_backfill listens to review.late but is registered inactive.
    root = tmp_path_factory.mktemp("ui-events")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    register_launch_plan(
        inst,
        LaunchPlan(LATE, flows.review, trigger=OnEvent("review.late", parameters={"seed": "seed"})),
    )
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield EventSite(base, up)
        assert up.stop() == 0, up.log()


def test_emit_and_watch_one_fire_and_one_filtered_out_live(
    event_site: EventSite, page: Page
) -> None:
    site = event_site
    # The reactor process is paused while the event arrives and its page opens, so the page
    # is seen before any decision; the decisions then arrive while it stays open.
    reactor = site.up.reactor()
    assert reactor is not None, site.log()
    os.kill(reactor, signal.SIGSTOP)
    try:
        site.emit("model.review", "journey-6", {"env": "dev", "seed": 6})
        page.goto(site.base + "/events/journey-6")
        page.evaluate("window.notReloaded = true")
        expect(page.locator("#event-name")).to_have_text("model.review")
        expect(page.locator("#payload")).to_contain_text('"seed": 6')
        expect(page.locator("#waiting")).to_be_visible()
        expect(page.locator("tr.decision")).to_have_count(0)
        site.shot(page, "event-live-opened")
    finally:
        os.kill(reactor, signal.SIGCONT)
    fired = page.locator("tr.decision[data-launch-plan=review_any]")
    filtered = page.locator("tr.decision[data-launch-plan=review_prod]")
    expect(fired.locator("a.fired-link")).to_have_count(1, timeout=WAIT)
    expect(filtered.locator(".reason")).to_contain_text(
        "filter failed: env='dev', trigger wants 'prod'", timeout=WAIT
    )
    expect(filtered.locator(".outcome")).to_have_text("not fired")
    expect(fired.locator(".outcome")).to_have_text("fired")
    expect(filtered.locator("a.fired-link")).to_have_count(0)
    expect(page.locator("#waiting")).to_be_hidden()
    [execution] = [d["execution_id"] for d in site.decisions("journey-6", 2) if d["execution_id"]]
    expect(fired.locator("a.fired-link")).to_have_text(execution)
    site.shot(page, "event-live-decided")
    # A new decision recorded elsewhere (a replay over the REST API) appears without reload.
    at = datetime.fromisoformat(site.api("GET", "/api/v1/events/journey-6").json()["time"])
    ms = timedelta(milliseconds=1)  # around the event's time (rounded to microseconds)
    window = {"since": (at - ms).isoformat(), "until": (at + ms).isoformat()}
    r = site.api("POST", "/api/v1/events/replay", json={"launch_plan": "review_any", **window})
    assert r.status_code == 200 and len(r.json()) == 1, r.text
    expect(fired).to_have_count(2, timeout=WAIT)
    expect(fired.nth(1).locator(".reason")).to_have_text(
        "already fired for this event (exactly once)"
    )
    expect(page.locator("#live-status")).to_contain_text("3 decisions")
    assert page.evaluate("window.notReloaded") is True
    site.shot(page, "event-live-replayed")
    # The fired decision links to its execution: it opens.
    fired.first.locator("a.fired-link").click()
    expect(page).to_have_url(f"{site.base}/executions/{execution}")
    expect(page.locator("a.trigger-event")).to_contain_text("journey-6")
    site.shot(page, "event-fired-execution")


def test_the_list_filters_and_links_to_the_event(event_site: EventSite, page: Page) -> None:
    site = event_site
    site.emit("model.review", "listed-1", {"env": "prod", "seed": 1})
    page.goto(site.base + "/events")
    page.fill("#name", "model.review")
    page.click("#events-form button[type=submit]")
    expect(page.locator("a.event-link", has_text="listed-1")).to_have_count(1)
    rows = page.locator("#events tbody tr")
    expect(rows.filter(has_text="model.review")).to_have_count(rows.count())
    site.shot(page, "events-filtered")
    page.fill("#since", "not a date")
    page.click("#events-form button[type=submit]")
    expect(page.locator("#since-error")).to_contain_text("is not a date or time")
    expect(page.locator("#since")).to_have_value("not a date")
    site.shot(page, "events-bad-date")
    page.goto(site.base + "/events?name=model.review")
    page.evaluate("window.notReloaded = true")
    site.emit("model.review", "listed-2", {"env": "prod", "seed": 2})  # shows up by itself
    expect(page.locator("#events tbody tr").first).to_contain_text("listed-2", timeout=WAIT)
    expect(page.locator("#live-status")).to_have_text("New events arrived.")
    assert page.evaluate("window.notReloaded") is True
    site.shot(page, "events-live")
    page.click("a.event-link:has-text('listed-1')")
    expect(page.locator("#event-name")).to_have_text("model.review")
    expect(page.locator("tr.decision a.fired-link")).to_have_count(2, timeout=WAIT)
    page.set_viewport_size({"width": 420, "height": 800})  # a narrow window
    expect(page.locator("#decisions")).to_be_visible()
    site.shot(page, "event-narrow")


def test_replay_an_event_to_a_launch_plan_activated_after_it(
    event_site: EventSite, page: Page
) -> None:
    site = event_site
    site.emit("review.late", "late-1", {"seed": 9})
    [missed] = site.decisions("late-1", 1)
    assert missed["outcome"] == "not_fired" and "inactive" in missed["reason"]
    r = site.api("POST", f"/api/v1/launch-plans/{LATE}/activate")
    assert r.status_code == 200, r.text
    page.goto(site.base + "/events/late-1")
    row = page.locator(f"tr.decision[data-launch-plan={LATE}]")
    expect(row.locator(".reason")).to_contain_text("is inactive")
    page.select_option("#launch_plan", LATE)
    site.shot(page, "event-replay-form")
    page.click("#replay-form button[type=submit]")
    expect(page.locator("#replayed")).to_contain_text(f"Replayed the event to {LATE}")
    expect(row).to_have_count(2)
    replayed = page.locator(f"tr.decision-replayed[data-launch-plan={LATE}]")
    expect(replayed.locator(".outcome")).to_have_text("fired")
    site.shot(page, "event-replayed")
    new = replayed.locator("a.fired-link").inner_text()
    replayed.locator("a.fired-link").click()
    expect(page).to_have_url(f"{site.base}/executions/{new}")
    expect(page.locator("h1")).to_contain_text(new)


def test_an_unknown_event_is_a_404_page_linking_to_search(
    event_site: EventSite, page: Page
) -> None:
    response = page.goto(event_site.base + "/events/no-such-event")
    assert response is not None and response.status == 404
    expect(page.locator("#error-message")).to_contain_text("no event 'no-such-event'")
    event_site.shot(page, "event-not-found")
    page.click("#back-to-search")
    expect(page.locator("#search-form")).to_be_visible()
