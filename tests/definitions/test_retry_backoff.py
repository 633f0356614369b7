"""``@task(retries=, retry_delay=, retry_backoff=)``: the wait before each retry grows by the
backoff factor, and each retry is recorded with the node's attempts."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import headwater
from headwater import ExecutionStatus, task
from headwater.definitions.entity import TaskOptions
from headwater.errors import DefinitionError
from tests.engine.conftest import instance

from . import retry_tasks as r

__all__ = ["instance"]


def test_each_wait_is_the_previous_one_times_the_backoff() -> None:
    options = TaskOptions(retries=3, retry_delay=1.0, retry_backoff=2.0)
    assert [options.retry_wait(a) for a in (1, 2, 3, 4)] == [0.0, 1.0, 2.0, 4.0]
    assert TaskOptions(retries=2).retry_wait(2) == 0.0  # no delay unless asked
    assert TaskOptions(retries=2, retry_delay=0.5).retry_wait(3) == 0.5  # constant by default


def test_the_spec_names_the_timing_only_when_set() -> None:
    assert "retry_delay" not in TaskOptions(retries=1).to_dict()  # existing versions stay
    spec = r.flaky.options.to_dict()
    assert (spec["retry_delay"], spec["retry_backoff"]) == (0.05, 2.0)

    @task(retries=1, retry_delay=timedelta(milliseconds=1500))
    def slow(x: int) -> int:
        return x

    assert slow.options.retry_delay == 1.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retries": 2, "retry_delay": -1}, "retry_delay must be a number of seconds >= 0"),
        ({"retries": 2, "retry_delay": "1s"}, "retry_delay must be a number of seconds >= 0"),
        ({"retries": 2, "retry_delay": math.nan}, "retry_delay must be a number of seconds"),
        ({"retries": 2, "retry_delay": True}, "retry_delay must be a number of seconds"),
        ({"retries": 2, "retry_backoff": 0.5}, "retry_backoff must be a number >= 1"),
        ({"retries": 2, "retry_backoff": "2"}, "retry_backoff must be a number >= 1"),
        ({"retries": 2, "retry_backoff": math.inf}, "retry_backoff must be a number >= 1"),
        ({"retry_delay": 1.0}, "only apply to retries; add retries=N"),
        ({"retry_backoff": 2.0}, "only apply to retries; add retries=N"),
    ],
)
def test_bad_timing_is_refused_naming_the_rule(kwargs: dict, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        task(**kwargs)


def test_a_retried_node_records_each_wait_and_what_failed(instance, tmp_path: Path) -> None:
    ex = headwater.run(r.flaky_wf, counter=str(tmp_path / "n"), failures=2)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error
    assert ex.output == 3
    [node] = ex.nodes
    assert node.attempts == 3
    assert node.retry_log == [
        {"attempt": 2, "wait": 0.05, "error": "ValueError: boom 1"},
        {"attempt": 3, "wait": 0.1, "error": "ValueError: boom 2"},
    ]
    assert node.to_dict()["retry_log"] == node.retry_log

    from headwater.cli.app import cli

    shown = CliRunner().invoke(cli, ["executions", "show", ex.id])
    assert shown.exit_code == 0, shown.output
    assert "n0 attempt 2 after 0.05 s: ValueError: boom 1" in shown.output
    assert "n0 attempt 3 after 0.1 s: ValueError: boom 2" in shown.output


def test_a_node_out_of_retries_keeps_its_log(instance, tmp_path: Path) -> None:
    ex = headwater.run(r.flaky_wf, counter=str(tmp_path / "n"), failures=9)
    assert ex.status is ExecutionStatus.FAILED
    [node] = ex.nodes
    assert node.attempts == 4
    assert [(e["attempt"], e["wait"]) for e in node.retry_log] == [(2, 0.05), (3, 0.1), (4, 0.2)]
    assert "boom 4" in node.error["message"]


def test_a_map_item_retries_with_the_same_waits(instance, tmp_path: Path) -> None:
    ex = headwater.run(r.flaky_map_wf, counter=str(tmp_path / "n"), failures=2)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.error
    assert ex.output == [3]
    [node] = ex.nodes
    assert node.attempts == 3
    assert [(e["attempt"], e["wait"]) for e in node.retry_log] == [(2, 0.05), (3, 0.1)]
