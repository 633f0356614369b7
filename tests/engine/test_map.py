"""headwater.map on the local process pool: one recorded node per item, results in order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import headwater
from headwater import ExecutionStatus, UserInputError
from headwater.engine.execute.executors import shutdown_local_pool

from . import map_tasks as m
from .conftest import count


@pytest.fixture(autouse=True, scope="module")
def _stop_pool() -> Iterator[None]:
    yield
    shutdown_local_pool()  # its processes hold connections to the test databases


def test_map_runs_every_item_as_a_recorded_node_in_order(instance):
    ex = headwater.run(m.squares_list_wf, n=7, concurrency=3)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error
    assert ex.output == [x * x for x in range(7)]
    nodes = ex.nodes
    assert [n.node_id for n in nodes] == [f"n{i}" for i in range(7)]
    assert {n.name for n in nodes} == {"tests.engine.map_tasks.square_slowly"}
    assert [n.status.value for n in nodes] == ["succeeded"] * 7
    assert [n.attempts for n in nodes] == [1] * 7
    assert [n.input_literals["x"]["value"] for n in nodes] == list(range(7))
    assert [n.output_literals["o0"]["value"] for n in nodes] == [x * x for x in range(7)]


def test_map_results_flow_into_the_next_task(instance):
    ex = headwater.run(m.squares_wf, n=5)
    assert ex.output == sum(x * x for x in range(5))
    assert [n.name.rsplit(".", 1)[1] for n in ex.nodes] == ["square"] * 5 + ["total"]


def test_map_with_several_inputs_takes_dicts(instance):
    assert headwater.run(m.add_wf).output == [3, 30]


def test_map_items_publish_artifacts_with_lineage(instance):
    ex = headwater.run(m.publish_wf)
    assert ex.output == [4, 9]
    version = headwater.get_artifact(m.Square.query(n="3"))
    assert version.value() == 9
    assert version.producer.id == ex.id


def test_a_failing_item_fails_the_execution_naming_it_and_skips_the_rest(instance):
    ex = headwater.run(m.failing_wf)
    assert ex.status is ExecutionStatus.FAILED
    assert "item 3 (node n3) failed: ValueError: three is not allowed" in ex.error["message"]
    assert ex.error["node"] == "n3"
    statuses = [n.status.value for n in ex.nodes]
    assert statuses[:3] == ["succeeded"] * 3
    assert statuses[3] == "failed"
    assert statuses[4:] == ["cancelled", "cancelled"]


def test_retries_of_an_item_are_recorded_as_attempts(instance, tmp_path):
    ex = headwater.run(m.flaky_wf, folder=str(tmp_path))
    assert ex.output == ["ok", "ok"]
    assert [n.attempts for n in ex.nodes] == [2, 2]


def test_outside_an_execution_map_is_a_plain_loop(instance):
    assert headwater.map(m.square, [1, 2, 3]) == [1, 4, 9]
    assert count(instance, "node_executions") == 0


def test_bad_input_is_refused_with_the_fix(instance):
    with pytest.raises(UserInputError, match="takes a @task"):
        headwater.map(lambda x: x, [1])
    with pytest.raises(UserInputError, match="concurrency must be"):
        headwater.map(m.square, [1], concurrency=0)
    with pytest.raises(UserInputError, match="item 1 is int"):
        headwater.map(m.add, [{"a": 1, "b": 2}, 5])


def test_an_unknown_executor_setting_fails_naming_the_setting(instance, monkeypatch):
    from headwater.engine.execute.executors import executor_for

    with pytest.raises(UserInputError, match="HEADWATER_EXECUTOR"):
        executor_for("spark://x")


def test_a_map_in_an_execution_a_worker_claimed_records_its_nodes(instance):
    from headwater.engine.execute import queue
    from headwater.engine.execute.runner import run_claimed
    from headwater.engine.register.registry import ensure_registered

    from .._procs import enqueue

    reg = ensure_registered(instance, m.squares_x_wf, instance.project, instance.domain)
    eid = enqueue(instance, reg, 4)
    row = queue.claim(instance, "w1", 30)
    assert row is not None and row.id == eid
    ex = run_claimed(instance, m.squares_x_wf, row)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error
    assert ex.output == [0, 1, 4, 9]
    assert [(n.node_id, n.status.value, n.attempts) for n in ex.nodes] == [
        (f"n{i}", "succeeded", 1) for i in range(4)
    ]


def test_an_execution_handed_back_numbers_its_nodes_after_the_first_attempts(instance):
    from headwater.engine.execute import queue
    from headwater.engine.execute.runner import run_claimed
    from headwater.engine.register.registry import ensure_registered
    from headwater.storage import node_executions as node_rows

    from .._procs import enqueue

    reg = ensure_registered(instance, m.squares_x_wf, instance.project, instance.domain)
    eid = enqueue(instance, reg, 2)
    first = queue.claim(instance, "w1", 30)
    assert first is not None and first.id == eid
    with instance.db.transaction() as tx:  # what the first worker recorded before it stopped
        node_rows.insert_node(
            tx,
            execution_id=eid,
            node_id="n0",
            name="square",
            kind="task",
            status="failed",
            inputs={},
            attempts=1,
            started_at=1.0,
        )
    assert queue.hand_back(instance, eid, "w1", "the worker is stopping")
    row = queue.claim(instance, "w2", 30)
    assert row is not None and row.id == eid and row.attempts == 1  # not counted
    ex = run_claimed(instance, m.squares_x_wf, row)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error
    assert ex.output == [0, 1]
    assert [(n.node_id, n.status.value) for n in ex.nodes] == [
        ("n0", "failed"),
        ("n1", "succeeded"),
        ("n2", "succeeded"),
    ]
