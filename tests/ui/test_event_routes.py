"""The Events pages in-process (no browser), on SQLite and PostgreSQL: filters and paging of
the list, 400 next to the field for a bad date, 404 for an unknown event, every outcome the
reactor records shown in words, the live decisions JSON, and replay to one launch plan."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import headwater
from headwater import AllOf, ConcurrencyPolicy, LaunchPlan, OnEvent
from headwater.engine.react import events as event_api
from headwater.engine.react.reactor import Reactor
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.instance import Instance
from headwater.ui import events as event_pages
from tests.api.conftest import serve

from ..engine.conftest import count, instance  # noqa: F401  (fixture)
from . import flows


@pytest.fixture
def world(instance: Instance) -> Instance:  # noqa: F811
    """Launch plans of every outcome, all on ``ev.*`` events: one fires, one is filtered out,
    one waits for the second part of an AllOf, one skips by concurrency."""
    headwater.register("tests.ui.flows", activate=False)
    for lp in (
        LaunchPlan("ev_any", flows.review, trigger=OnEvent("ev.one")),
        LaunchPlan("ev_prod", flows.review, trigger=OnEvent("ev.one", filter={"env": "prod"})),
        LaunchPlan("ev_join", flows.review, trigger=AllOf(OnEvent("ev.one"), OnEvent("ev.two"))),
        LaunchPlan(
            "ev_one_at_a_time",
            flows.review,
            trigger=OnEvent("ev.busy"),
            concurrency=ConcurrencyPolicy(1, "skip"),
        ),
    ):
        register_launch_plan(instance, lp, activate=True)
    return instance


def _decide(inst: Instance) -> None:
    while Reactor(inst).run_once():
        pass


def _rows(html: str) -> dict[str, str]:
    """Decision rows of an event page by launch plan: the row's HTML."""
    found = re.findall(r'<tr class="decision [^"]*" data-launch-plan="([^"]+)".*?</tr>', html, re.S)
    rows = re.findall(r'(<tr class="decision [^"]*" data-launch-plan="[^"]+".*?</tr>)', html, re.S)
    return dict(zip(found, rows, strict=True))


def test_every_outcome_is_shown_in_words_with_its_class(world: Instance) -> None:
    headwater.emit_event("ev.one", {"env": "dev"}, id="one-1")
    headwater.emit_event("ev.busy", {}, id="busy-1")
    headwater.emit_event("ev.busy", {}, id="busy-2")
    with serve(world) as api:
        waiting = api.get("/events/one-1").text
        assert 'id="waiting" >' in waiting or 'id="waiting">' in waiting  # not hidden yet
        _decide(world)
        html = api.get("/events/one-1").text
        rows = _rows(html)
        assert set(rows) == {"ev_any", "ev_prod", "ev_join"}
        fired = headwater.get_event("one-1").decisions
        [ex] = [d.execution_id for d in fired if d.execution_id]
        assert "decision-fired" in rows["ev_any"] and ">fired<" in rows["ev_any"]
        assert f'href="/executions/{ex}"' in rows["ev_any"]
        assert "decision-not_fired" in rows["ev_prod"] and ">not fired<" in rows["ev_prod"]
        assert "filter failed: env=&#39;dev&#39;, trigger wants &#39;prod&#39;" in rows["ev_prod"]
        assert "where env = prod" in rows["ev_prod"]  # the trigger in words
        join = rows["ev_join"]
        assert "decision-waiting" in join and "waiting for the other parts of an AllOf" in join
        assert "part(s) 1 not seen yet" in join and "(part 1 of 2 of" in join
        assert 'id="waiting" hidden' in html
        busy = api.get("/events/busy-2").text
        assert "decision-skipped" in busy and "skipped by concurrency" in busy
        assert "concurrency limit 1 reached" in busy
        assert "decision-fired" in api.get("/events/busy-1").text


def test_the_decisions_json_is_what_the_page_polls(world: Instance) -> None:
    headwater.emit_event("ev.one", {"env": "dev"}, id="one-1", source="test://a")
    with serve(world) as api:
        page = api.get("/events/one-1").text
        live = re.search(r'data-live="([^"]+)"', page)
        assert live is not None and 'data-count="0"' in page
        url = live.group(1).replace("&amp;", "&")
        before = api.get(url).json()
        assert before["decided"] is False and before["decisions"] == []
        _decide(world)
        after = api.get(url)
        assert after.headers["content-security-policy"].startswith("default-src 'self'")
        body = after.json()
        assert body["decided"] is True
        assert sorted(d["launch_plan"] for d in body["decisions"]) == [
            "ev_any",
            "ev_join",
            "ev_prod",
        ]
        assert set(_rows(body["html"])) == {"ev_any", "ev_join", "ev_prod"}
        # A poller already showing the three rows gets no rows again; one showing fewer does.
        assert "html" not in api.get(url + "&known=3").json()
        assert set(_rows(api.get(url + "&known=2").json()["html"])) == set(_rows(body["html"]))
        missing = api.get("/ui/events/nope/decisions.json")
        assert missing.status_code == 404 and missing.json() == {"error": "no such event"}


