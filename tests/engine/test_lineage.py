"""Lineage recorded by the engine, walked k generations up and down."""

from __future__ import annotations

import json

import pytest

import headwater

from . import pipelines as p


def _generations(n: int) -> list[str]:
    headwater.run(p.plain_wf, x=1)
    for _ in range(n):
        assert headwater.run(p.chain_wf).status == "succeeded"
    return [v.uri for v in reversed(headwater.search_artifacts(name="plain"))]


def test_lineage_walks_back_through_generations(instance):
    uris = _generations(4)  # plain@1 .. plain@5, each consumed by the next
    graph = headwater.lineage(uris[-1], direction="upstream", depth=10)
    artifacts = {n.id for n in graph.nodes if n.kind == "artifact"}
    assert artifacts == set(uris)
    assert sum(1 for n in graph.nodes if n.kind == "execution") == 5
    produced = [e for e in graph.edges if e.kind == "produced"]
    consumed = [e for e in graph.edges if e.kind == "consumed"]
    assert len(produced) == 5 and len(consumed) == 4
    assert all(e.name == "x" for e in consumed)


def test_depth_limits_generations(instance):
    uris = _generations(4)
    graph = headwater.lineage(uris[-1], direction="upstream", depth=2)
    assert {n.id for n in graph.nodes if n.kind == "artifact"} == set(uris[-3:])


def test_downstream_and_both(instance):
    uris = _generations(2)
    down = headwater.lineage(uris[0], direction="downstream", depth=5)
    assert {n.id for n in down.nodes if n.kind == "artifact"} == set(uris)
    both = headwater.lineage(uris[1], direction="both", depth=1)
    assert {n.id for n in both.nodes if n.kind == "artifact"} == set(uris)


def test_tree_and_json(instance):
    headwater.run(p.daily_wf, region="EU", day=p.datetime(2026, 11, 1))
    train = headwater.run(p.train_wf, region="EU")
    model = headwater.get_artifact(p.Model.query(region="EU"))
    graph = headwater.lineage(model)
    text = str(graph)
    assert text.splitlines()[0] == model.uri
    assert f"produced by execution {train.id}" in text
    assert "consumed (data) hw://default/development/daily@1" in text
    body = json.loads(graph.to_json())
    assert body["root"] == model.uri
    assert {
        "source": "hw://default/development/daily@1",
        "target": train.id,
        "kind": "consumed",
        "name": "data",
    } in body["edges"]


def test_bad_lineage_arguments(instance):
    headwater.run(p.plain_wf, x=1)
    with pytest.raises(headwater.UserInputError, match="direction"):
        headwater.lineage("hw://default/development/plain@1", direction="sideways")
    with pytest.raises(headwater.UserInputError, match="depth"):
        headwater.lineage("hw://default/development/plain@1", depth=-1)
    with pytest.raises(headwater.NotFoundError, match="plain@9"):
        headwater.lineage("hw://default/development/plain@9")


def test_any_depth_walks_a_chain_of_hundreds_of_generations(instance):
    from .long_chain import build

    uris = build(instance, 300)
    every = headwater.lineage(uris[-1], direction="upstream", depth="all")
    assert every.depth is None and every.root == uris[-1]
    assert {n.id for n in every.nodes if n.kind == "artifact"} == set(uris)
    assert sum(1 for n in every.nodes if n.kind == "execution") == 300
    assert len(every.edges) == 300 + 299  # each produced its version, all but one consumed
    assert str(every).count("produced by") == 300  # a tree 600 levels deep prints too
    middle = headwater.lineage(uris[149], direction="both", depth=None)
    assert len(middle.nodes) == 600  # every version and execution, both ways from the middle
    down = headwater.lineage(uris[-60], direction="downstream", depth=1000)
    assert {n.id for n in down.nodes if n.kind == "artifact"} == set(uris[-60:])


def test_lineage_pages_come_a_generation_at_a_time(instance):
    from headwater.client import lineage_pages

    from .long_chain import build

    uris = build(instance, 40)
    pages = list(lineage_pages(uris[-1], direction="upstream"))
    assert [n.id for n in pages[0].nodes] == [uris[-1]] and pages[0].edges == []
    assert len(pages) == 41  # the root, then one execution and the version it consumed
    assert all(len(page.nodes) <= 2 for page in pages)
    assert [n.id for n in pages[-1].nodes if n.kind == "artifact"] == []
