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