def test_the_list_filters_by_name_source_and_time(world: Instance) -> None:
    day = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    for i, (name, source) in enumerate(
        [("ev.one", "test://a"), ("ev.two", "test://a"), ("ev.one", "test://b")]
    ):
        at = (day + timedelta(days=i)).timestamp()  # a day apart, from 2026-01-10 noon
        event_api.emit(world, name, {}, id=f"e{i}", source=source, time_=at)
    with serve(world) as api:

        def shown(**params: str) -> list[str]:
            r = api.get("/events", params=params)
            assert r.status_code == 200, r.text
            return re.findall(r'class="event-link" href="[^"]*">([^<]+)</a>', r.text)

        assert shown() == ["e2", "e1", "e0"]
        assert shown(name="ev.one") == ["e2", "e0"]
        assert shown(source="test://a") == ["e1", "e0"]
        assert shown(name="ev.one", source="test://a") == ["e0"]
        assert shown(since="2026-01-11") == ["e2", "e1"]
        assert shown(until="2026-01-11T12:00:00Z") == ["e0"]
        assert shown(since="2026-01-11", until="2026-01-12") == ["e1"]
        assert shown(name="nothing.like.it") == []
        assert "No event matches." in api.get("/events", params={"name": "x.y"}).text


def test_the_list_pages_on_the_server(world: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_pages, "PAGE_SIZE", 2)
    for i in range(5):
        headwater.emit_event("ev.paged", {}, id=f"p{i}")
    with serve(world) as api:
        seen: list[str] = []
        url: str | None = "/events?name=ev.paged"
        pages = 0
        while url is not None:
            text = api.get(url).text
            seen += re.findall(r'class="event-link" href="[^"]*">([^<]+)</a>', text)
            assert ('rel="first"' in text) == (pages > 0)
            more = re.search(r'<a href="([^"]+)" rel="next"', text)
            url = more.group(1).replace("&amp;", "&") if more else None
            pages += 1
        assert seen == ["p4", "p3", "p2", "p1", "p0"] and pages == 3
        assert "name=ev.paged" in api.get("/events?name=ev.paged").text  # kept in the links


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"since": "yesterday"}, "since", "is not a date or time"),
        ({"until": "2026-13-01"}, "until", "is not a date or time"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until", "later than since"),
        ({"before": "abc"}, "page", "is not an event seq"),
    ],
)
def test_a_bad_filter_is_a_400_next_to_its_field(
    world: Instance, params: dict, field: str, words: str
) -> None:
    with serve(world) as api:
        r = api.get("/events", params=params)
        assert r.status_code == 400
        error = re.search(rf'id="{field}-error">([^<]*)<', r.text)
        assert error is not None and words in error.group(1), r.text
        if field != "page":
            assert f'aria-describedby="{field}-error"' in r.text
            assert f'value="{params[field]}"' in r.text  # the form keeps what was typed
        assert 'id="events"' not in r.text  # no list under a bad filter


def test_an_unknown_event_is_a_404_naming_it_linking_to_search(world: Instance) -> None:
    with serve(world) as api:
        for path, words in (
            ("/events/no-such-event", "no event &#39;no-such-event&#39;"),
            ("/events/one?source=test://x", "from source &#39;test://x&#39;"),
        ):
            r = api.get(path)
            assert r.status_code == 404 and words in r.text
            assert 'href="/" id="back-to-search"' in r.text


def test_replay_to_one_launch_plan_records_its_new_decision(world: Instance) -> None:
    headwater.emit_event("ev.one", {"env": "dev"}, id="one-1")
    headwater.emit_event("ev.one", {"env": "dev"}, id="one-2")  # never replayed
    headwater.deactivate("ev_any")
    _decide(world)
    assert "is inactive" in _reason(world, "one-1", "ev_any")
    headwater.activate("ev_any")
    with serve(world) as api:
        page = api.get("/events/one-1").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None and 'id="replay-form"' in page
        assert '<option value="ev_any"' in page and '<option value="ev_join"' in page
        r = api.post(
            "/events/one-1/replay",
            data={"csrf": csrf.group(1), "launch_plan": "ev_any", "source": "headwater://client"},
        )
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("/events/one-1?source=")
        shown = api.get(r.headers["location"]).text
        assert 'id="replayed"' in shown and "Replayed the event to ev_any" in shown
        fired = [d for d in headwater.get_event("one-1").decisions if d.launch_plan == "ev_any"]
        assert [d.outcome for d in fired] == ["not_fired", "fired"]
        assert f'href="/executions/{fired[1].execution_id}"' in shown
        assert "decision-replayed" in shown
        # Only this event was delivered again, and only to that launch plan.
        assert [d.outcome for d in headwater.get_event("one-2").decisions].count("fired") == 0
        assert len(headwater.get_event("one-1").decisions) == 4
        # Again: exactly once, the new decision says so.
        api.post(
            "/events/one-1/replay",
            data={"csrf": csrf.group(1), "launch_plan": "ev_any", "source": "headwater://client"},
        )
        assert _reason(world, "one-1", "ev_any") == "already fired for this event (exactly once)"
        assert count(world, "executions") == 1


