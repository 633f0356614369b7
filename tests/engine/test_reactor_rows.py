"""The rows a reactor batch writes for a firing: where each input came from (trigger, launch
plan fixed input, launch plan query), and the execution's JSON columns as sorted JSON text."""

from __future__ import annotations

import json
import re

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


def test_a_firing_writes_these_rows_column_by_column(registered):
    """Every column of the execution, firing and decision rows of one firing, and no rows for
    an event no trigger listens to (which is still taken out of the inbox)."""
    poke_id = headwater.emit_event("poke", {"x": 3})
    other_id = headwater.emit_event("nobody.listens.to.this", {"x": 4})
    while Reactor(registered).run_once():
        pass
    with registered.db.read() as tx:
        plan = tx.one("SELECT * FROM launch_plans WHERE name = 'on_event'")
        [event] = tx.all("SELECT * FROM events WHERE id = :i", {"i": poke_id})
        [other] = tx.all("SELECT * FROM events WHERE id = :i", {"i": other_id})
        [row] = tx.all("SELECT * FROM executions WHERE launch_plan = 'on_event'")
        [firing] = tx.all("SELECT * FROM firings WHERE launch_plan_id = :lp", {"lp": plan["id"]})
        decisions = tx.all(
            "SELECT * FROM trigger_decisions WHERE event_seq IN (:a, :b)",
            {"a": event["seq"], "b": other["seq"]},
        )
        inbox = tx.scalar("SELECT COUNT(*) FROM reactor_inbox")
    execution_id = row["id"]
    assert re.fullmatch(r"[0-9a-f]{19}", execution_id)
    assert int(execution_id[:11], 16) == int(row["created_at"] * 1000)
    assert {k: row[k] for k in _EXECUTION_COLUMNS} == {
        "project": plan["project"],
        "domain": plan["domain"],
        "workflow": plan["workflow"],
        "workflow_version": plan["workflow_version"],
        "launch_plan": "on_event",
        "launch_plan_id": plan["id"],
        "status": "queued",
        "max_attempts": 1,
        "concurrency_limit": None,
        "queue": "default",
        "event_seq": event["seq"],
    }
    assert json.loads(row["inputs"]) == {
        "x": {"format": "json", "type": "int", "size": 1, "preview": "3", "value": 3}
    }
    assert json.loads(row["resolved"]) == {}
    assert json.loads(row["trigger"]) == {
        "launch_plan": "on_event",
        "launch_plan_version": plan["version"],
        "trigger": "0",
        "kind": "event",
        "events": [
            {
                "id": poke_id,
                "name": "poke",
                "source": event["source"],
                "subject": None,
                "time": event["time"],
                "payload": {"x": 3},
            }
        ],
        "artifacts": [],
        "runs": [],
        "input_sources": {"x": "trigger"},
    }
    assert (firing["trigger_path"], firing["firing_key"], firing["execution_id"]) == (
        "0",
        str(event["seq"]),
        execution_id,
    )
    columns = ("event_seq", "event_id", "launch_plan_id", "trigger_path", "outcome", "reason")
    assert [tuple(d[c] for c in (*columns, "execution_id")) for d in decisions] == [
        (
            event["seq"],
            poke_id,
            plan["id"],
            "0",
            "fired",
            f"queued execution {execution_id}",
            execution_id,
        )
    ]
    assert inbox == 0


_EXECUTION_COLUMNS = (
    "project",
    "domain",
    "workflow",
    "workflow_version",
    "launch_plan",
    "launch_plan_id",
    "status",
    "max_attempts",
    "concurrency_limit",
    "queue",
    "event_seq",
)


def test_new_versions_in_one_batch_bind_each_its_own_version(registered, monkeypatch):
    # The versions a batch's events announce are read with the events (on PostgreSQL in the
    # same round trip), not one lookup per version while deciding.
    from headwater.engine.publish import artifacts

    made = [headwater.create_artifact(t.Source, x, region="EU") for x in (3, 4, 3)]
    looked_up: list[str] = []
    real = artifacts.resolve_uri
    monkeypatch.setattr(
        artifacts, "resolve_uri", lambda inst, uri: looked_up.append(str(uri)) or real(inst, uri)
    )
    while Reactor(registered).run_once():
        pass
    with registered.db.read() as tx:
        rows = tx.all(
            "SELECT inputs, resolved FROM executions WHERE launch_plan = 'on_source' "
            "ORDER BY event_seq"
        )
    assert [json.loads(r["inputs"])["x"]["value"] for r in rows] == [3, 4, 3]
    assert [json.loads(r["resolved"])["x"]["uri"] for r in rows] == [v.uri for v in made]
    assert looked_up == []
