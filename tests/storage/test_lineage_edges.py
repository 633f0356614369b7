"""storage/lineage_edges.py: executions consumed and produced versions, walked both ways."""

from __future__ import annotations

import pytest

from headwater.storage import lineage_edges as edges
from headwater.storage.lineage_edges import CONSUMED, PRODUCED, LineageEdgeRow

from ._versions import add_execution, add_version, count, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _edge(execution_id, version_id, direction, name):
    return {
        "execution_id": execution_id,
        "version_id": version_id,
        "direction": direction,
        "name": name,
        "node_id": "n0",
    }


@pytest.fixture
def chain(db):
    """v1 -> ex1 -> v2 -> ex2 -> v3, and ex2 also consumed v0."""
    with db.transaction() as tx:
        for ex in ("ex1", "ex2"):
            add_execution(tx, ex)
        v0, v1 = add_version(tx, "raw"), add_version(tx, "raw")
        v2 = add_version(tx, "mid", execution_id="ex1")
        v3 = add_version(tx, "out", execution_id="ex2")
        edges.insert_edges(
            tx,
            [
                _edge("ex1", v1, CONSUMED, "data"),
                _edge("ex1", v2, PRODUCED, "o0"),
                _edge("ex2", v2, CONSUMED, "mid"),
                _edge("ex2", v0, CONSUMED, "extra"),
                _edge("ex2", v3, PRODUCED, "o0"),
            ],
        )
    return v0, v1, v2, v3


def test_edges_read_back_by_version_and_direction(db, chain):
    v0, v1, v2, _ = chain
    with db.read() as tx:
        made = edges.edges_of_versions(tx, [v2], PRODUCED)
        used = edges.edges_of_versions(tx, [v2], CONSUMED)
        both = edges.edges_of_versions(tx, [v1, v0], CONSUMED)
    assert made == [LineageEdgeRow("ex1", v2, PRODUCED, "o0", "n0")]
    assert used == [LineageEdgeRow("ex2", v2, CONSUMED, "mid", "n0")]
    assert sorted((e.execution_id, e.version_id, e.name) for e in both) == [
        ("ex1", v1, "data"),
        ("ex2", v0, "extra"),
    ]


def test_edges_read_back_by_execution_and_direction(db, chain):
    v0, _, v2, v3 = chain
    with db.read() as tx:
        inputs = edges.edges_of_executions(tx, ["ex2"], CONSUMED)
        outputs = edges.edges_of_executions(tx, ["ex1", "ex2"], PRODUCED)
    assert sorted((e.version_id, e.name) for e in inputs) == sorted([(v2, "mid"), (v0, "extra")])
    assert sorted((e.execution_id, e.version_id) for e in outputs) == [("ex1", v2), ("ex2", v3)]


def test_walking_up_and_down_the_generations(db, chain):
    v0, v1, v2, v3 = chain

    def up(versions):  # one generation: producers, then what they consumed
        with db.read() as tx:
            execs = [e.execution_id for e in edges.edges_of_versions(tx, versions, PRODUCED)]
            return sorted({e.version_id for e in edges.edges_of_executions(tx, execs, CONSUMED)})

    def down(versions):  # one generation: consumers, then what they produced
        with db.read() as tx:
            execs = [e.execution_id for e in edges.edges_of_versions(tx, versions, CONSUMED)]
            return sorted({e.version_id for e in edges.edges_of_executions(tx, execs, PRODUCED)})

    assert up([v3]) == sorted([v0, v2])
    assert up(up([v3])) == [v1]
    assert up(up(up([v3]))) == []
    assert down([v1]) == [v2]
    assert down(down([v1])) == [v3]
    assert down([v3]) == []


def test_an_edge_is_stored_once(db, chain):
    _, v1, _, _ = chain
    before = count(db, "lineage_edges")
    with db.transaction() as tx:
        edges.insert_edges(tx, [_edge("ex1", v1, CONSUMED, "data")])  # again: ignored
        edges.insert_edges(tx, [_edge("ex1", v1, CONSUMED, "other")])  # another input name
    assert count(db, "lineage_edges") == before + 1


def test_nothing_asked_or_nothing_stored_reads_as_empty(db, chain):
    _, v1, _, _ = chain
    with db.read() as tx:
        assert edges.edges_of_versions(tx, [], PRODUCED) == []
        assert edges.edges_of_executions(tx, [], CONSUMED) == []
        assert edges.edges_of_versions(tx, [v1], PRODUCED) == []  # published, not produced
        assert edges.edges_of_executions(tx, ["nobody"], PRODUCED) == []
    with db.transaction() as tx:
        edges.insert_edges(tx, [])