def test_replay_to_an_inactive_or_no_launch_plan_is_a_400_next_to_the_field(
    world: Instance,
) -> None:
    headwater.emit_event("ev.one", {"env": "dev"}, id="one-1")
    _decide(world)
    with serve(world) as api:
        page = api.get("/events/one-1").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        before = len(headwater.get_event("one-1").decisions)
        for plan, words in (("", "pick the launch plan"), ("review_any", "no active launch plan")):
            r = api.post(
                "/events/one-1/replay",
                data={"csrf": csrf.group(1), "launch_plan": plan},
            )
            assert r.status_code == 400
            error = re.search(r'id="launch_plan-error">([^<]*)<', r.text)
            assert error is not None and words in error.group(1)
        assert len(headwater.get_event("one-1").decisions) == before
        missing = api.post("/events/nope/replay", data={"csrf": csrf.group(1), "launch_plan": "x"})
        assert missing.status_code == 404


def _reason(inst: Instance, event_id: str, plan: str) -> str:
    with inst.use():
        found = [d for d in headwater.get_event(event_id).decisions if d.launch_plan == plan]
    return found[-1].reason


def test_replay_to_a_launch_plan_not_listening_says_so(world: Instance) -> None:
    headwater.emit_event("ev.busy", {}, id="busy-1")
    _decide(world)
    with serve(world) as api:
        page = api.get("/events/busy-1").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        r = api.post("/events/busy-1/replay", data={"csrf": csrf.group(1), "launch_plan": "ev_any"})
        assert r.status_code == 400
        assert "does not listen to &#39;ev.busy&#39; events: nothing replayed" in r.text
        assert len(headwater.get_event("busy-1").decisions) == 1


def test_the_list_api_filters_as_the_page_does(world: Instance) -> None:
    for i, source in enumerate(["test://a", "test://b", "test://a"]):
        headwater.emit_event("ev.api", {"i": i}, id=f"a{i}", source=source)
    with serve(world) as api:
        got = api.get("/api/v1/events", params={"name": "ev.api", "source": "test://a"}).json()
        assert [e["id"] for e in got] == ["a2", "a0"]
        older = api.get(
            "/api/v1/events", params={"name": "ev.api", "before": got[0]["seq"], "limit": 1}
        ).json()
        assert [e["id"] for e in older] == ["a1"]
        assert api.get("/api/v1/events", params={"until": "2000-01-01"}).json() == []
        assert api.get("/api/v1/events", params={"before": "0"}).status_code == 400
    with world.use():
        found = headwater.list_events("ev.api", None, 10, source="test://b", project="default")
        assert [e.id for e in found] == ["a1"]


def test_the_first_page_of_the_list_polls_for_new_events(
    world: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_pages, "PAGE_SIZE", 2)
    headwater.emit_event("ev.live", {}, id="l0")
    with serve(world) as api:
        first = api.get("/events", params={"name": "ev.live"}).text
        live = re.search(r'data-live="([^"]+)" data-newest="(\d+)"', first)
        assert live is not None
        url = live.group(1).replace("&amp;", "&")
        assert url == "/ui/events.json?name=ev.live"
        assert api.get(url).json()["newest"] == int(live.group(2))
        for i in (1, 2):
            headwater.emit_event("ev.live", {}, id=f"l{i}")
        now = api.get(url).json()
        assert now["newest"] > int(live.group(2))
        assert re.findall(r'class="event-link" href="[^"]*">([^<]+)</a>', now["html"]) == [
            "l2",
            "l1",
        ]
        assert now["next_link"].startswith("/events?name=ev.live&before=")
        older = api.get("/events", params={"name": "ev.live", "before": str(now["newest"])}).text
        assert "data-live" not in older  # only the newest page updates itself
        bad = api.get("/ui/events.json", params={"since": "soon"})
        assert bad.status_code == 400 and "since" in bad.json()["errors"]
