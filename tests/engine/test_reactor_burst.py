"""What the reactor's burst optimisations must not change: the recorded verdicts (remembered
per filtered value), the concurrency counts (a narrower index), exactly-once firings."""

from __future__ import annotations

import pytest

import headwater
from headwater.engine.react.reactor import Reactor
from headwater.storage import executions as execution_rows

MODULE = "tests.engine.reactive"


@pytest.fixture
def registered(instance):
    headwater.register(MODULE, activate=True)
    return instance


def decide(inst, reactor: Reactor | None = None) -> int:
    reactor = reactor or Reactor(inst)
    total = 0
    while n := reactor.run_once():
        total += n
    return total


def reason(event_id: str, launch_plan: str) -> str:
    [d] = [d for d in headwater.get_event(event_id).decisions if d.launch_plan == launch_plan]
    return d.reason if d.outcome != "fired" else "fired"


def test_filter_verdicts_follow_each_value_and_its_type(registered):
    # `on_table` wants env == "prod"; values repeat so later events reuse earlier verdicts
    # within the reactor's batch. 1 and True are equal in Python but must not share one.
    envs = ["dev", 1, True, "1", None, "dev", True, 1, "prod", "prod", 1.0]
    ids = [
        headwater.emit_event("data.updated", {"table_name": "t", "row_count": 1, "env": env})
        for env in envs
    ]
    missing = [headwater.emit_event("data.updated", {"table_name": "t"}) for _ in range(2)]
    assert decide(registered) == len(envs) + 2
    got = [reason(i, "on_table") for i in ids]
    assert got == [
        "filter failed: env='dev', trigger wants 'prod'",
        "filter failed: env=1, trigger wants 'prod'",
        "filter failed: env=True, trigger wants 'prod'",
        "filter failed: env='1', trigger wants 'prod'",
        "filter failed: env=None, trigger wants 'prod'",
        "filter failed: env='dev', trigger wants 'prod'",
        "filter failed: env=True, trigger wants 'prod'",
        "filter failed: env=1, trigger wants 'prod'",
        "fired",
        "fired",
        "filter failed: env=1.0, trigger wants 'prod'",
    ]
    assert [reason(i, "on_table") for i in missing] == [
        "filter failed: payload has no field 'env' (wants 'prod')"
    ] * 2
    fired = [d for i in ids[8:10] for d in headwater.get_event(i).decisions if d.fired]
    assert len({d.execution_id for d in fired}) == 2  # each event fired its own execution


def test_a_plan_deactivated_later_is_recorded_as_inactive_by_the_same_reactor(registered):
    reactor = Reactor(registered)  # keeps what it decided before across batches
    first = headwater.emit_event("data.updated", {"table_name": "t", "env": "prod"})
    decide(registered, reactor)
    assert reason(first, "on_table") == "fired"
    headwater.deactivate("on_table")
    second = headwater.emit_event("data.updated", {"table_name": "t", "env": "prod"})
    decide(registered, reactor)
    assert "is inactive" in reason(second, "on_table")


def test_busy_counts_include_relaunch_like_executions_without_a_limit(registered):
    # The reactor's own queued executions carry their plan's limit; an execution of the plan
    # that the reactor did not queue (a relaunch: no event seq, no limit) still counts.
    first = headwater.emit_event("busy.event")
    decide(registered)
    [d] = [d for d in headwater.get_event(first).decisions if d.launch_plan == "one_at_a_time"]
    with registered.db.transaction() as tx:
        row = execution_rows.get_execution(tx, d.execution_id)
        assert row is not None and row.launch_plan_id is not None
        lp = row.launch_plan_id
        assert execution_rows.count_busy(tx, lp) == 1
        tx.execute(
            "UPDATE executions SET concurrency_limit = NULL, event_seq = NULL WHERE id = :id",
            {"id": d.execution_id},
        )
        assert execution_rows.count_busy(tx, lp) == 1
        tx.execute(
            "UPDATE executions SET status = 'running' WHERE id = :id", {"id": d.execution_id}
        )
        assert execution_rows.count_running(tx, lp) == 1
        assert execution_rows.count_busy(tx, lp) == 1
    second = headwater.emit_event("busy.event")
    decide(registered)
    assert "concurrency limit 1" in reason(second, "one_at_a_time")


def test_concurrency_queries_use_the_narrowed_index_on_sqlite(registered):
    if registered.db.dialect != "sqlite":
        pytest.skip("SQLite's query plans")
    with registered.db.read() as tx:
        for sql in (
            "SELECT COUNT(*) FROM executions WHERE launch_plan_id = 1 AND status = 'running'",
            "SELECT COUNT(*) FROM executions WHERE launch_plan_id = 1 AND status IN "
            f"('queued', 'running') AND ({execution_rows.LP_STATUS_WHERE})",
        ):
            plan = " ".join(r["detail"] for r in tx.all("EXPLAIN QUERY PLAN " + sql))
            assert "ix_executions_lp_status" in plan, plan
