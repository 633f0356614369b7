"""storage/node_executions.py on both backends: task calls of an execution, in and out, the
cache lookup, and what the queue reads and writes when it stops an attempt."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import psycopg
import pytest

from headwater.storage import executions as ex
from headwater.storage import node_executions as nodes
from headwater.storage import schema
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from headwater.storage.node_executions import NodeExecutionRow, RunningNode
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    for eid in ("e1", "e2"):
        with database.transaction() as tx:
            ex.insert_execution(
                tx,
                id=eid,
                project="p",
                domain="d",
                workflow="wf",
                workflow_version="v1",
                status="running",
                inputs={},
                resolved={},
                created_at=1.0,
            )
    yield database
    database.close()


def node(db: Database, eid: str, node_id: str, **fields: Any) -> int:
    row: dict[str, Any] = {
        "execution_id": eid,
        "node_id": node_id,
        "name": "wf.step",
        "kind": "task",
        "status": "running",
        "inputs": {"b": 2, "a": 1},
        "attempts": 0,
        "started_at": 10.0,
    }
    row.update(fields)
    with db.transaction() as tx:
        return nodes.insert_node(tx, **row)


def listed(db: Database, eid: str) -> list[NodeExecutionRow]:
    with db.read() as tx:
        return nodes.list_nodes(tx, eid)


def test_the_row_mirrors_the_table() -> None:
    columns = [c.name for c in schema.node_executions.columns]
    assert [f.name for f in fields(NodeExecutionRow)] == columns


def test_an_inserted_node_reads_back_as_a_frozen_row(db: Database) -> None:
    first = node(db, "e1", "n0", cache_key="k1")
    second = node(db, "e1", "n1")
    assert isinstance(first, int) and second > first
    row, _ = listed(db, "e1")
    assert row == NodeExecutionRow(
        id=first,
        execution_id="e1",
        node_id="n0",
        name="wf.step",
        kind="task",
        status="running",
        inputs='{"a": 1, "b": 2}',  # JSON text, keys sorted
        outputs=None,
        error=None,
        attempts=0,
        cache_key="k1",
        cached_from=None,
        started_at=10.0,
        finished_at=None,
    )
    with pytest.raises(AttributeError):
        row.status = "failed"  # type: ignore[misc]


def test_list_nodes_is_one_execution_in_insertion_order(db: Database) -> None:
    node(db, "e1", "n1", started_at=5.0)
    node(db, "e2", "n0")
    node(db, "e1", "n0", started_at=1.0)  # started earlier, inserted later
    assert [n.node_id for n in listed(db, "e1")] == ["n1", "n0"]
    assert [n.node_id for n in listed(db, "e2")] == ["n0"]
    assert listed(db, "missing") == []
    with db.read() as tx:
        assert nodes.count_nodes(tx, "e1") == 2 and nodes.count_nodes(tx, "missing") == 0


def test_a_node_id_is_unique_within_its_execution(db: Database) -> None:
    node(db, "e1", "n0")
    node(db, "e2", "n0")  # another execution: fine
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
        node(db, "e1", "n0")
    assert len(listed(db, "e1")) == 1


def test_update_and_end_a_node(db: Database) -> None:
    a = node(db, "e1", "n0")
    b = node(db, "e1", "n1")
    error = {"type": "WorkerLost", "message": "gone", "traceback": "", "node": "n1"}
    with db.transaction() as tx:
        nodes.update_node(
            tx, a, status="succeeded", outputs={"o0": {"value": 3}}, attempts=1, finished_at=11.0
        )
        nodes.end_node(tx, b, status="failed", error=error, finished_at=12.0)
    one, two = listed(db, "e1")
    assert (one.status, one.outputs, one.attempts, one.finished_at, one.error) == (
        "succeeded",
        '{"o0": {"value": 3}}',
        1,
        11.0,
        None,
    )
    assert (two.status, two.finished_at, two.outputs) == ("failed", 12.0, None)
    assert json.loads(two.error or "") == error


def test_running_nodes_and_the_last_one(db: Database) -> None:
    with db.read() as tx:
        assert nodes.running_nodes(tx, "e1") == []
        assert nodes.last_running_node_id(tx, "e1") is None
    a = node(db, "e1", "n0")
    node(db, "e1", "n1", status="succeeded")
    c = node(db, "e1", "n2")
    node(db, "e2", "n9")
    with db.read() as tx:
        assert sorted(nodes.running_nodes(tx, "e1"), key=lambda n: n.id) == [
            RunningNode(id=a, node_id="n0"),
            RunningNode(id=c, node_id="n2"),
        ]
        assert nodes.last_running_node_id(tx, "e1") == "n2"


def test_find_cached_is_the_newest_success_with_the_key(db: Database) -> None:
    with db.read() as tx:
        assert nodes.find_cached(tx, "k") is None
    node(db, "e1", "n0", cache_key="k", status="succeeded", outputs={"o0": 1})
    newest = node(db, "e2", "n0", cache_key="k", status="succeeded", outputs={"o0": 2})
    node(db, "e2", "n1", cache_key="k", status="failed")  # newer, but failed
    node(db, "e2", "n2", cache_key="k")  # newer, still running
    node(db, "e2", "n3", cache_key="other", status="succeeded", outputs={"o0": 3})
    with db.read() as tx:
        hit = nodes.find_cached(tx, "k")
        assert nodes.find_cached(tx, "missing") is None
    assert isinstance(hit, NodeExecutionRow)
    assert (hit.id, hit.execution_id, hit.node_id, hit.outputs) == (newest, "e2", "n0", '{"o0": 2}')


def test_node_progress_and_cancelling_only_queued_nodes(db: Database) -> None:
    done = node(db, "e1", "m0", status="succeeded", attempts=2, outputs={"o0": {"value": 1}})
    waiting = node(db, "e1", "m1", status="queued")
    error = {"type": "MapCancelled", "message": "not run", "traceback": "", "node": None}
    with db.transaction() as tx:
        assert nodes.node_progress(tx, done) == nodes.NodeProgress(
            "succeeded", 2, {"o0": {"value": 1}}
        )
        assert nodes.node_progress(tx, 10**9) is None
        nodes.cancel_queued_node(tx, done, error, 20.0)  # started: left alone
        nodes.cancel_queued_node(tx, waiting, error, 20.0)
    first, second = listed(db, "e1")
    assert (first.status, first.error) == ("succeeded", None)
    assert (second.status, second.finished_at) == ("cancelled", 20.0)
    assert json.loads(second.error or "") == error
