"""Contract of storage/trigger_decisions.py: the reactor's decisions per event."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.storage import trigger_decisions as decisions
from headwater.storage.trigger_decisions import LatencyRow, TriggerDecisionRow

from ._reactive_db import add_event, add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _decision(seq: int, lp: int, outcome: str, t: float, **more: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "eid": f"e{seq}",
        "lp": lp,
        "path": "0",
        "outcome": outcome,
        "reason": more.get("reason", ""),
        "e": more.get("e"),
        "t": t,
    }


def test_decisions_per_event_seq_in_order_with_their_plan(db):
    with db.transaction() as tx:
        lp_a = add_plan(tx, "a", "va")
        lp_b = add_plan(tx, "b", "vb")
        s1, s2, s3 = (add_event(tx, f"e{i}") for i in range(3))
        decisions.insert_decisions(
            tx,
            [
                _decision(s1, lp_a, "fired", 1.0, e="x1", reason="queued execution x1"),
                _decision(s1, lp_b, "not_fired", 1.0, reason="partition mismatch"),
                _decision(s2, lp_a, "waiting", 2.0),
                _decision(s3, lp_a, "skipped", 3.0),
            ],
        )
    with db.read() as tx:
        found = decisions.decisions_for_events(tx, [s2, s1])
        none = decisions.decisions_for_events(tx, [s3 + 1000])
    assert [(r.decision.event_seq, r.lp_name, r.lp_version) for r in found] == [
        (s1, "a", "va"),
        (s1, "b", "vb"),
        (s2, "a", "va"),
    ]
    first = found[0].decision
    assert first == TriggerDecisionRow(
        id=first.id,
        event_seq=s1,
        event_id=f"e{s1}",
        launch_plan_id=lp_a,
        trigger_path="0",
        outcome="fired",
        reason="queued execution x1",
        execution_id="x1",
        created_at=1.0,
    )
    assert found[1].decision.execution_id is None
    assert none == []


def test_counting_after_an_id(db):
    with db.transaction() as tx:
        assert decisions.max_id(tx) == 0
        lp = add_plan(tx)
        seq = add_event(tx, "e")
        decisions.insert_decisions(
            tx, [_decision(seq, lp, o, 1.0) for o in ("fired", "fired", "not_fired")]
        )
        first = decisions.max_id(tx)
        decisions.insert_decisions(tx, [_decision(seq, lp, "waiting", 1.0)])
        top = decisions.max_id(tx)
        everything = sorted(decisions.outcome_counts(tx, 0, top))
        later = decisions.outcome_counts(tx, first, top)
    assert top > first > 0
    assert everything == [("fired", 2), ("not_fired", 1), ("waiting", 1)]
    assert later == [("waiting", 1)]


def test_fired_latency_by_plan_name_leaves_out_replays_and_other_outcomes(db):
    with db.transaction() as tx:
        a = add_plan(tx, "a")
        b = add_plan(tx, "b")
        seq = add_event(tx, "e", time=100.0)
        decisions.insert_decisions(
            tx,
            [
                _decision(seq, a, "fired", 100.02),  # 0.02 s
                _decision(seq, a, "fired", 100.5),  # 0.5 s
                _decision(seq, b, "fired", 101.0, reason="queued x (replay)"),
                _decision(seq, b, "not_fired", 100.01),
            ],
        )
        top = decisions.max_id(tx)
        rows = decisions.fired_latency(
            tx, 0, top, buckets=(0.1, 1.0), except_reason_suffix=" (replay)"
        )
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row, LatencyRow)
    assert (row.name, row.n, row.buckets) == ("a", 2, (1, 2))
    assert row.total == pytest.approx(0.52)


def test_decisions_for_launch_plan_versions_newest_first_within_a_window(db):
    with db.transaction() as tx:
        v1 = add_plan(tx, "nightly", "v1")
        v2 = add_plan(tx, "nightly", "v2")
        other = add_plan(tx, "other", "v1")
        seqs = [add_event(tx, f"ev{i}", name="data.ready", source="s://x") for i in range(4)]
        decisions.insert_decisions(
            tx,
            [
                _decision(seqs[0], v1, "fired", 1.0, e="x1"),
                _decision(seqs[0], other, "fired", 1.0, e="x2"),
                _decision(seqs[1], other, "fired", 2.0, e="x3"),
                _decision(seqs[2], v2, "not_fired", 3.0, reason="filter env = prod"),
                _decision(seqs[3], v2, "fired", 4.0, e="x4"),
            ],
        )
        top = decisions.max_id(tx) + 1

    def read(before: int, window: int, limit: int, ids: list[int] | None = None) -> list:
        with db.read() as tx:
            return decisions.decisions_for_launch_plans(
                tx,
                launch_plan_ids=[v1, v2] if ids is None else ids,
                before_id=before,
                window=window,
                limit=limit,
            )

    found = read(top, 100, 10)
    assert [
        (r.decision.outcome, r.decision.launch_plan_id, r.decision.execution_id) for r in found
    ] == [
        ("fired", v2, "x4"),
        ("not_fired", v2, None),
        ("fired", v1, "x1"),
    ]
    assert found[1].decision.reason == "filter env = prod"
    assert (found[0].event_name, found[0].event_source) == ("data.ready", "s://x")
    assert found[0].decision.event_id == f"e{seqs[3]}"
    assert [r.decision.execution_id for r in read(top, 100, 1)] == ["x4"]
    # only ids in [before - window, before): the newest two decisions of every plan
    assert [r.decision.execution_id for r in read(top, 2, 10)] == ["x4", None]
    assert [r.decision.execution_id for r in read(top - 2, 100, 10)] == ["x1"]
    assert read(1, 100, 10) == []
    assert read(top, 100, 10, ids=[]) == []


def test_a_large_batch_without_any_execution_is_stored_whole_and_in_order(db):
    with db.transaction() as tx:
        lp = add_plan(tx, "many", "v1")
        seqs = [add_event(tx, f"m{i}") for i in range(300)]
        decisions.insert_decisions(
            tx, [_decision(s, lp, "not_fired", 5.0, reason=f"r{s}") for s in seqs]
        )
    with db.read() as tx:
        found = decisions.decisions_for_events(tx, seqs)
    assert [(r.decision.event_seq, r.decision.reason, r.decision.execution_id) for r in found] == [
        (s, f"r{s}", None) for s in seqs
    ]
