"""The launch plan pages in-process (no browser), on SQLite and PostgreSQL: the list (names
with versions, active version, recent executions, paged), the detail page (what changed
between versions, recent decisions with the events and executions they link), plans in
another project reached by ?project=&domain=, and the decisions REST route the page agrees
with."""

from __future__ import annotations

import pytest
from markupsafe import escape

import headwater
from headwater import LaunchPlan, OnEvent, client
from headwater.engine.react.reactor import Reactor
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.instance import Instance
from headwater.ui import plans as plan_pages
from tests.api.conftest import serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import flows, plans


def _decide(inst: Instance) -> None:
    reactor = Reactor(inst)
    while reactor.run_once():
        pass


@pytest.fixture
def registered(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.flows", activate=True)
    plans.register_two_versions(instance)
    return instance


def test_the_list_shows_versions_the_active_one_and_recent_executions(
    registered: Instance,
) -> None:
    headwater.emit_event("lp.demo", {"env": "prod", "seed": 3}, id="prod-1")
    _decide(registered)
    ex = client.list_executions(None, plans.NAME)[0]
    with serve(registered) as api:
        r = api.get("/launch-plans")
    assert r.status_code == 200
    text = r.text
    row = text[text.index(f'data-launch-plan="{plans.NAME}"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="versions" data-label="Versions">2</td>' in row
    assert "event lp.demo where env = prod" in row  # the active version's trigger
    assert f"/executions/{ex.id}" in row and "last ran <time>" in row
    never = text[text.index('data-launch-plan="review_prod"') :]
    assert "no recent run" in never[: never.index("</tr>")]


def test_the_list_pages_on_the_server(
    registered: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_pages, "PAGE_SIZE", 2)
    names = [s.name for s in client.launch_plan_summaries(None, 100)]
    assert names == sorted(names) and len(names) > 4
    with serve(registered) as api:
        first = api.get("/launch-plans").text
        second = api.get("/launch-plans", params={"page": "2"}).text
        bad = api.get("/launch-plans", params={"page": "0"})
    assert f'data-launch-plan="{names[0]}"' in first
    assert f'data-launch-plan="{names[2]}"' not in first
    assert f'data-launch-plan="{names[2]}"' in second
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert bad.status_code == 400 and "page" in bad.text


def test_the_detail_says_what_changed_and_shows_the_decisions(registered: Instance) -> None:
    headwater.emit_event("lp.demo", {"env": "dev", "seed": 1}, id="dev-1", source="s://t")
    headwater.emit_event("lp.demo", {"env": "prod", "seed": 2}, id="prod-2", source="s://t")
    _decide(registered)
    fired = client.list_executions(None, plans.NAME)[0]
    with serve(registered) as api:
        r = api.get(f"/launch-plans/{plans.NAME}")
        api_page = api.get(f"/api/v1/launch-plans/{plans.NAME}/decisions").json()
    assert r.status_code == 200
    text = r.text
    # version 2 added the filter: said in words, against version 1
    assert (
        '<span class="what">trigger 1</span>: <del>event lp.demo (inputs: seed &lt;- seed)</del>'
        " → <ins>event lp.demo where env = prod (inputs: seed &lt;- seed)</ins>"
    ) in text
    assert "first version" in text and "Spec diff from version 1" in text
    assert "+        &#34;env&#34;: &#34;prod&#34;" in text
    # decisions newest first: prod-2 fired (linked), dev-1 not fired with the reason
    decided = text[text.index('id="plan-decisions"') :]
    assert decided.index('data-event="prod-2"') < decided.index('data-event="dev-1"')
    assert f'<a class="fired-link" href="/executions/{fired.id}">' in decided
    assert 'href="/events/prod-2?source=s%3A//t"' in decided
    dev = decided[decided.index('data-event="dev-1"') :]
    assert "not fired" in dev[: dev.index("</tr>")]
    # the REST route says the same
    assert [(d["event_id"], d["outcome"]) for d in api_page["decisions"]] == [
        ("prod-2", "fired"),
        ("dev-1", "not_fired"),
    ]
    assert api_page["decisions"][0]["execution_id"] == fired.id
    assert str(escape(api_page["decisions"][1]["reason"])) in dev


def test_decisions_page_to_older_ones(registered: Instance) -> None:
    for i in range(3):
        headwater.emit_event("lp.demo", {"env": "prod", "seed": i}, id=f"p{i}")
    _decide(registered)
    with serve(registered) as api:
        first = api.get(f"/api/v1/launch-plans/{plans.NAME}/decisions", params={"limit": 2}).json()
        rest = api.get(
            f"/api/v1/launch-plans/{plans.NAME}/decisions",
            params={"limit": 2, "before": first["next_before"]},
        ).json()
        bad = api.get(f"/api/v1/launch-plans/{plans.NAME}/decisions", params={"limit": 0})
        page = api.get(f"/launch-plans/{plans.NAME}", params={"before": first["next_before"]})
    assert [d["event_id"] for d in first["decisions"]] == ["p2", "p1"]
    assert [d["event_id"] for d in rest["decisions"]] == ["p0"]
    assert bad.status_code == 400 and "limit" in bad.text
    assert 'data-event="p0"' in page.text and 'data-event="p2"' not in page.text
    assert "Newest decisions" in page.text


def test_a_plan_in_another_project_is_reached_by_its_project_and_domain(
    registered: Instance,
) -> None:
    register_launch_plan(
        registered,
        LaunchPlan("elsewhere", flows.review, trigger=OnEvent("other.demo")),
        project="research",
        domain="staging",
    )
    with serve(registered) as api:
        listed = api.get("/launch-plans").text
        here = api.get("/launch-plans/elsewhere")
        there = api.get(
            "/launch-plans/elsewhere", params={"project": "research", "domain": "staging"}
        )
    assert 'href="/launch-plans/elsewhere?project=research&amp;domain=staging"' in listed
    assert here.status_code == 404 and str(escape("no launch plan 'elsewhere'")) in here.text
    assert there.status_code == 200
    assert "research/staging" in there.text and "event other.demo" in there.text
    # activation acts on the server's own project: no controls for another one
    assert 'id="activate-form"' not in there.text


def test_an_unknown_plan_is_a_404_page(registered: Instance) -> None:
    with serve(registered) as api:
        r = api.get("/launch-plans/no_such_plan")
        bad = api.get(f"/launch-plans/{plans.NAME}", params={"before": "x"})
    assert r.status_code == 404 and str(escape("no launch plan 'no_such_plan'")) in r.text
    assert bad.status_code == 400


def test_a_project_that_cannot_be_stored_is_a_400_page(registered: Instance) -> None:
    with serve(registered) as api:
        r = api.get(f"/launch-plans/{plans.NAME}", params={"project": "a\x00b"})
    assert r.status_code == 400 and "project" in r.text


def test_decisions_of_an_unknown_plan_are_a_404(registered: Instance) -> None:
    with serve(registered) as api:
        r = api.get("/api/v1/launch-plans/no_such_plan/decisions")
    assert r.status_code == 404 and "no launch plan 'no_such_plan'" in r.text
