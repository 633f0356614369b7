"""Recorded executions: nodes, inputs, outputs, timings, failures, retries, cache, timeouts."""

from __future__ import annotations

import pytest

import headwater
from headwater import ExecutionStatus

from . import pipelines as p
from .conftest import count


def test_run_records_execution_with_nodes_inputs_and_outputs(instance):
    ex = headwater.run(p.add_wf, a=5)
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert ex.outputs == {"o0": 7}
    assert ex.output == 7
    assert ex.inputs == {"a": 5, "b": 1}  # the default is recorded as resolved
    assert ex.workflow == "tests.engine.pipelines.add_wf"
    assert ex.started_at <= ex.finished_at
    nodes = ex.nodes
    assert [(n.name, n.status.value) for n in nodes] == [
        ("tests.engine.pipelines.add", "succeeded"),
        ("tests.engine.pipelines.add", "succeeded"),
    ]
    assert nodes[0].input_literals["a"]["value"] == 5
    assert nodes[1].output_literals["o0"]["value"] == 7
    again = headwater.get_execution(ex.id)
    assert again.outputs == {"o0": 7} and again.status == "succeeded"


def test_tasks_called_outside_an_execution_are_plain_functions(instance):
    assert p.add(a=1, b=2) == 3
    assert p.add_wf(a=1) == 3
    assert count(instance, "executions") == 0


def test_failing_task_fails_the_execution_with_traceback(instance):
    ex = headwater.run(p.boom_wf, x=1)
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error["type"] == "ValueError"
    assert "bad x 2" in ex.error["message"]
    assert "raise ValueError" in ex.error["traceback"]
    assert ex.error["node"] == "n1"
    nodes = ex.nodes
    assert [n.status.value for n in nodes] == ["succeeded", "failed"]
    assert "ValueError" in nodes[1].error["traceback"]
    with pytest.raises(headwater.ExecutionFailedError, match="bad x 2"):
        ex.wait(raise_on_failure=True)
    names = [e.name for e in headwater.list_events()]
    assert "headwater.execution.failed" in names


def test_named_tuple_outputs(instance):
    ex = headwater.run(p.split_wf, n=6)
    assert ex.outputs == {"train": [0, 1, 2], "test": [3, 4, 5]}


def test_retries_then_success(instance):
    p.ATTEMPTS.clear()
    ex = headwater.run(p.flaky_wf, x=3)
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert len(p.ATTEMPTS) == 3
    assert ex.nodes[0].attempts == 3


def test_produced_lists_the_versions_an_execution_made(instance):
    ex = headwater.run(p.daily_wf, region="EU", day=p.datetime(2026, 11, 1))
    assert [v.uri for v in ex.produced] == ["hw://default/development/daily@1"]
    assert headwater.run(p.add_wf, a=1).produced == []


def test_cache_reuses_outputs_for_the_same_inputs(instance):
    p.CALLS.clear()
    first = headwater.run(p.cached_wf, x=4)
    second = headwater.run(p.cached_wf, x=4)
    third = headwater.run(p.cached_wf, x=5)
    assert (first.output, second.output, third.output) == (40, 40, 50)
    assert p.CALLS == [4, 5]
    assert second.nodes[0].cached_from == f"{first.id}/n0"


def test_timeout_fails_the_task(instance):
    ex = headwater.run(p.slow_wf, seconds=5.0)
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error["type"] == "TaskTimeoutError"
    assert "timeout of 0.2 s" in ex.error["message"]
    assert headwater.run(p.slow_wf, seconds=0.01).status is ExecutionStatus.SUCCEEDED


def test_current_inside_a_task(instance):
    ex = headwater.run(p.context_wf)
    assert ex.output == {
        "execution": ex.id,
        "workflow": "tests.engine.pipelines.context_wf",
        "task": "tests.engine.pipelines.where_am_i",
        "project": "default",
        "domain": "development",
    }
    assert headwater.current.execution_id is None


def test_a_task_can_run_on_its_own(instance):
    ex = headwater.run(p.add, a=2, b=3)
    assert ex.status is ExecutionStatus.SUCCEEDED and ex.output == 5
    assert len(ex.nodes) == 1


def test_execution_events_are_committed_with_the_state_change(instance):
    ex = headwater.run(p.add_wf, a=1)
    events = [e for e in headwater.list_events() if e.subject == ex.id]
    assert [e.name for e in events] == [
        "headwater.execution.succeeded",
        "headwater.execution.started",
    ]
    assert events[0].payload["workflow"] == ex.workflow
    assert events[0].payload["outputs"]["o0"]["value"] == 3


def test_list_executions_filters(instance):
    a = headwater.run(p.add_wf, a=1)
    b = headwater.run(p.boom_wf, x=1)
    assert [e.id for e in headwater.list_executions()] == [b.id, a.id]
    assert [e.id for e in headwater.list_executions(workflow=p.add_wf)] == [a.id]
    assert [e.id for e in headwater.list_executions(status="failed")] == [b.id]
    with pytest.raises(headwater.UserInputError, match="unknown status"):
        headwater.list_executions(status="exploded")


def test_a_value_changed_after_a_task_returned_it_is_stored_as_changed(instance):
    ex = headwater.run(p.mutating_wf)
    assert ex.output == {"a": 1, "b": 2}
    assert ex.nodes[0].output_literals["o0"]["value"] == {"a": 1}


def test_list_executions_is_scoped_to_the_configured_project(instance):
    from headwater.instance import Instance

    mine = headwater.run(p.add_wf, a=1)
    other = Instance(instance.settings.with_(project="other"))
    try:
        with other.use():
            theirs = headwater.run(p.add_wf, a=2)
            assert [e.id for e in headwater.list_executions()] == [theirs.id]
        assert [e.id for e in headwater.list_executions()] == [mine.id]
        assert [e.id for e in headwater.list_executions(project="other")] == [theirs.id]
        every = headwater.list_executions(project="*")
        assert [e.id for e in every] == [theirs.id, mine.id]
        assert headwater.list_executions(project="*", domain="production") == []
    finally:
        other.close()
