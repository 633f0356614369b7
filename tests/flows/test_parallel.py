"""Foreach items and static branches run in parallel (``max_workers``); joins wait for all."""

from __future__ import annotations

import itertools

from headwater.flows import Run, run
from tests.flows.parallel_flows import Branches, BrokenBranch, WideForeach


def overlapping(spans: list[tuple[float, float]]) -> bool:
    """Whether any two (start, end) intervals overlap."""
    ordered = sorted(spans)
    return any(b[0] < a[1] for a, b in itertools.pairwise(ordered))


def nodes_named(ex, name: str):
    return [n for n in ex.nodes if n.name == name]


def test_a_50_way_foreach_runs_in_parallel_and_records_every_step_once(instance):
    ex = run(WideForeach, max_workers=16)
    assert ex.status == "succeeded", ex.error
    data = Run(f"WideForeach/{ex.id}").data
    assert data.values == [i * i + 1 for i in range(50)]
    assert overlapping(data.spans)
    for name in ("WideForeach.square", "WideForeach.offset"):
        found = nodes_named(ex, name)
        assert len(found) == 50 and all(n.status == "succeeded" for n in found)
        indexes = sorted(n.input_literals["foreach_index"]["value"] for n in found)
        assert indexes == sorted(str(i) for i in range(50))
    assert len(nodes_named(ex, "WideForeach.gather")) == 1
    assert len({n.node_id for n in ex.nodes}) == len(ex.nodes) == 1 + 50 + 50 + 1 + 1


def test_one_worker_runs_the_items_one_after_the_other(instance):
    ex = run(WideForeach, width=4, pause=0.05, max_workers=1)
    assert ex.status == "succeeded", ex.error
    data = Run(f"WideForeach/{ex.id}").data
    assert data.values == [1, 2, 5, 10]
    assert not overlapping(data.spans)


def test_static_branches_run_in_parallel_and_the_join_waits_for_all(instance):
    ex = run(Branches)
    assert ex.status == "succeeded", ex.error
    data = Run(f"Branches/{ex.id}").data
    assert sorted(data.spans) == ["a", "b", "c"]
    assert overlapping(list(data.spans.values()))
    join = nodes_named(ex, "Branches.join")[0]
    assert all(join.started_at.timestamp() >= s[1] for s in data.spans.values())
    assert data.total == 6 + 7 + 8 and data.base == 5


def test_a_failing_branch_fails_the_run_naming_the_error(instance):
    ex = run(BrokenBranch)
    assert ex.status == "failed"
    assert "item 2 is bad" in ex.error["message"]
    each = nodes_named(ex, "BrokenBranch.each")
    assert sorted(n.status for n in each) == ["failed", "succeeded", "succeeded"]
    assert not nodes_named(ex, "BrokenBranch.join")
