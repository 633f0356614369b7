"""The rows a reactor batch writes for a firing: where each input came from (trigger, launch
plan fixed input, launch plan query), and the execution's JSON columns as sorted JSON text."""

from __future__ import annotations

import json

import pytest

import headwater
from headwater.engine.react.reactor import Reactor

from . import triggered as t

MODULE = "tests.engine.triggered"


@pytest.fixture
def registered(instance):
    headwater.create_artifact(t.Lookup, 42)
    headwater.register(MODULE, activate=True)
    return instance


def test_a_firing_records_each_inputs_source_and_sorted_json(registered):
    headwater.run(t.producer, region="US", n=7)
    while Reactor(registered).run_once():
        pass
    with registered.db.read() as tx:
        [row] = tx.all(
            "SELECT id, inputs, resolved, trigger FROM executions WHERE launch_plan = 'on_source'"
        )
    trigger = json.loads(row["trigger"])
    assert trigger["input_sources"] == {
        "x": "trigger",
        "mode": "launch plan fixed",
        "looked_up": "launch plan query",
    }
    inputs = json.loads(row["inputs"])
    assert inputs["mode"]["value"] == "fixed" and inputs["x"]["value"] == 7
    for column in ("inputs", "resolved", "trigger"):
        assert row[column] == json.dumps(json.loads(row[column]), sort_keys=True)
    [d] = [
        d
        for d in headwater.get_event(trigger["events"][0]["id"]).decisions
        if d.launch_plan == "on_source"
    ]
    assert (d.outcome, d.execution_id, d.reason) == (
        "fired",
        row["id"],
        f"queued execution {row['id']}",
    )


def test_events_with_equal_values_in_one_batch_bind_each_its_own_value(registered):
    for x in (5, 6, 5):
        headwater.emit_event("poke", {"x": x})
    while Reactor(registered).run_once():
        pass
    with registered.db.read() as tx:
        rows = tx.all(
            "SELECT inputs, trigger FROM executions WHERE launch_plan = 'on_event' "
            "ORDER BY event_seq"
        )
    assert [json.loads(r["inputs"])["x"]["value"] for r in rows] == [5, 6, 5]
    assert [json.loads(r["inputs"])["x"]["preview"] for r in rows] == ["5", "6", "5"]
    assert rows[0]["inputs"] == rows[2]["inputs"] != rows[1]["inputs"]
    assert [json.loads(r["trigger"])["events"][0]["payload"] for r in rows] == [
        {"x": 5},
        {"x": 6},
        {"x": 5},
    ]
