"""storage/executions.py on both backends: rows in and out, listings, and the queue's
statements (claim, lease, requeue, fail, reap, cancel) that engine/queue.py builds on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest

from headwater.storage import executions as ex
from headwater.storage import schema
from headwater.storage.db import Database
from headwater.storage.executions import (
    ClaimCandidate,
    ExecutionRow,
    ExecutionState,
    ExecutionSummary,
)
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def add(db: Database, eid: str, created_at: float = 1000.0, **fields: Any) -> str:
    row: dict[str, Any] = {
        "id": eid,
        "project": "p",
        "domain": "d",
        "workflow": "wf",
        "workflow_version": "v1",
        "status": "queued",
        "inputs": {"x": {"format": "json", "value": 1}},
        "resolved": {},
        "created_at": created_at,
    }
    row.update(fields)
    with db.transaction() as tx:
        ex.insert_execution(tx, **row)
    return eid


def get(db: Database, eid: str) -> ExecutionRow:
    with db.read() as tx:
        row = ex.get_execution(tx, eid)
    assert row is not None
    return row


# -- rows in and out ---------------------------------------------------------------------------
def test_an_inserted_execution_reads_back_as_a_frozen_row(db: Database) -> None:
    add(
        db,
        "e1",
        launch_plan="lp",
        launch_plan_id=7,
        trigger={"kind": "event", "b": 1, "a": 2},
        concurrency_limit=3,
        event_seq=12,
    )
    row = get(db, "e1")
    assert isinstance(row, ExecutionRow)
    assert (row.id, row.project, row.domain, row.workflow, row.workflow_version) == (
        "e1",
        "p",
        "d",
        "wf",
        "v1",
    )
    assert (row.launch_plan, row.launch_plan_id, row.concurrency_limit, row.event_seq) == (
        "lp",
        7,
        3,
        12,
    )
    # JSON columns stay text, written with sorted keys
    assert row.inputs == '{"x": {"format": "json", "value": 1}}'
    assert row.resolved == "{}"
    assert row.trigger == '{"a": 2, "b": 1, "kind": "event"}'
    assert row.outputs is None and row.error is None
    assert row.created_at == 1000.0 and row.started_at is None and row.finished_at is None
    # the queue's columns take their defaults
    assert (row.status, row.worker, row.lease_expires_at) == ("queued", None, None)
    assert (row.attempts, row.max_attempts) == (0, 1)
    with pytest.raises(AttributeError):
        row.status = "running"  # type: ignore[misc]


def test_the_row_mirrors_the_table() -> None:
    # ... and then has what a claim learns besides the row (not a column)
    names = [f.name for f in fields(ExecutionRow)]
    assert names[:-1] == [c.name for c in schema.executions.columns]
    assert names[-1] == "nodes_before"


def test_a_row_reads_the_same_by_name_and_in_column_order(db: Database) -> None:
    add(db, "e1", trigger={"kind": "manual"}, launch_plan_id=4)
    with db.read() as tx:
        raw = tx.one("SELECT * FROM executions WHERE id = 'e1'")
        shuffled = tx.one(
            "SELECT trigger, id, "
            + ", ".join(
                c.name for c in schema.executions.columns if c.name not in ("id", "trigger")
            )
            + " FROM executions WHERE id = 'e1'"
        )
    by_name = {k: raw[k] for k in ExecutionRow.__slots__[:-1]}
    assert ExecutionRow.from_db(raw) == ExecutionRow.from_db(by_name) == get(db, "e1")
    assert ExecutionRow.from_db(shuffled) == get(db, "e1")


def test_a_missing_execution_is_none(db: Database) -> None:
    with db.read() as tx:
        assert ex.get_execution(tx, "nope") is None
        assert ex.get_state(tx, "nope") is None
        assert ex.summaries(tx, ["nope"]) == []


def test_as_dict_rebuilds_the_same_row(db: Database) -> None:
    add(db, "e1", trigger={"kind": "manual"})
    row = get(db, "e1")
    sent = json.loads(json.dumps(row.as_dict()))  # as a worker's child reports it
    assert ExecutionRow(**sent) == row


def test_insert_executions_writes_all_rows_in_one_call(db: Database) -> None:
    base = {
        "project": "p",
        "domain": "d",
        "workflow": "wf",
        "workflow_version": "v1",
        "status": "queued",
        "inputs": {},
        "resolved": {"a": {"uri": "hw://x"}},
    }
    with db.transaction() as tx:
        ex.insert_executions(tx, [])  # nothing to do
        ex.insert_executions(
            tx, [{**base, "id": f"e{i}", "created_at": float(i)} for i in range(3)]
        )
    with db.read() as tx:
        found = ex.list_executions(tx)
    assert [r.id for r in found] == ["e2", "e1", "e0"]
    assert {r.resolved for r in found} == {'{"a": {"uri": "hw://x"}}'}


def test_update_execution_sets_the_given_columns_only(db: Database) -> None:
    add(db, "e1")
    add(db, "e2")
    with db.transaction() as tx:
        ex.update_execution(
            tx, "e1", status="succeeded", outputs={"o0": 1}, error=None, finished_at=5.0
        )
        ex.set_max_attempts(tx, "e1", 4)
    row = get(db, "e1")
    assert (row.status, row.outputs, row.error, row.finished_at) == (
        "succeeded",
        '{"o0": 1}',
        None,
        5.0,
    )
    assert row.max_attempts == 4
    assert row.inputs == '{"x": {"format": "json", "value": 1}}'  # untouched
    assert get(db, "e2").status == "queued"  # other rows untouched


# -- listings ----------------------------------------------------------------------------------
def test_list_executions_filters_orders_newest_first_and_limits(db: Database) -> None:
    add(db, "a1", 1.0, workflow="a", status="succeeded", launch_plan="lp1")
    add(db, "a2", 2.0, workflow="a", status="failed", project="q")
    add(db, "b1", 3.0, workflow="b", status="succeeded", domain="prod")
    add(db, "b0", 3.0, workflow="b", status="succeeded")  # same time as b1: id decides
    with db.read() as tx:

        def ids(**kw: Any) -> list[str]:
            return [r.id for r in ex.list_executions(tx, **kw)]

        assert ids() == ["b1", "b0", "a2", "a1"]
        assert ids(limit=2) == ["b1", "b0"]
        assert ids(workflow="a") == ["a2", "a1"]
        assert ids(status="succeeded") == ["b1", "b0", "a1"]
        assert ids(launch_plan="lp1") == ["a1"]
        assert ids(project="q") == ["a2"]
        assert ids(domain="prod") == ["b1"]
        assert ids(workflow="b", status="succeeded", domain="d") == ["b0"]
        assert ids(workflow="none") == []
        assert all(isinstance(r, ExecutionRow) for r in ex.list_executions(tx))


def test_list_executions_by_time_range_and_page(db: Database) -> None:
    for i in range(5):
        add(db, f"e{i}", float(10 * i))
    with db.read() as tx:

        def ids(**kw: Any) -> list[str]:
            return [r.id for r in ex.list_executions(tx, **kw)]

        assert ids(since=10.0) == ["e4", "e3", "e2", "e1"]  # since is inclusive
        assert ids(until=20.0) == ["e1", "e0"]  # until is exclusive
        assert ids(since=10.0, until=30.0) == ["e2", "e1"]
        assert ids(limit=2, offset=0) == ["e4", "e3"]
        assert ids(limit=2, offset=2) == ["e2", "e1"]
        assert ids(limit=2, offset=4) == ["e0"]
        assert ids(limit=2, offset=6) == []


def test_summaries_and_state(db: Database) -> None:
    add(db, "e1", 1.5, workflow="w1")
    add(db, "e2", 2.5, workflow="w2", status="running", worker="wk")
    with db.read() as tx:
        assert ex.summaries(tx, []) == []
        found = sorted(ex.summaries(tx, ["e2", "e1", "missing"]), key=lambda s: s.id)
        assert ex.get_state(tx, "e2") == ExecutionState(status="running", worker="wk")
        assert ex.get_state(tx, "e1") == ExecutionState(status="queued", worker=None)
    assert found == [
        ExecutionSummary(
            id="e1", workflow="w1", status="queued", created_at=1.5, project="p", domain="d"
        ),
        ExecutionSummary(
            id="e2", workflow="w2", status="running", created_at=2.5, project="p", domain="d"
        ),
    ]


# -- the queue ---------------------------------------------------------------------------------
def test_queued_counts(db: Database) -> None:
    with db.read() as tx:
        assert not ex.has_queued(tx) and ex.count_queued(tx) == 0
    add(db, "e1")
    add(db, "e2")
    add(db, "e3", status="running")
    with db.read() as tx:
        assert ex.has_queued(tx) and ex.count_queued(tx) == 2


def test_claim_candidate_is_the_oldest_queued_under_its_limit(db: Database) -> None:
    add(db, "e3", 3.0)
    add(db, "e1b", 1.0)
    add(db, "e1a", 1.0)  # same time: the lower id first
    add(db, "e0", 0.5, status="succeeded")
    with db.transaction() as tx:
        assert ex.claim_candidate(tx) == ClaimCandidate("e1a", None, None)
    # A launch plan at its concurrency limit is passed over, and so is one asked to skip.
    add(db, "r1", 0.1, status="running", launch_plan_id=5, concurrency_limit=1)
    add(db, "l1", 0.2, launch_plan_id=5, concurrency_limit=1)
    add(db, "l2", 0.3, launch_plan_id=6, concurrency_limit=2)
    with db.transaction() as tx:
        assert ex.count_running(tx, 5) == 1 and ex.count_running(tx, 6) == 0
        assert ex.claim_candidate(tx) == ClaimCandidate("l2", 6, 2)
        assert ex.claim_candidate(tx, skip_launch_plans=[6]) == ClaimCandidate("e1a", None, None)
        ex.update_execution(tx, "r1", status="succeeded")
        assert ex.claim_candidate(tx) == ClaimCandidate("l1", 5, 1)
        ex.update_execution(tx, "l1", status="cancelled")
        ex.update_execution(tx, "l2", status="cancelled")
        for eid in ("e1a", "e1b", "e3"):
            ex.update_execution(tx, eid, status="running")
        assert ex.claim_candidate(tx) is None


def test_mark_claimed_takes_a_queued_row_once(db: Database) -> None:
    add(db, "e1", attempts=1, finished_at=9.0)
    with db.transaction() as tx:
        assert ex.mark_claimed(tx, "e1", worker="w1", lease_expires_at=130.0, now=100.0)
        assert not ex.mark_claimed(tx, "e1", worker="w2", lease_expires_at=130.0, now=100.0)
        assert not ex.mark_claimed(tx, "missing", worker="w2", lease_expires_at=1.0, now=1.0)
    row = get(db, "e1")
    assert (row.status, row.worker, row.lease_expires_at, row.attempts) == (
        "running",
        "w1",
        130.0,
        2,
    )
    assert (row.started_at, row.finished_at) == (100.0, None)


def test_take_returns_the_claimed_row_once(db: Database) -> None:
    add(db, "e1", attempts=1, finished_at=9.0)
    with db.transaction() as tx:
        row = ex.take(tx, "e1", worker="w1", lease_expires_at=130.0, now=100.0)
        assert ex.take(tx, "e1", worker="w2", lease_expires_at=130.0, now=100.0) is None
        assert ex.take(tx, "missing", worker="w2", lease_expires_at=1.0, now=1.0) is None
    assert row == get(db, "e1")  # as stored after the claim
    assert (row.status, row.worker, row.attempts, row.started_at, row.finished_at) == (
        "running",
        "w1",
        2,
        100.0,
        None,
    )


def test_take_oldest_claims_unless_the_launch_plan_has_a_limit(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("one claiming statement on PostgreSQL; SQLite claims in two")
    with db.transaction() as tx:
        assert ex.take_oldest(tx, worker="w", lease_expires_at=9.0, now=1.0) == (None, None)
    add(db, "e2", 2.0)
    add(db, "l1", 1.0, launch_plan_id=5, concurrency_limit=1)
    add(db, "q1", 0.5, queue="gpu")
    with db.transaction() as tx:  # the oldest has a limit: found and locked, not taken
        cand, row = ex.take_oldest(
            tx, worker="w", lease_expires_at=9.0, now=1.0, queues=["default"]
        )
        assert (cand, row) == (ClaimCandidate("l1", 5, 1), None)
    assert get(db, "l1").status == "queued"
    with db.transaction() as tx:
        ex.update_execution(tx, "l1", status="cancelled")
        cand, row = ex.take_oldest(
            tx, worker="w", lease_expires_at=9.0, now=1.0, queues=["default"]
        )
    assert cand == ClaimCandidate("e2", None, None)
    assert row is not None and row == get(db, "e2")
    assert (row.status, row.worker, row.lease_expires_at, row.attempts) == ("running", "w", 9.0, 1)
    with db.transaction() as tx:
        cand, row = ex.take_oldest(tx, worker="w", lease_expires_at=9.0, now=1.0)
    assert cand == ClaimCandidate("q1", None, None) and row is not None and row.id == "q1"


def test_nodes_if_leased_counts_the_nodes_of_the_holder_only(db: Database) -> None:
    from headwater.storage import node_executions

    add(db, "e1")
    with db.transaction() as tx:
        assert ex.nodes_if_leased(tx, "e1", "w1") is None  # queued: nobody's
        ex.mark_claimed(tx, "e1", worker="w1", lease_expires_at=10.0, now=1.0)
        assert ex.nodes_if_leased(tx, "e1", "w1") == 0
        for node in ("n0", "n1"):
            node_executions.insert_node(
                tx,
                execution_id="e1",
                node_id=node,
                name="t",
                kind="task",
                status="failed",
                inputs={},
                attempts=1,
                started_at=1.0,
            )
        assert ex.nodes_if_leased(tx, "e1", "w1") == 2
        assert ex.nodes_if_leased(tx, "e1", "w2") is None


def test_leases_belong_to_their_worker(db: Database) -> None:
    add(db, "e1")
    with db.transaction() as tx:
        assert not ex.still_leased(tx, "e1", "w1")  # queued: nobody's
        ex.mark_claimed(tx, "e1", worker="w1", lease_expires_at=10.0, now=1.0)
        assert ex.still_leased(tx, "e1", "w1")
        assert not ex.still_leased(tx, "e1", "w2")
        assert not ex.extend_lease(tx, "e1", worker="w2", lease_expires_at=99.0)
        assert ex.extend_lease(tx, "e1", worker="w1", lease_expires_at=50.0)
    assert get(db, "e1").lease_expires_at == 50.0
    with db.transaction() as tx:
        ex.update_execution(tx, "e1", status="succeeded")
        assert not ex.still_leased(tx, "e1", "w1")
        assert not ex.extend_lease(tx, "e1", worker="w1", lease_expires_at=60.0)
    assert get(db, "e1").lease_expires_at == 50.0


def test_unclaim_gives_the_attempt_back(db: Database) -> None:
    add(db, "e1")
    with db.transaction() as tx:
        ex.mark_claimed(tx, "e1", worker="w1", lease_expires_at=10.0, now=1.0)
        assert not ex.unclaim(tx, "e1", worker="w2")
        assert ex.unclaim(tx, "e1", worker="w1")
        assert not ex.unclaim(tx, "e1", worker="w1")  # queued now
    row = get(db, "e1")
    assert (row.status, row.worker, row.lease_expires_at, row.started_at, row.attempts) == (
        "queued",
        None,
        None,
        None,
        0,
    )
    add(db, "e2", status="running", worker="w1", attempts=0)  # never below zero
    with db.transaction() as tx:
        assert ex.unclaim(tx, "e2", worker="w1")
    assert get(db, "e2").attempts == 0


def test_fail_claimed_ends_only_our_running_execution(db: Database) -> None:
    add(db, "e1", status="running", worker="w1", lease_expires_at=10.0, attempts=1)
    error = {"type": "SnapshotError", "message": "boom", "traceback": "", "node": None}
    with db.transaction() as tx:
        assert not ex.fail_claimed(tx, "e1", worker="w2", error=error, now=5.0)
        assert ex.fail_claimed(tx, "e1", worker="w1", error=error, now=5.0)
        assert not ex.fail_claimed(tx, "e1", worker="w1", error=error, now=6.0)
    row = get(db, "e1")
    assert (row.status, row.outputs, row.finished_at, row.lease_expires_at) == (
        "failed",
        "{}",
        5.0,
        None,
    )
    assert json.loads(row.error or "") == error


def test_expire_leases_and_expired(db: Database) -> None:
    add(db, "a", status="running", worker="w1", lease_expires_at=30.0)
    add(db, "b", status="running", worker="w1", lease_expires_at=20.0)
    add(db, "c", status="running", worker="w1", lease_expires_at=4.0)  # ends before already
    add(db, "d", status="running", worker="w2", lease_expires_at=25.0)
    add(db, "e", status="queued", worker=None, lease_expires_at=1.0)  # not running
    with db.transaction() as tx:
        assert ex.expire_leases(tx, worker="w1", expires_at=5.0) == 2
        assert ex.expire_leases(tx, worker="nobody", expires_at=5.0) == 0
    with db.read() as tx:
        first, *tied = ex.expired(tx, now=6.0, limit=10)
        assert first == "c" and sorted(tied) == ["a", "b"]  # a and b end at 5.0 now
        assert ex.expired(tx, now=4.5, limit=10) == ["c"]
        assert ex.expired(tx, now=100.0, limit=10)[-1] == "d"  # longest-expired first
        assert len(ex.expired(tx, now=100.0, limit=2)) == 2
        assert ex.expired(tx, now=1.0, limit=10) == []


def test_requeue_and_fail_an_attempt_of_a_worker(db: Database) -> None:
    add(db, "e1", status="running", worker="w1", lease_expires_at=50.0, started_at=1.0)
    add(db, "e2", status="running", worker="w1", lease_expires_at=50.0, attempts=1)
    error = {"type": "TaskTimeoutError", "message": "late", "traceback": "", "node": "n0"}
    with db.transaction() as tx:
        assert not ex.requeue_attempt(tx, "e1", worker="w2")
        assert ex.requeue_attempt(tx, "e1", worker="w1")
        assert not ex.fail_attempt(tx, "e2", worker="w2", error=error, now=7.0)
        assert ex.fail_attempt(tx, "e2", worker="w1", error=error, now=7.0)
    one, two = get(db, "e1"), get(db, "e2")
    assert (one.status, one.worker, one.lease_expires_at, one.started_at) == (
        "queued",
        None,
        None,
        None,
    )
    assert (two.status, two.outputs, two.finished_at, two.lease_expires_at) == (
        "failed",
        "{}",
        7.0,
        None,
    )
    assert json.loads(two.error or "") == error and two.attempts == 1


def test_an_attempt_is_ended_for_an_expired_lease_only(db: Database) -> None:
    add(db, "e1", status="running", worker="w1", lease_expires_at=50.0)
    add(db, "e2", status="running", worker=None, lease_expires_at=50.0)  # no worker recorded
    error = {"type": "WorkerLost", "message": "gone", "traceback": "", "node": None}
    with db.transaction() as tx:
        # the lease is live at 40: nothing happens
        assert not ex.requeue_attempt(tx, "e1", worker="w1", expired_before=40.0)
        assert not ex.fail_attempt(tx, "e1", worker="w1", error=error, now=1.0, expired_before=40.0)
        # another worker's lease: nothing either
        assert not ex.requeue_attempt(tx, "e1", worker="w2", expired_before=60.0)
        assert ex.requeue_attempt(tx, "e1", worker="w1", expired_before=60.0)
        # a NULL worker matches None (IS NOT DISTINCT FROM), and not a name
        assert not ex.fail_attempt(
            tx, "e2", worker="w1", error=error, now=61.0, expired_before=60.0
        )
        assert ex.fail_attempt(tx, "e2", worker=None, error=error, now=61.0, expired_before=60.0)
    assert get(db, "e1").status == "queued"
    row = get(db, "e2")
    assert row.status == "failed" and row.finished_at == 61.0
    assert json.loads(row.error or "") == error


def test_mark_cancelled_only_from_the_status_seen(db: Database) -> None:
    add(db, "e1", status="running", worker="w1", lease_expires_at=50.0)
    error = {"type": "Cancelled", "message": "cancelled by a", "traceback": "", "node": None}
    with db.transaction() as tx:
        row = ex.get_execution(tx, "e1", for_update=True)
        assert row is not None and row.status == "running"
        assert not ex.mark_cancelled(tx, "e1", status="queued", error=error, now=3.0)
        assert ex.mark_cancelled(tx, "e1", status="running", error=error, now=3.0)
    row = get(db, "e1")
    assert (row.status, row.outputs, row.finished_at, row.lease_expires_at) == (
        "cancelled",
        "{}",
        3.0,
        None,
    )
    assert json.loads(row.error or "") == error
    with db.transaction() as tx:
        assert ex.get_execution(tx, "missing", for_update=True) is None


def _claim_all(url: str, worker: str, start: threading.Barrier, got: list[str]) -> None:
    """Claim with candidate + mark until nothing is left, on a Database of its own."""
    db = Database(url)
    try:
        start.wait(30)
        while True:
            with db.transaction() as tx:
                cand = ex.claim_candidate(tx)
                if cand is None:
                    return
                if ex.mark_claimed(tx, cand.id, worker=worker, lease_expires_at=9e9, now=1.0):
                    got.append(cand.id)
    finally:
        db.close()


def test_concurrent_claimers_never_take_the_same_row(db: Database, database_url: str) -> None:
    ids = [add(db, f"e{i:03d}", float(i)) for i in range(60)]
    start = threading.Barrier(2)
    got: dict[str, list[str]] = {"w1": [], "w2": []}
    threads = [
        threading.Thread(target=_claim_all, args=(database_url, w, start, got[w])) for w in got
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert sorted(got["w1"] + got["w2"]) == ids  # each row exactly once
    with db.read() as tx:
        rows = ex.list_executions(tx, limit=100)
    assert {r.id: r.worker for r in rows} == {eid: w for w, mine in got.items() for eid in mine}
    assert {r.attempts for r in rows} == {1}


@pytest.mark.postgres
def test_postgres_a_claimer_skips_the_row_another_has_locked(postgres_url: str) -> None:
    first, second = Database(postgres_url), Database(postgres_url)
    try:
        ensure_schema(first)
        add(first, "old", 1.0)
        add(first, "new", 2.0)
        holding, release = threading.Event(), threading.Event()
        seen: list[ClaimCandidate | None] = []

        def hold() -> None:
            with first.transaction() as tx:
                seen.append(ex.claim_candidate(tx))
                holding.set()
                release.wait(30)

        t = threading.Thread(target=hold)
        t.start()
        try:
            assert holding.wait(30)
            with second.transaction() as tx:
                # "old" is locked by the first transaction: skipped, not waited for
                other = ex.claim_candidate(tx)
        finally:
            release.set()
            t.join(30)
        assert seen == [ClaimCandidate("old", None, None)]
        assert other == ClaimCandidate("new", None, None)
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_postgres_row_and_launch_plan_locks_hold_until_the_transaction_ends(
    postgres_url: str,
) -> None:
    first, second = Database(postgres_url), Database(postgres_url)
    try:
        ensure_schema(first)
        add(first, "e1", status="running", worker="w1", launch_plan_id=3)
        add(first, "e2", status="running", worker="w1")

        def locked(eid: str) -> bool:
            with second.read() as tx:
                free = tx.one(
                    "SELECT id FROM executions WHERE id = :id FOR UPDATE SKIP LOCKED", {"id": eid}
                )
            return free is None

        def plan_locked(lp: int) -> bool:
            with second.transaction() as tx:
                got = tx.scalar(
                    "SELECT pg_try_advisory_xact_lock(:k, :lp)", {"k": 0x6877, "lp": lp}
                )
            return not got

        with first.transaction() as tx:
            assert ex.get_execution(tx, "e1", for_update=True) is not None
            assert ex.still_leased(tx, "e2", "w1")
            ex.lock_launch_plan(tx, 3)
            assert locked("e1") and locked("e2") and plan_locked(3)
            assert not plan_locked(4)
        assert not locked("e1") and not locked("e2") and not plan_locked(3)
    finally:
        first.close()
        second.close()


def test_recent_executions_by_launch_plan_within_the_newest(db: Database) -> None:
    add(db, "old", 1.0, launch_plan="nightly")
    add(db, "n1", 2.0, launch_plan="nightly", status="succeeded")
    add(db, "h1", 3.0, launch_plan="hourly")
    add(db, "n2", 4.0, launch_plan="nightly", project="q")
    add(db, "direct", 5.0)
    nightly, hourly = ("p", "d", "nightly"), ("p", "d", "hourly")
    with db.read() as tx:
        found = ex.recent_by_launch_plan(
            tx, plans=[nightly, hourly, ("q", "d", "nightly")], scan=4, per_plan=3
        )
        none = ex.recent_by_launch_plan(tx, plans=[], scan=4, per_plan=3)
        other = ex.recent_by_launch_plan(tx, plans=[("p", "d", "weekly")], scan=100, per_plan=3)
        everything = ex.recent_by_launch_plan(tx, plans=[nightly], scan=100, per_plan=3)
        one_each = ex.recent_by_launch_plan(tx, plans=[nightly], scan=100, per_plan=1)
    # the 4 newest are direct, n2, h1, n1: "old" is beyond the scan
    assert [(r.id, r.launch_plan, r.project) for r in found] == [
        ("n2", "nightly", "q"),
        ("h1", "hourly", "p"),
        ("n1", "nightly", "p"),
    ]
    assert found[2] == ex.PlanRunRow("n1", "nightly", "p", "d", "succeeded", 2.0)
    assert none == [] and other == []
    assert [r.id for r in everything] == ["n1", "old"]  # fewer executions than the scan
    assert [r.id for r in one_each] == ["n1"]
