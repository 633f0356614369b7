"""``@retry``, ``@catch`` and ``@timeout`` on steps, in the main chain and in parallel branches."""

from __future__ import annotations

import pytest

from headwater.errors import DefinitionError
from headwater.flows import CaughtException, Run, catch, retry, run, timeout
from tests.flows.parallel_flows import Caught, Flaky, Slow, SlowBranch, count


def node(ex, name: str):
    found = [n for n in ex.nodes if n.name == name]
    assert len(found) == 1, [n.name for n in ex.nodes]
    return found[0]


def test_retry_runs_a_failing_step_again_and_records_the_attempts(instance, tmp_path):
    ex = run(Flaky, workdir=str(tmp_path), fails=2)
    assert ex.status == "succeeded", ex.error
    assert count(str(tmp_path), "start") == 3
    assert node(ex, "Flaky.start").attempts == 3
    each = [n for n in ex.nodes if n.name == "Flaky.each"]
    assert [n.attempts for n in each] == [2, 2]  # retried in their own processes too
    assert Run(f"Flaky/{ex.id}").data.each_tries == [2, 2]


def test_retry_gives_up_after_its_times(instance, tmp_path):
    ex = run(Flaky, workdir=str(tmp_path), fails=9)
    assert ex.status == "failed"
    assert "try 4 fails" in ex.error["message"]
    start = node(ex, "Flaky.start")
    assert start.status == "failed" and start.attempts == 4
    assert count(str(tmp_path), "start") == 4


def test_catch_stores_the_error_and_the_flow_goes_on(instance):
    ex = run(Caught)
    assert ex.status == "succeeded", ex.error
    data = Run(f"Caught/{ex.id}").data
    assert isinstance(data.error, CaughtException)
    assert data.error.type == "KeyError" and "no such row" in data.error.exception
    assert "KeyError" in data.error.stacktrace
    assert data.seen == "KeyError: 'no such row'"
    assert data.had_partial is False  # what the failed step set is dropped
    assert data.fine_error is None and data.ok is True


def test_timeout_stops_a_slow_step(instance):
    ex = run(Slow)
    assert ex.status == "failed"
    assert ex.error["type"] == "TaskTimeoutError"
    assert node(ex, "Slow.start").status == "failed"


def test_timeout_kills_a_slow_branch_and_catch_lets_the_flow_go_on(instance):
    ex = run(SlowBranch)
    assert ex.status == "succeeded", ex.error
    data = Run(f"SlowBranch/{ex.id}").data
    assert data.errors == [None, "CaughtException"]
    assert "timeout of 1 s" in data.messages[1]


@pytest.mark.parametrize(
    ("decorate", "message"),
    [
        (lambda: timeout(), "positive duration"),
        (lambda: retry(times=-1), "whole number"),
        (lambda: retry(minutes_between_retries="soon"), "number >= 0"),
        (lambda: catch(var="not a name"), "attribute name"),
    ],
)
def test_bad_decorator_arguments_are_refused(decorate, message):
    with pytest.raises(DefinitionError, match=message):
        decorate()
