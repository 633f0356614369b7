"""Contract of storage/pg_copy.py and pipelined transactions: a reactor batch's rows are the
same whether they go by COPY or by INSERT, pipelined or not, and a failed pipelined
transaction leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from headwater.storage import executions as ex
from headwater.storage import pg_copy
from headwater.storage import trigger_decisions as decisions
from headwater.storage.db import Database

from ._reactive_db import add_event, add_plan, migrated


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    yield from migrated(database_url)


def _write(db: Database, tag: str, *, pipeline: bool) -> None:
    """One reactor batch's kind of rows: two decisions about an event and an execution."""
    with db.transaction(pipeline=pipeline) as tx:
        lp = add_plan(tx, f"lp-{tag}", "v1")
        seq = add_event(tx, f"ev-{tag}")
        decisions.insert_decision_values(
            tx,
            [
                (seq, f"ev-{tag}", lp, "0", "fired", "queued execution", f"x-{tag}", 5.25),
                (seq, f"ev-{tag}", lp, "1", "not_fired", "name differs: é ✓", None, 5.5),
            ],
        )
        ex.insert_executions(
            tx,
            [
                {
                    "id": f"x-{tag}",
                    "project": "p",
                    "domain": "d",
                    "workflow": "wf",
                    "workflow_version": "v",
                    "launch_plan": f"lp-{tag}",
                    "launch_plan_id": lp,
                    "status": "queued",
                    "inputs": {"x": {"int": 1}, "s": "é"},
                    "resolved": {},
                    "trigger": {"events": [{"payload": {"a": [1, 2.5, None]}}]},
                    "created_at": 7.125,
                    "max_attempts": 3,
                    "concurrency_limit": None,
                    "queue": "default",
                    "event_seq": seq,
                }
            ],
        )


def _rows(db: Database, tag: str) -> tuple[list[Any], dict[str, Any]]:
    """The decisions and the execution written by ``_write(db, tag)``, without the ids
    that differ between two writes."""
    with db.read() as tx:
        seq = tx.scalar("SELECT seq FROM events WHERE id = :i", {"i": f"ev-{tag}"})
        found = [
            (d.trigger_path, d.outcome, d.reason, d.execution_id == f"x-{tag}", d.created_at)
            for d in (p.decision for p in decisions.decisions_for_events(tx, [seq]))
        ]
        row = ex.get_execution(tx, f"x-{tag}")
    assert row is not None
    varying = ("id", "launch_plan", "launch_plan_id", "event_seq")  # differ by ``tag``
    return found, {k: v for k, v in row.as_dict().items() if k not in varying}


@pytest.mark.parametrize("pipeline", [False, True])
def test_copy_and_insert_store_the_same_rows(db: Database, monkeypatch, pipeline: bool) -> None:
    monkeypatch.setattr(pg_copy, "COPY_MIN_ROWS", 1)  # every batch by COPY
    _write(db, "copy", pipeline=pipeline)
    monkeypatch.setattr(pg_copy, "COPY_MIN_ROWS", 10_000)  # every batch by INSERT
    _write(db, "insert", pipeline=pipeline)
    copied, inserted = _rows(db, "copy"), _rows(db, "insert")
    assert copied == inserted
    assert [d[1] for d in copied[0]] == ["fired", "not_fired"]


def test_a_failed_pipelined_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction(pipeline=True) as tx:
        add_plan(tx, "gone", "v1")
        add_event(tx, "gone")
        raise RuntimeError("crash in the middle of a batch")
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM launch_plans WHERE name = 'gone'") == 0
        assert tx.scalar("SELECT COUNT(*) FROM events WHERE id = 'gone'") == 0


def test_a_statement_that_fails_in_a_pipeline_rolls_the_transaction_back(db: Database) -> None:
    with pytest.raises(Exception), db.transaction(pipeline=True) as tx:  # noqa: B017
        add_event(tx, "also-gone")
        tx.execute("INSERT INTO no_such_table VALUES (1)")
        tx.sync()
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM events WHERE id = 'also-gone'") == 0
    with db.transaction(pipeline=True) as tx:  # the connection is usable again
        add_event(tx, "kept")
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM events WHERE id = 'kept'") == 1
