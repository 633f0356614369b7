"""storage/execution_links.py: which executions started which (lineage between runs)."""

from __future__ import annotations

import pytest

from headwater.storage import execution_links as links
from headwater.storage.execution_links import TRIGGERED, ExecutionLinkRow

from ._versions import add_execution, count, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


@pytest.fixture
def linked(db):
    """a and b finished and triggered c; c was relaunched as d."""
    with db.transaction() as tx:
        for ex in "abcd":
            add_execution(tx, ex)
        links.insert_links(tx, "c", ["a", "b"], TRIGGERED)
        links.insert_links(tx, "d", ["c"], "relaunch")


def _pairs(found):
    return sorted((r.upstream_id, r.execution_id, r.kind) for r in found)


def test_links_by_the_started_side(db, linked):
    with db.read() as tx:
        found = links.links_of(tx, ["c"], upstream=True)
        both = links.links_of(tx, ["c", "d"], upstream=True)
    assert all(isinstance(r, ExecutionLinkRow) for r in found)
    assert _pairs(found) == [("a", "c", TRIGGERED), ("b", "c", TRIGGERED)]
    assert _pairs(both) == [("a", "c", TRIGGERED), ("b", "c", TRIGGERED), ("c", "d", "relaunch")]


def test_links_by_the_starting_side(db, linked):
    with db.read() as tx:
        assert _pairs(links.links_of(tx, ["a"], upstream=False)) == [("a", "c", TRIGGERED)]
        assert _pairs(links.links_of(tx, ["c"], upstream=False)) == [("c", "d", "relaunch")]
        assert links.links_of(tx, ["d"], upstream=False) == []


def test_a_link_is_stored_once_per_kind(db, linked):
    with db.transaction() as tx:
        links.insert_links(tx, "c", ["a"], TRIGGERED)
        links.insert_links(tx, "c", ["a"], "relaunch")
        links.insert_links(tx, "c", [], TRIGGERED)
    assert count(db, "execution_links") == 4


def test_nothing_asked_or_nothing_stored_reads_as_empty(db, linked):
    with db.read() as tx:
        assert links.links_of(tx, [], upstream=True) == []
        assert links.links_of(tx, ["a", "nobody"], upstream=True) == []
