"""The web UI's pages in-process (no browser): status codes, security headers, filters,
paging and the pages for what does not exist, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

import headwater
from headwater.instance import Instance
from headwater.ui import routes
from tests.api.conftest import serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import flows

PAGES = ["/", "/executions", "/launch-plans", "/events", "/static/ui.js", "/static/ui.css"]


@pytest.fixture
def populated(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.flows", activate=True)
    for seed, blessed in ((1, "true"), (2, "false"), (3, "true")):
        headwater.run(flows.training, seed=seed, blessed=blessed)
    headwater.run(flows.release, text="| a | b |\n|---|---|\n| 1 | 2 |\n")
    return instance


def test_every_page_answers_with_a_csp_forbidding_inline_scripts(populated: Instance) -> None:
    with serve(populated) as api:
        for path in [*PAGES, "/artifacts/default/development/blessed_model@1"]:
            r = api.get(path)
            assert r.status_code == 200, (path, r.text)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path


def test_search_shows_the_latest_version_per_partition(populated: Instance) -> None:
    with serve(populated) as api:
        text = api.get("/", params={"name": "blessed_*"}).text
        assert "blessed_model@3" in text and "blessed_model@2" in text
        assert "blessed_model@1" not in text  # v3 is the newest blessed=true
        text = api.get("/", params={"partition": ["blessed=false"]}).text
        assert "blessed_model@2" in text and "blessed_model@3" not in text
        text = api.get("/", params={"name": "nothing_like_it"}).text
        assert "No artifact matches." in text


def test_search_pages_on_the_server(populated: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    with serve(populated) as api:
        first = api.get("/").text
        second = api.get("/", params={"page": "2"}).text
        assert 'rel="next"' in first and 'rel="prev"' not in first
        assert 'rel="prev"' in second and 'rel="next"' not in second
        shown = [n for n in ("blessed_model@3", "blessed_model@2", "release_notes@1")]
        assert sorted(n for n in shown if n in first or n in second) == sorted(shown)
        assert not any(n in first and n in second for n in shown)


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"partition": ["blessed="]}, "partition0-error", "has no value"),
        ({"partition": ["", "=true"]}, "partition1-error", "is not KEY=VALUE"),
        ({"page": "0"}, "page-error", "not a positive whole number"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_the_field(
    populated: Instance, params: dict, field: str, words: str
) -> None:
    with serve(populated) as api:
        r = api.get("/", params=params)
        assert r.status_code == 400
        assert f'id="{field}"' in r.text and words in r.text


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/executions/nope", 404, "no execution &#39;nope&#39;"),
        ("/events/nope", 404, "no event"),
        ("/artifacts/default/development/blessed_model@99", 404, "blessed_model@99"),
        ("/artifacts/default/development/no_such_artifact@1", 404, "no_such_artifact@1"),
        ("/artifacts/default/development/blessed_model", 400, "is not NAME@VERSION"),
        ("/executions?status=bogus", 400, "unknown status"),
        ("/static/app.py", 404, "no static file"),
    ],
)
def test_what_does_not_exist_gets_a_page_linking_to_search(
    populated: Instance, path: str, status: int, words: str
) -> None:
    with serve(populated) as api:
        r = api.get(path)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("text/html")
        assert words in r.text
        assert 'href="/" id="back-to-search"' in r.text or path.startswith("/executions?")


def test_a_card_is_markdown_without_raw_html(populated: Instance) -> None:
    with populated.use():
        headwater.run(flows.release, text='<b onmouseover="x()">bold</b>\n\n**strong**')
    with serve(populated) as api:
        text = api.get("/artifacts/default/development/release_notes@2?tab=card").text
        assert "<strong>strong</strong>" in text
        assert "&lt;b onmouseover=" in text and "<b onmouseover" not in text
        table = api.get("/artifacts/default/development/release_notes@1?tab=card").text
        assert "<table>" in table and "<td>1</td>" in table


def test_a_failed_execution_shows_its_error_and_traceback(populated: Instance) -> None:
    with populated.use():
        ex = headwater.run(flows.broken, reason="<no data>")
    assert ex.status == "failed"
    with serve(populated) as api:
        text = api.get(f"/executions/{ex.id}").text
        assert 'id="error"' in text and "cannot review: &lt;no data&gt;" in text
        assert 'class="traceback"' in text and "Traceback" in text
        listed = api.get("/executions", params={"status": "failed"}).text
        assert ex.id[:12] in listed
        assert "status-failed" in listed
