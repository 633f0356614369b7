"""A reactor batch's executions (``insert_executions``) are stored exactly as one execution
inserted alone (``insert_execution``): the same text in every column, JSON included."""

from __future__ import annotations

import json

import pytest

from headwater.storage import executions as ex

from ._reactive_db import migrated

_VALUES = {
    "inputs": {"n": {"format": "json", "type": "int", "size": 2, "preview": "12", "value": 12}},
    "resolved": {},
    "trigger": {
        "launch_plan": "lp",
        "kind": "event",
        "events": [
            {
                "id": "e1",
                "time": 1.5,
                "subject": None,
                "payload": {"z": [1, -0.0, 2.5e300, True], "a": 'é \u2028 "q" \\', "m": {}},
            }
        ],
        "input_sources": {"n": "trigger", "b": "launch plan default"},
        "runs": [],
    },
}


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _row(i: str) -> dict:
    return {
        "id": i,
        "project": "p",
        "domain": "d",
        "workflow": "mod.wf",
        "workflow_version": "w1",
        "launch_plan": "lp",
        "launch_plan_id": 7,
        "status": "queued",
        **_VALUES,
        "created_at": 1234.5,
        "max_attempts": 1,
        "concurrency_limit": None,
        "queue": "default",
        "event_seq": 3,
    }


def test_batch_and_single_inserts_store_the_same_text(db):
    with db.transaction() as tx:
        ex.insert_execution(tx, **_row("alone"))
        ex.insert_executions(tx, [_row("b1"), _row("b2")])
    with db.read() as tx:
        rows = {r["id"]: dict(r) for r in tx.all("SELECT * FROM executions ORDER BY id")}
    alone = rows.pop("alone")
    assert set(rows) == {"b1", "b2"}
    for row in rows.values():
        assert {k: v for k, v in row.items() if k != "id"} == {
            k: v for k, v in alone.items() if k != "id"
        }
    for k, v in _VALUES.items():
        assert alone[k] == json.dumps(v, sort_keys=True)


def test_a_value_json_cannot_hold_is_refused_by_both(db):
    bad = _row("x")
    bad["trigger"] = {"events": [object()]}
    with pytest.raises(TypeError), db.transaction() as tx:
        ex.insert_executions(tx, [bad])
    looped: list = []
    looped.append(looped)
    bad["trigger"] = {"events": looped}
    with pytest.raises(ValueError, match="Circular"), db.transaction() as tx:
        ex.insert_executions(tx, [bad])
