"""Journey 3 in Chromium: the Lineage tab of the newest version in a chain produced by real
runs (each run consumes prime@N and produces prime@N+1) — open the producer, come back, click
a consumed version to re-centre, expand a hop, walk back to the first generation; and the
Versions tab's comparison."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import chain_flows
from .conftest import Site

pytestmark = pytest.mark.slow

GENERATIONS = 8  # prime@1 (start_primes) .. prime@8
URI = "hw://default/development/prime@"
PAGE = "/artifacts/default/development/prime@"


@pytest.fixture(scope="module")
def chain_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("ui-lineage")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.chain_flows")
        assert headwater.run(chain_flows.start_primes).status == "succeeded"
        for _ in range(GENERATIONS - 1):
            assert headwater.run(chain_flows.next_prime).status == "succeeded"
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield Site(base, env, "")
        assert up.stop() == 0, up.log()


def _node(page: Page, n: int) -> Any:
    return page.locator(f'#lineage-graph g.node[data-id="{URI}{n}"]')


def _centred_on(page: Page, n: int) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{PAGE}{n}?tab=lineage") + "$"))
    expect(page.locator("#lineage-graph g.node-root text.label")).to_have_text(f"prime@{n}")


def test_lineage_walks_back_the_chain_by_clicking(chain_site: Site, page: Page) -> None:
    page.goto(f"{chain_site.base}{PAGE}{GENERATIONS}")
    page.click("#tab-lineage")
    _centred_on(page, GENERATIONS)
    nodes = page.locator("#lineage-graph g.node")
    # the newest: its producer and what that consumed; nothing consumed it yet
    expect(nodes).to_have_count(3)
    expect(_node(page, GENERATIONS - 1)).to_be_visible()
    chain_site.shot(page, "artifact-lineage")

    page.locator("#lineage-graph g.node-execution a.node-link").click()
    expect(page).to_have_url(re.compile(r"/executions/[^/?]+$"))
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator("#inputs")).to_contain_text(f"{URI}{GENERATIONS - 1}")
    page.go_back()
    _centred_on(page, GENERATIONS)

    n = GENERATIONS - 1
    _node(page, n).locator("a.node-link").click()
    _centred_on(page, n)
    expect(nodes).to_have_count(5)  # prime@n-1 -> run -> prime@n -> run -> prime@n+1
    chain_site.shot(page, "artifact-lineage-recentred")

    _node(page, n - 1).locator(".expand").click()
    expect(nodes).to_have_count(7)  # one more hop up: prime@n-2 and the run producing n-1
    expect(_node(page, n - 2)).to_be_visible()
    expect(_node(page, n - 1).locator(".expand")).to_have_count(0)
    chain_site.shot(page, "artifact-lineage-expanded")

    while n > 1:  # back to the first generation, one click each
        n -= 1
        _node(page, n).locator("a.node-link").click()
        _centred_on(page, n)
    # prime@1: produced by start_primes, consumed by the run that produced prime@2
    expect(nodes).to_have_count(4)
    expect(page.locator("#lineage-graph g.node-execution")).to_have_count(2)
    _node(page, 2).locator(".expand").focus()  # the keyboard expands too
    page.keyboard.press("Enter")
    expect(_node(page, 3)).to_be_visible()

    page.click("#direction-upstream")  # a fresh graph: one hop upstream only
    expect(page).to_have_url(re.compile(r"direction=upstream$"))
    expect(nodes).to_have_count(2)  # its producer only: start_primes consumed nothing
    chain_site.shot(page, "artifact-lineage-upstream")


def test_versions_tab_compares_two_versions(chain_site: Site, page: Page) -> None:
    page.goto(f"{chain_site.base}{PAGE}3?tab=versions")
    rows = page.locator("#version-list tr.series-row")
    expect(rows).to_have_count(GENERATIONS)
    expect(rows.first).to_have_attribute("data-version", str(GENERATIONS))
    page.check(f"#compare-{GENERATIONS}")
    page.click("#compare-button")
    expect(page.locator("#comparison-title")).to_have_text(f"prime@3 and prime@{GENERATIONS}")
    expect(page.locator("#card-diff tr.diff-changed")).to_contain_text("value: 5")
    chain_site.shot(page, "artifact-versions-compare")
    page.locator(f'a.series-link:has-text("prime@{GENERATIONS}")').click()
    expect(page.locator("#tab-versions")).to_have_attribute("aria-current", "page")
