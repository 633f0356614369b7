"""Triggered executions run with `current.trigger`, fixed/default inputs and schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import headwater
from headwater.daemon.worker import Worker
from headwater.engine.execute import queue
from headwater.engine.react import scheduler
from headwater.engine.react.reactor import Reactor

from . import triggered as t

MODULE = "tests.engine.triggered"


@pytest.fixture
def registered(instance):
    headwater.create_artifact(t.Lookup, 42)
    headwater.register(MODULE, activate=True)
    return instance


def react_and_run(inst) -> list[headwater.Execution]:
    """Decide every pending event, then run every queued execution here."""
    reactor, worker, done = Reactor(inst), Worker(inst), []
    while reactor.run_once():
        pass
    while (row := queue.claim(inst, worker.name, 30)) is not None:
        worker.run_one(row)
        done.append(headwater.get_execution(row.id))
    return done


def only(runs, launch_plan):
    [ex] = [r for r in runs if r.launch_plan == launch_plan]
    assert ex.status == "succeeded", ex.error
    return ex


def test_artifact_trigger_sees_its_version_fixed_inputs_and_queries(registered):
    headwater.run(t.producer, region="US", n=7)
    ex = only(react_and_run(registered), "on_source")
    out = ex.output
    assert out["artifact"] == "hw://default/development/source@1" and out["value"] == 7
    assert out["event"] == "headwater.artifact.created" and out["n_events"] == 1
    assert (out["x"], out["mode"], out["looked_up"]) == (7, "fixed", 42)
    assert out["launch_plan"] == "on_source"
    assert ex.resolved_inputs["looked_up"]["uri"] == "hw://default/development/lookup@1"
    looked_up = headwater.lineage("hw://default/development/lookup@1", direction="downstream")
    assert ex.id in {n.id for n in looked_up.nodes}  # the launch plan's query is lineage too
    graph = headwater.lineage("hw://default/development/source@1", direction="downstream")
    assert ex.id in {n.id for n in graph.nodes}


def test_finish_trigger_sees_the_upstream_run(registered):
    up = headwater.run(t.producer, region="EU", n=3)
    out = only(react_and_run(registered), "on_done").output
    assert out["run"] == up.id and out["by_name"] == up.id
    assert out["run_outputs"] == {"o0": 3}
    assert out["flow_name"] == "producer"
    assert out["pathspec"] == f"tests.engine.triggered.producer/{up.id}"


def test_event_trigger_sees_the_payload(registered):
    headwater.emit_event("poke", {"x": 5, "extra": True})
    out = only(react_and_run(registered), "on_event").output
    assert out["payload"] == {"x": 5, "extra": True} and out["x"] == 5


def test_manual_run_has_no_trigger(registered):
    assert headwater.run(t.consumer).output["kind"] is None


def test_schedule_fires_with_the_kickoff_time(registered):
    start = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert scheduler.tick(registered, now=start) == 0  # first sight: nothing in the past
    assert scheduler.tick(registered, now=start + timedelta(minutes=1, seconds=1)) == 1
    ex = only(react_and_run(registered), "every_minute")
    assert ex.output == (start + timedelta(minutes=1)).isoformat()


def test_lineage_links_triggering_and_triggered_runs(registered):
    up = headwater.run(t.producer, region="EU", n=3)
    done = only(react_and_run(registered), "on_done")
    down = headwater.lineage(up.id, direction="downstream", depth=2)
    assert done.id in {n.id for n in down.nodes}
    assert any(
        e.kind == "triggered" and (e.source, e.target) == (up.id, done.id) for e in down.edges
    )
    back = headwater.lineage(done, direction="upstream", depth=2)
    assert up.id in {n.id for n in back.nodes}
    assert f"triggered by execution {up.id}" in str(back)
    assert "hw://default/development/source@1" in {n.id for n in down.nodes}


def test_relaunch_is_linked_to_the_original(registered):
    from headwater.engine.execute.relaunch import relaunch

    first = headwater.run(t.producer, region="EU", n=2)
    again = relaunch(registered, first.id, {"n": 4})
    graph = headwater.lineage(again, direction="upstream", depth=1)
    assert any(
        e.kind == "triggered" and e.name == "relaunch" and e.source == first.id for e in graph.edges
    )
    # which inputs were given anew (the others repeat the original's): the UI shows it
    trigger = headwater.get_execution(again).trigger
    assert (trigger["kind"], trigger["of"], trigger["overrides"]) == ("relaunch", first.id, ["n"])


def _run_queued(inst, execution_id: str) -> headwater.Execution:
    worker = Worker(inst)
    worker.run_one(queue.claim_id(inst, execution_id, worker.name, 30))
    ex = headwater.get_execution(execution_id)
    assert ex.status == "succeeded", ex.error
    return ex


def test_relaunch_overrides_an_input_with_an_artifact_version(registered):
    from headwater.engine.execute.relaunch import relaunch

    first = headwater.run(t.consumer)
    newer = headwater.create_artifact(t.Lookup, 43)
    lookup = "hw://default/development/lookup"
    by_uri = _run_queued(registered, relaunch(registered, first.id, {"looked_up": f"{lookup}@1"}))
    by_version = _run_queued(registered, relaunch(registered, first.id, {"x": newer}))
    by_text = _run_queued(
        registered,
        relaunch(registered, first.id, text_inputs={"looked_up": lookup, "mode": f"{lookup}@1"}),
    )
    assert by_uri.output["looked_up"] == 42 and by_uri.resolved_inputs["looked_up"] == {
        "uri": f"{lookup}@1",
        "via": "explicit",
    }
    assert by_version.output["x"] == 43
    assert by_version.resolved_inputs["x"]["uri"] == f"{lookup}@2"
    # A query URI resolves to the latest version; a str input keeps hw:// text as text.
    assert by_text.output["looked_up"] == 43 and by_text.output["mode"] == f"{lookup}@1"
    assert by_text.resolved_inputs["looked_up"]["uri"] == f"{lookup}@2"
    consumers = headwater.lineage(newer, direction="downstream", depth=1)
    assert {by_version.id, by_text.id} <= {n.id for n in consumers.nodes}
    assert by_uri.id not in {n.id for n in consumers.nodes}


def test_relaunch_refuses_an_artifact_of_another_type(registered):
    from headwater.engine.execute.relaunch import relaunch
    from headwater.errors import TypeMismatchError

    first = headwater.run(t.consumer)
    headwater.create_artifact(headwater.Artifact(name="words"), "hello")
    before = len(headwater.list_executions())
    with pytest.raises(TypeMismatchError) as err:
        relaunch(registered, first.id, {"x": "hw://default/development/words@1"})
    message = str(err.value)
    assert "input 'x' expects int" in message and "holds a str" in message
    assert len(headwater.list_executions()) == before
