"""storage/plan_runs.py on both backends: a launch plan's executions listed newest first,
whether they still wait in ``plan_runs_new`` (SQLite) or are in ``plan_runs``, and kept in
step when executions are deleted or the schema is migrated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from headwater.storage import executions as ex
from headwater.storage import plan_runs, retention
from headwater.storage.db import Database
from headwater.storage.migrate import downgrade, ensure_schema, upgrade
from tests import _schema
from tests.storage.test_executions_recent import add, row

BIG = 10**9  # never move: every row stays in plan_runs_new


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def counts(db: Database) -> tuple[int, int]:
    with db.read() as tx:
        return (
            tx.scalar("SELECT COUNT(*) FROM plan_runs_new"),
            tx.scalar("SELECT COUNT(*) FROM plan_runs"),
        )


def test_rows_gather_then_move_in_one_go(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_runs, "MOVE_EVERY", 5)
    if db.dialect == "postgresql":  # no gathering there: straight into plan_runs
        add(db, "a", 1.0, launch_plan="lp")
        add(db, "direct", 2.0)
        assert counts(db) == (0, 1)
        return
    for i in range(4):
        add(db, f"a{i}", float(i), launch_plan="lp")
    add(db, "direct", 4.5)  # no launch plan: in neither table
    assert counts(db) == (4, 0)
    with db.transaction() as tx:  # a reactor batch: three more, the fifth triggers the move
        ex.insert_executions(tx, [row(f"b{i}", 5.0 + i, launch_plan=f"lp{i}") for i in range(3)])
    assert counts(db) == (0, 7)
    add(db, "c", 9.0, launch_plan="lp")
    assert counts(db) == (1, 7)
    with db.read() as tx:
        moved = tx.all("SELECT launch_plan, created_at, id FROM plan_runs ORDER BY id")
    assert [(r["launch_plan"], r["created_at"], r["id"]) for r in moved][:2] == [
        ("lp", 0.0, "a0"),
        ("lp", 1.0, "a1"),
    ]


@pytest.mark.parametrize("every", [BIG, 1, 3], ids=["all-new", "all-moved", "both"])
def test_a_plans_executions_newest_first_wherever_they_are(
    db: Database, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    monkeypatch.setattr(plan_runs, "MOVE_EVERY", every)
    add(db, "p1", 1.0, launch_plan="busy")
    add(db, "p2", 2.0, launch_plan="busy", status="failed")
    add(db, "p0", 2.0, launch_plan="busy")  # same time as p2: the id decides
    for i in range(9):
        add(db, f"o{i}", 10.0 + i, launch_plan=None if i % 2 else "other")
    add(db, "p3", 20.0, launch_plan="busy", project="q")
    add(db, "p4", 21.0, launch_plan="busy")
    with db.read() as tx:

        def ids(**kw: Any) -> list[str]:
            return [r.id for r in ex.list_executions(tx, launch_plan="busy", **kw)]

        assert ids() == ["p4", "p3", "p2", "p0", "p1"]
        assert ids(limit=2) == ["p4", "p3"]
        assert ids(limit=2, offset=2) == ["p2", "p0"]
        assert ids(limit=2, offset=4) == ["p1"]
        assert ids(limit=2, offset=6) == []
        assert ids(status="failed") == ["p2"]
        assert ids(project="q") == ["p3"]
        assert ids(since=2.0, until=21.0) == ["p3", "p2", "p0"]
        assert ids(workflow="other") == []
        assert ex.list_executions(tx, launch_plan="never") == []
        assert [r.id for r in ex.list_executions(tx, launch_plan="other")] == [
            "o8",
            "o6",
            "o4",
            "o2",
            "o0",
        ]
        rows = ex.list_executions(tx, launch_plan="busy", limit=1)
        assert rows[0] == ex.get_execution(tx, "p4")  # whole rows, as stored


@pytest.mark.parametrize("every", [BIG, 1, 2], ids=["all-new", "all-moved", "both"])
def test_recent_runs_by_launch_plan_wherever_they_are(
    db: Database, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    monkeypatch.setattr(plan_runs, "MOVE_EVERY", every)
    for i in range(5):
        add(db, f"n{i}", float(i), launch_plan="nightly")
    add(db, "h0", 2.5, launch_plan="hourly", status="running")
    add(db, "q0", 3.5, launch_plan="nightly", project="q")
    nightly, hourly, q = ("p", "d", "nightly"), ("p", "d", "hourly"), ("q", "d", "nightly")
    with db.read() as tx:
        found = ex.recent_by_launch_plan(tx, plans=[nightly, hourly, q], scan=100, per_plan=2)
        within = ex.recent_by_launch_plan(tx, plans=[nightly, hourly], scan=4, per_plan=5)
    assert [r.id for r in found] == ["n4", "q0", "n3", "h0"]
    assert found[3] == ex.PlanRunRow("h0", "hourly", "p", "d", "running", 2.5)
    # the 4 newest: n4, q0, n3, h0 (q0 is not asked for)
    assert [r.id for r in within] == ["n4", "n3", "h0"]


@pytest.mark.parametrize("read", ["list_executions", "recent_runs"])
def test_a_plan_that_never_ran_costs_no_walk_of_its_executions(
    db: Database, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the query plans checked are SQLite's")
    monkeypatch.setattr(plan_runs, "MOVE_EVERY", 2)
    for i in range(6):
        add(db, f"e{i}", float(i), launch_plan=f"lp{i % 2}")
    seen: list[str] = []
    with db.read() as tx:
        tx.conn.set_trace_callback(seen.append)
        if read == "list_executions":
            ex.list_executions(tx, launch_plan="lp0", status="succeeded", since=1.0, limit=5)
            key = "(launch_plan=? AND created_at>?)"
        else:  # a graph's live counts of a launch plan node
            ex.recent_runs(tx, project="p", domain="d", workflow="wf", launch_plan="lp0")
            key = "(launch_plan=?)"
        tx.conn.set_trace_callback(None)
        plans = {}
        for sql in seen:
            found = tx.all(f"EXPLAIN QUERY PLAN {sql}")
            plans[sql] = " | ".join(str(r[3]) for r in found)
    assert len(plans) == 1, plans  # one statement: plan_runs, UNION ALL plan_runs_new
    (plan,) = plans.values()
    moved, _, new = plan.partition("UNION ALL")
    # plan_runs is walked by its key, newest first, from the plan: no sort, no scan
    assert f"SEARCH p USING PRIMARY KEY {key}" in moved, plan
    assert "TEMP B-TREE" not in moved and "SCAN p" not in moved, plan
    assert "SCAN s" in new, plan  # the few rows not moved yet: read whole
    # executions only by id: never a walk of them
    assert "SCAN e" not in plan and "ix_executions" not in plan, plan


def test_deleting_executions_forgets_them_in_both_tables(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_runs, "MOVE_EVERY", 3)
    for i in range(4):  # three moved, one waiting
        add(db, f"e{i}", float(i), launch_plan="lp")
    add(db, "busy", 9.0, launch_plan="lp", status="running")  # never purged
    sqlite = db.dialect == "sqlite"
    assert counts(db) == ((2, 3) if sqlite else (0, 5))
    with db.transaction() as tx:
        assert retention.delete_executions(tx, ["e0", "e3", "busy"]) == 2
    with db.read() as tx:
        assert [r.id for r in ex.list_executions(tx, launch_plan="lp")] == ["busy", "e2", "e1"]
    assert counts(db) == ((1, 2) if sqlite else (0, 3))


def test_the_migration_copies_existing_executions_and_drops_the_index(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0018")
        with db.transaction() as tx:
            for i, lp in enumerate(["a", "b", None, "a"]):
                tx.execute(
                    "INSERT INTO executions (id, project, domain, workflow, workflow_version, "
                    "launch_plan, status, inputs, resolved, created_at) VALUES (:id, 'p', 'd', "
                    "'wf', 'v', :lp, 'succeeded', '{}', '{}', :t)",
                    {"id": f"e{i}", "lp": lp, "t": float(i)},
                )
        upgrade(db)
        assert counts(db) == (0, 3)
        with db.read() as tx:
            assert [r.id for r in ex.list_executions(tx, launch_plan="a")] == ["e3", "e0"]
            if db.dialect == "sqlite":
                names = {r["name"] for r in tx.all("SELECT name FROM sqlite_master")}
            else:
                names = {r["name"] for r in tx.all("SELECT indexname AS name FROM pg_indexes")}
        assert "ix_executions_launch_plan" not in names
        downgrade(db, "0018")
        upgrade(db)
        assert counts(db) == (0, 3)
    finally:
        db.close()
