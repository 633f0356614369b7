"""The search page in Chromium: free text over card Markdown, the workflow that produced a
version, and a bad time-partition bound shown next to its field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import Site

pytestmark = pytest.mark.slow


def test_card_text_search_finds_the_version_whose_card_says_it(site: Site, page: Page) -> None:
    page.goto(site.base + "/")
    page.fill("#text", "ACCURACY 0.93")  # seed 3's card table, in another case
    page.keyboard.press("Enter")
    rows = page.locator("#artifacts tbody tr.artifact-row")
    expect(rows).to_have_count(1)
    expect(rows.locator("a.version-link")).to_have_text("blessed_model@3")
    expect(page.locator("#text")).to_have_value("ACCURACY 0.93")
    site.shot(page, "search-card-text")

    # an older version's card: the newest version of its series that matches is shown
    page.fill("#text", "seed 1")
    page.click("#search-form button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.locator("a.version-link")).to_have_text("blessed_model@1")
    expect(page.locator("#artifacts thead")).to_contain_text("Latest matching version")
    producer = rows.locator("a.producer-link")
    expect(producer).to_have_text("training")
    producer.click()
    expect(page).to_have_url(re.compile(r"/executions/[^/?]+$"))
    expect(page.locator("#status")).to_have_text("succeeded")
    page.go_back()

    page.fill("#text", "no card says this")
    page.keyboard.press("Enter")
    expect(page.locator("#artifacts tbody td.empty")).to_have_text("No artifact matches.")


def test_a_bad_time_partition_bound_is_shown_next_to_its_field(site: Site, page: Page) -> None:
    page.goto(site.base + "/")
    page.fill("#time_from", "last tuesday")
    page.keyboard.press("Enter")
    expect(page.locator("#time_from-error")).to_contain_text("not an ISO date or datetime")
    expect(page.locator("#time_from")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#time_from")).to_have_value("last tuesday")
    expect(page.locator("#artifacts")).to_have_count(0)
    site.shot(page, "search-bad-date")
    page.set_viewport_size({"width": 420, "height": 800})  # a narrow window
    page.fill("#time_from", "2026-01-01")
    page.keyboard.press("Enter")
    # nothing in the shared site has a time partition: a range finds no series
    expect(page.locator("#artifacts tbody td.empty")).to_have_text("No artifact matches.")
    site.shot(page, "search-time-range-narrow")
