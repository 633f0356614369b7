"""The Executions pages in-process (no browser), on SQLite and PostgreSQL: the list's
filters, paging and 400s, the detail page (how each input was resolved, the timeline, the
trigger), the live-status JSON, and the Relaunch form (overrides, type mismatch, CSRF)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import headwater
from headwater.api import tokens
from headwater.instance import Instance
from headwater.ui import executions as pages
from tests.api.conftest import Api, serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import flows


@pytest.fixture
def populated(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.flows", activate=True)
    for seed, blessed in ((1, "true"), (2, "false"), (3, "true")):
        headwater.run(flows.training, seed=seed, blessed=blessed)
    headwater.run(flows.evaluate)  # consumes blessed_model@3 (the newest blessed=true)
    headwater.run(flows.release, text="# notes")
    return instance


def _ids(text: str) -> list[str]:
    return re.findall(r'data-execution-id="([^"]+)"', text)


def _csrf(api: Api, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', api.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def _evaluate_id(inst: Instance) -> str:
    with inst.use():
        return headwater.list_executions(workflow="tests.ui.flows.evaluate")[0].id


# --- the list ---------------------------------------------------------------------------
def test_the_list_filters_by_workflow_status_launch_plan_and_project(populated: Instance) -> None:
    with populated.use():
        every = [e.id for e in headwater.list_executions(project="*")]
        trainings = [e.id for e in headwater.list_executions(workflow="tests.ui.flows.training")]
    with serve(populated) as api:
        assert _ids(api.get("/executions").text) == every
        shown = api.get("/executions", params={"workflow": "tests.ui.flows.training"}).text
        assert _ids(shown) == trainings
        assert _ids(api.get("/executions", params={"status": "failed"}).text) == []
        assert len(_ids(api.get("/executions", params={"status": "succeeded"}).text)) == 5
        none = api.get("/executions", params={"launch_plan": "review_any"})
        assert none.status_code == 200 and _ids(none.text) == []
        assert "No execution matches." in none.text
        assert _ids(api.get("/executions", params={"project": "other"}).text) == []
        assert _ids(api.get("/executions", params={"project": "default"}).text) == every


def test_the_list_filters_by_time_range(populated: Instance) -> None:
    today = datetime.now(UTC).date()
    with serve(populated) as api:
        assert len(_ids(api.get("/executions", params={"since": str(today)}).text)) == 5
        # a bare date as `until` includes that whole day
        assert len(_ids(api.get("/executions", params={"until": str(today)}).text)) == 5
        tomorrow = str(today + timedelta(days=1))
        assert _ids(api.get("/executions", params={"since": tomorrow}).text) == []
        yesterday = str(today - timedelta(days=1))
        assert _ids(api.get("/executions", params={"until": yesterday}).text) == []
        later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        assert len(_ids(api.get("/executions", params={"until": later}).text)) == 5


def test_the_list_pages_on_the_server(populated: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    with populated.use():
        every = [e.id for e in headwater.list_executions()]
    with serve(populated) as api:
        first = api.get("/executions").text
        second = api.get("/executions", params={"page": "2"}).text
        third = api.get("/executions", params={"page": "3", "status": ""}).text
        assert _ids(first) + _ids(second) + _ids(third) == every
        assert 'rel="next"' in first and 'rel="prev"' not in first
        assert 'rel="prev"' in second and 'rel="next"' in second
        assert 'rel="next"' not in third and "page=2" in third
        # the filters stay on the paging links
        filtered = api.get("/executions", params={"workflow": "tests.ui.flows.training"}).text
        assert "workflow=tests.ui.flows.training&amp;page=2" in filtered


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"since": "yesterday"}, "since", "is not a date; write YYYY-MM-DD"),
        ({"until": "2026-13-01"}, "until", "is not a date"),
        ({"since": "2026-12-03", "until": "2026-12-01"}, "until", "until must be after since"),
        ({"status": "bogus"}, "status", "unknown status"),
        ({"page": "0"}, "page", "not a positive whole number"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_error_next_to_the_field(
    populated: Instance, params: dict, field: str, words: str
) -> None:
    with serve(populated) as api:
        r = api.get("/executions", params=params)
        assert r.status_code == 400
        error = re.search(rf'id="{field}-error">([^<]*)<', r.text)
        assert error and words in error.group(1), r.text
        assert 'id="executions"' not in r.text  # no table under a bad filter


# --- one execution ----------------------------------------------------------------------
def test_the_detail_shows_how_each_input_was_resolved(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    with populated.use():
        training = headwater.list_executions(workflow="tests.ui.flows.training")[0].id
    with serve(populated) as api:
        text = api.get(f"/executions/{ex_id}").text
        row = re.search(r'data-input="model">(.*?)</tr>', text, re.S)
        assert row, text
        assert 'href="/artifacts/default/development/blessed_model@3"' in row.group(1)
        assert "query default" in row.group(1) and "blessed" in row.group(1)
        assert 'id="timeline"' in text and 'class="node-row"' in text and "<svg" in text
        assert "style=" not in text  # the CSP forbids inline styles: bars are SVG attributes
        assert 'class="produced-link"' in text
        plain = api.get(f"/executions/{training}").text
        seed = re.search(r'data-input="seed">(.*?)</tr>', plain, re.S)
        assert seed and "given when launched, or the workflow&#39;s default" in seed.group(1)


def test_the_live_status_json(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    with serve(populated) as api:
        one = api.get(f"/ui/executions/{ex_id}.json").json()
        assert (one["id"], one["status"], one["terminal"]) == (ex_id, "succeeded", True)
        assert api.get("/ui/executions/nope.json").status_code == 404
        many = api.get("/ui/executions.json", params={"id": [ex_id, "nope"]}).json()
        assert [e["id"] for e in many["executions"]] == [ex_id]


def test_the_new_rows_json_keeps_the_filters(populated: Instance) -> None:
    with populated.use():
        trainings = headwater.list_executions(workflow="tests.ui.flows.training")
    with serve(populated) as api:
        params = {"workflow": "tests.ui.flows.training"}
        every = api.get("/ui/executions-new.json", params=params).json()["executions"]
        assert [e["id"] for e in every] == [e.id for e in trainings]
        assert {e["workflow"] for e in every} == {"tests.ui.flows.training"}
        # since the newest row shown (a millisecond of slack: the page drops rows it has)
        top = trainings[0].created_at
        newer = api.get("/ui/executions-new.json", params={**params, "top": top.isoformat()})
        found = {e["id"] for e in newer.json()["executions"]}
        slack = timedelta(milliseconds=1)
        assert found == {e.id for e in trainings if e.created_at >= top - slack}
        assert trainings[0].id in found and trainings[-1].id not in found
        bad = api.get("/ui/executions-new.json", params={"since": "soon"})
        assert bad.status_code == 400 and "since" in bad.json()["error"]


# --- relaunch ---------------------------------------------------------------------------
def test_the_relaunch_form_is_prefilled_with_compatible_versions(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    with serve(populated) as api:
        text = api.get(f"/executions/{ex_id}/relaunch").text
        select = re.search(r'<select id="version-model".*?</select>', text, re.S)
        assert select, text
        options = re.findall(r'<option value="([^"]+)"', select.group(0))
        # every blessed_model version, newest first; never another artifact
        assert options == [f"hw://default/development/blessed_model@{v}" for v in (3, 2, 1)]
        assert re.search(r'value="hw://[^"]+@3" selected', select.group(0))
        assert 'name="csrf"' in text
        assert api.get("/executions/nope/relaunch").status_code == 404


def test_relaunch_with_an_older_version_opens_the_new_execution(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    older = "hw://default/development/blessed_model@1"
    with serve(populated) as api:
        csrf = _csrf(api, f"/executions/{ex_id}/relaunch")
        r = api.post(
            f"/executions/{ex_id}/relaunch",
            data={"csrf": csrf, "version-model": older, "uri-model": ""},
        )
        assert r.status_code == 303, r.text
        new_id = r.headers["location"].rsplit("/", 1)[-1]
        page = api.get(r.headers["location"]).text
        assert "relaunch override (explicit)" in page and 'class="trigger-relaunch"' in page
    with populated.use():
        again = headwater.get_execution(new_id)
        assert again.resolved_inputs["model"] == {"uri": older, "via": "explicit"}
        assert again.trigger["of"] == ex_id and again.trigger["overrides"] == ["model"]


def test_a_plain_input_is_relaunched_from_text(populated: Instance) -> None:
    with populated.use():
        training = headwater.list_executions(workflow="tests.ui.flows.training")[0]
    with serve(populated) as api:
        path = f"/executions/{training.id}/relaunch"
        csrf = _csrf(api, path)
        r = api.post(path, data={"csrf": csrf, "input-seed": "9", "input-blessed": "true"})
        assert r.status_code == 303, r.text
        new_id = r.headers["location"].rsplit("/", 1)[-1]
    with populated.use():
        again = headwater.get_execution(new_id)
        assert again.inputs["seed"] == 9 and again.trigger["overrides"] == ["seed"]


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("hw://default/development/release_notes@1", "type mismatch: input &#39;model&#39;"),
        ("hw://default/development/blessed_model@99", "no artifact version"),
        ("not-a-uri", "is not an artifact URI"),
    ],
)
def test_an_incompatible_override_shows_the_form_again_and_launches_nothing(
    populated: Instance, uri: str, words: str
) -> None:
    ex_id = _evaluate_id(populated)
    with populated.use():
        before = len(headwater.list_executions(project="*"))
    with serve(populated) as api:
        path = f"/executions/{ex_id}/relaunch"
        r = api.post(path, data={"csrf": _csrf(api, path), "uri-model": uri})
        assert r.status_code == 400, r.text
        error = re.search(r'id="error-model" role="alert">([^<]*)<', r.text)
        assert error and words in error.group(1), r.text
        assert f'value="{uri}"' in r.text  # what was typed is kept
    with populated.use():
        assert len(headwater.list_executions(project="*")) == before


def test_a_relaunch_without_the_csrf_token_is_refused(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    with populated.use():
        before = len(headwater.list_executions(project="*"))
    with serve(populated) as api:
        path = f"/executions/{ex_id}/relaunch"
        assert api.post(path, data={"uri-model": ""}).status_code == 403
        assert api.post(path, data={"csrf": "forged"}).status_code == 403
    with populated.use():
        assert len(headwater.list_executions(project="*")) == before


def test_a_viewer_token_sees_no_relaunch_and_is_refused(populated: Instance) -> None:
    ex_id = _evaluate_id(populated)
    viewer, _ = tokens.create(populated, "ui-viewer", "default", "viewer")
    editor, _ = tokens.create(populated, "ui-editor", "default", "editor")
    with populated.use():
        before = len(headwater.list_executions(project="*"))
    with serve(populated) as api:
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        as_editor = {"Authorization": f"Bearer {editor}"}
        path = f"/executions/{ex_id}/relaunch"
        assert 'id="relaunch-link"' not in api.get(f"/executions/{ex_id}", headers=as_viewer).text
        assert 'id="relaunch-link"' in api.get(f"/executions/{ex_id}", headers=as_editor).text
        assert api.get(path, headers=as_viewer).status_code == 403
        assert api.post(path, headers=as_viewer, data={"uri-model": ""}).status_code == 403
    with populated.use():
        assert len(headwater.list_executions(project="*")) == before


def test_the_rest_route_takes_the_same_time_range_and_offset(populated: Instance) -> None:
    with populated.use():
        every = [e.id for e in headwater.list_executions()]
    today = datetime.now(UTC).date()
    with serve(populated) as api:

        def ids(**params: object) -> list[str]:
            r = api.get("/api/v1/executions", params=params)
            assert r.status_code == 200, r.text
            return [e["id"] for e in r.json()]

        assert ids(since=str(today)) == every
        assert ids(until=str(today)) == []  # the API's until is the instant given
        assert ids(limit=2, offset=2) == every[2:4]
        assert api.get("/api/v1/executions", params={"since": "soon"}).status_code == 400
        assert api.get("/api/v1/executions", params={"offset": -1}).status_code == 400
