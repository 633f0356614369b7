"""User journeys through the web UI in Chromium, against a real `headwater up`."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import Site

pytestmark = pytest.mark.slow


def test_search_by_partition_open_newest_and_run_the_snippet(
    site: Site, page: Page, tmp_path: Path
) -> None:
    page.goto(site.base + "/")
    site.shot(page, "search")
    page.fill("#name", "blessed_*")
    page.fill("#partition0", "blessed=true")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#artifacts tbody tr")).to_have_count(1)
    site.shot(page, "search-blessed")
    # The latest blessed=true version: seeds 1 and 3 were blessed, seed 3 ran last (v3).
    page.click("a.version-link")
    expect(page.locator("#uri")).to_have_text("hw://default/development/blessed_model@3")
    site.shot(page, "artifact-overview")
    snippet = page.locator("#python-snippet").inner_text()
    assert 'headwater.get_artifact("hw://default/development/blessed_model@3")' in snippet
    cli = page.locator("#cli-snippet").inner_text()
    assert cli.startswith('headwater artifacts get "hw://default/development/blessed_model@3" -o ')
    page.click("button.copy[data-copy=python-snippet]")
    expect(page.locator("button.copy[data-copy=python-snippet]")).to_have_text("Copied")
    # What a user does next: paste it into Python (here against the same database).
    out = subprocess.run(
        [sys.executable, "-c", snippet + "\nprint(value)"],
        env=site.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{'seed': 3, 'weights': [3, 6]}"
    # ...and the command-line one writes the value to the named file.
    got = subprocess.run(
        shlex.split(cli.replace("headwater ", f"{sys.executable} -m headwater.cli ", 1)),
        env=site.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode == 0, got.stderr
    written = list(tmp_path.glob("blessed_model-3*"))
    assert len(written) == 1 and '"weights"' in written[0].read_text(), written
    page.set_viewport_size({"width": 420, "height": 800})  # a narrow window
    expect(page.locator("#python-snippet")).to_be_visible()
    site.shot(page, "artifact-overview-narrow")


def test_a_malformed_partition_filter_is_shown_next_to_the_field(site: Site, page: Page) -> None:
    response = page.goto(site.base + "/?partition=blessed=")
    assert response is not None and response.status == 400
    expect(page.locator("#partition0-error")).to_contain_text("has no value")
    expect(page.locator("#partition0")).to_have_value("blessed=")
    site.shot(page, "search-bad-filter")


def test_card_tab_renders_markdown_and_runs_no_script(site: Site, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.base + "/artifacts/default/development/blessed_model@1")
    page.click("#tab-card")
    table = page.locator("#card .markdown table")
    expect(table).to_be_visible()
    expect(table.locator("td", has_text="accuracy")).to_have_count(1)
    site.shot(page, "artifact-card")

    response = page.goto(site.base + "/artifacts/default/development/release_notes@1?tab=card")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    card = page.locator("#card .markdown")
    expect(card).to_contain_text("<script>window.pwned = 1")  # shown as text, not run
    expect(card.locator("script, img")).to_have_count(0)
    expect(card.locator("a[href^='javascript:']")).to_have_count(0)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    site.shot(page, "artifact-card-malicious")


def test_executions_list_to_detail_to_the_produced_version(site: Site, page: Page) -> None:
    page.goto(site.base + "/executions?workflow=tests.ui.flows.evaluate")
    expect(page.locator("#executions tbody tr")).to_have_count(1)
    site.shot(page, "executions")
    page.click("a.execution-link")
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator("#inputs")).to_contain_text("hw://default/development/blessed_model@3")
    site.shot(page, "execution")
    page.click("a.produced-link")
    expect(page.locator("#uri")).to_have_text("hw://default/development/model_score@1")
    # ...and back up the lineage: the consumed model lists this execution as a consumer.
    page.goto(site.base + "/artifacts/default/development/blessed_model@3")
    expect(page.locator("a.consumer")).to_have_count(1)


def test_event_page_shows_one_fired_and_one_filtered_out(site: Site, page: Page) -> None:
    page.goto(site.base + "/events")
    site.shot(page, "events")
    page.click("a.event-link:has-text('review-1')")
    fired = page.locator("tr.decision[data-launch-plan=review_any]")
    skipped = page.locator("tr.decision[data-launch-plan=review_prod]")
    expect(fired.locator("a.fired-link")).to_have_text(site.fired_execution)
    expect(skipped.locator("a")).to_have_count(0)
    expect(skipped.locator(".reason")).to_contain_text("filter failed")
    expect(skipped).to_contain_text("not fired")
    site.shot(page, "event")
    fired.locator("a.fired-link").click()
    expect(page.locator("a.trigger-event")).to_contain_text("review-1")
    page.click("a.trigger-event")
    expect(page.locator("tr.decision")).to_have_count(2)
    page.goto(site.base + "/launch-plans")
    expect(page.locator("#launch-plans")).to_contain_text("event model.review where env = prod")
    site.shot(page, "launch-plans")


def test_unknown_execution_is_a_404_page_linking_to_search(site: Site, page: Page) -> None:
    response = page.goto(site.base + "/executions/no-such-execution")
    assert response is not None and response.status == 404
    expect(page.locator("#error-message")).to_contain_text("no execution 'no-such-execution'")
    site.shot(page, "not-found")
    page.click("#back-to-search")
    expect(page.locator("#search-form")).to_be_visible()
