"""Journey 3, the long walk, in Chromium: a find_next_prime chain of 100 generations built by
real runs (each run consumes prime@N and produces prime@N+1) is walked back from the newest
version to the first by clicking the upstream version in the Lineage tab, one click per
generation. (Opening the producer, coming back and expanding a hop are in
test_lineage_pages.py.)"""

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

GENERATIONS = 100  # generations after the first: prime@1 (generation 0) .. prime@101
NEWEST = GENERATIONS + 1
URI = "hw://default/development/prime@"
PAGE = "/artifacts/default/development/prime@"


@pytest.fixture(scope="module")
def long_chain(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("ui-lineage-walk")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.chain_flows")
        assert headwater.run(chain_flows.start_primes).status == "succeeded"
        for _ in range(GENERATIONS):
            assert headwater.run(chain_flows.next_prime).status == "succeeded"
        newest = headwater.get_artifact(f"{URI}{NEWEST}")
        assert newest.value() == 547  # the 101st prime: every run consumed the one before
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield Site(base, env, "")
        assert up.stop() == 0, up.log()


def _centred_on(page: Page, n: int) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{PAGE}{n}?tab=lineage") + "$"))
    expect(page.locator("#lineage-graph g.node-root text.label")).to_have_text(f"prime@{n}")


def test_the_chain_walks_back_100_generations_by_clicking(long_chain: Site, page: Page) -> None:
    page.goto(f"{long_chain.base}{PAGE}{NEWEST}?tab=lineage")
    _centred_on(page, NEWEST)
    long_chain.shot(page, "lineage-walk-newest")
    clicks = 0
    for n in range(NEWEST - 1, 0, -1):
        upstream = page.locator(f'#lineage-graph g.node[data-id="{URI}{n}"] a.node-link')
        upstream.click()
        clicks += 1
        _centred_on(page, n)
    assert clicks == GENERATIONS
    # generation 0: produced by start_primes, which consumed nothing; read by the first run
    executions = page.locator("#lineage-graph g.node-execution text.label")
    expect(executions).to_have_count(2)
    expect(executions.filter(has_text="start_primes")).to_have_count(1)
    expect(page.locator("#lineage-graph g.node-artifact")).to_have_count(2)  # itself, prime@2
    long_chain.shot(page, "lineage-walk-first")
    page.click("#tab-overview")
    expect(page.locator("#uri")).to_have_text(f"{URI}1")
