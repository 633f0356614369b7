"""The reactor: decides every event against the triggers listening to it, exactly once.

One batch is one transaction: it takes the oldest events from the inbox, records a decision
for each (event, listening trigger) pair — fired, or not fired and why — queues the executions
it fires, records each firing under a unique key (launch plan version, trigger, event or
joined event group), and deletes the batch from the inbox. A crash anywhere rolls all of it
back, so the batch is decided again from scratch; running two reactors is safe (they take
turns on a lock) and can never fire twice.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.engine.matching import (
    Index,
    Listener,
    correlation,
    event_key,
    index_stamp,
    load_index,
    match,
)
from headwater.engine.runner import new_execution_id
from headwater.engine.trigger_inputs import Binder, Fired, NotBindable
from headwater.storage import executions as execution_rows
from headwater.storage.db import Tx, in_list
from headwater.storage.lineage import CONSUMED, insert_edges, insert_links

if TYPE_CHECKING:
    from headwater.instance import Instance

_PG_LOCK = 0x68770002  # one reactor batch at a time on PostgreSQL


@dataclass
class Decision:
    event_seq: int
    event_id: str
    listener: Listener
    outcome: str  # fired | not_fired | waiting | skipped
    reason: str
    execution_id: str | None = None


class Reactor:
    """Turns events into decisions and queued executions. ``run_once`` decides one batch."""

    def __init__(self, inst: Instance, batch: int = 500) -> None:
        self.inst = inst
        self.batch = batch
        self._stamp: Any = object()
        self._index: Index | None = None

    # -- the loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event, idle_sleep: float = 0.005) -> None:
        """Decide batches until ``stop`` is set; polls fast right after work, slower when idle."""
        sleep = 0.001
        while not stop.is_set():
            if self.run_once():
                sleep = 0.001
                continue
            stop.wait(sleep)
            sleep = min(idle_sleep, sleep * 2)

    def run_once(self) -> int:
        """Decide the oldest batch of undecided events; returns how many were decided."""
        with self.inst.db.transaction() as tx:
            if tx.dialect == "postgresql":
                tx.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
            events = tx.all(
                "SELECT e.* FROM reactor_inbox i JOIN events e ON e.seq = i.seq "
                "ORDER BY i.seq LIMIT :n",
                {"n": self.batch},
            )
            if not events:
                return 0
            index = self._current_index(tx)
            binder = Binder(self.inst)
            decisions: list[Decision] = []
            for row in events:
                decisions.extend(self._decide(tx, index, binder, row))
            self._record(tx, decisions)
            marks, params = in_list("s", [r["seq"] for r in events])
            tx.execute(f"DELETE FROM reactor_inbox WHERE seq IN {marks}", params)
        return len(events)

    def replay(
        self,
        launch_plan: str,
        since: float,
        until: float | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> list[Decision]:
        """Deliver past events (``since`` <= time < ``until``) again to one active launch plan.

        A backfill for event-driven consumers: what it already fired for stays fired once
        (recorded as "already fired"); everything is decided and recorded as usual.
        """
        project, domain = project or self.inst.project, domain or self.inst.domain
        with self.inst.db.transaction() as tx:
            if tx.dialect == "postgresql":
                tx.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
            index = load_index(tx).only(launch_plan, project, domain)
            if not index.by_key:
                from headwater.errors import NotFoundError

                raise NotFoundError(
                    f"no active launch plan {launch_plan!r} with triggers in "
                    f"{project}/{domain}; activate it first"
                )
            where = "time >= :since" + (" AND time < :until" if until is not None else "")
            events = tx.all(
                f"SELECT * FROM events WHERE {where} AND name <> :tick ORDER BY seq",
                {"since": since, "until": until, "tick": "headwater.schedule.tick"},
            )
            binder = Binder(self.inst)
            decisions: list[Decision] = []
            for row in events:
                decisions.extend(self._decide(tx, index, binder, row))
            self._record(tx, decisions)
        return decisions

    def _current_index(self, tx: Tx) -> Index:
        stamp = index_stamp(tx)
        if stamp != self._stamp or self._index is None:
            self._stamp, self._index = stamp, load_index(tx)
        return self._index

    # -- deciding one event --------------------------------------------------------------------
    def _decide(self, tx: Tx, index: Index, binder: Binder, row: Any) -> list[Decision]:
        payload = json.loads(row["payload"])
        key = event_key(row["name"], row["project"], row["domain"], payload)
        out = []
        for listener in index.listeners(key):

            def decide(
                outcome: str, reason: str, execution_id: str | None = None, lst: Listener = listener
            ) -> None:
                out.append(Decision(row["seq"], row["id"], lst, outcome, reason, execution_id))

            if not listener.active:
                decide(
                    "not_fired",
                    f"launch plan {listener.lp_name!r} is inactive (activate "
                    f"it: headwater launchplans activate {listener.lp_name})",
                )
                continue
            if key[0] == "schedule" and payload.get("launch_plan_version") not in (
                None,
                listener.lp_version,
            ):
                decide("not_fired", "the tick was scheduled for another launch plan version")
                continue
            why_not = match(listener, row["name"], payload)
            if why_not is not None:
                decide("not_fired", why_not)
                continue
            if listener.all_of is not None:
                group = self._join(tx, listener, row, payload, decide)
                if group is None:
                    continue
                self._fire(
                    tx, binder, listener, group, "+".join(sorted(r["id"] for r, _ in group)), decide
                )
            else:
                self._fire(tx, binder, listener, [(row, payload)], row["id"], decide)
        return out

    def _join(
        self, tx: Tx, listener: Listener, row: Any, payload: dict[str, Any], decide: Any
    ) -> list[tuple[Any, dict[str, Any]]] | None:
        """Record this part of an AllOf; the events of every part once all have occurred."""
        spec = listener.all_of or {}
        corr = correlation(listener, payload)
        if corr is None:
            decide("not_fired", f"the event has no {spec.get('key')!r} to correlate the AllOf on")
            return None
        path = listener.join_path
        params = {"lp": listener.lp_id, "path": path, "c": corr}
        tx.execute(
            "INSERT INTO trigger_state (launch_plan_id, trigger_path, correlation, part, "
            "event_id, event_seq, event_time) VALUES (:lp, :path, :c, :part, :eid, :seq, "
            ":t)",
            {
                **params,
                "part": listener.part,
                "eid": row["id"],
                "seq": row["seq"],
                "t": row["time"],
            },
        )
        if spec.get("within"):
            tx.execute(
                "DELETE FROM trigger_state WHERE launch_plan_id = :lp AND trigger_path = "
                ":path AND correlation = :c AND event_time < :oldest",
                {**params, "oldest": row["time"] - spec["within"]},
            )
        state = tx.all(
            "SELECT part, event_seq FROM trigger_state WHERE launch_plan_id = :lp "
            "AND trigger_path = :path AND correlation = :c ORDER BY event_seq",
            params,
        )
        latest = {s["part"]: s["event_seq"] for s in state}
        parts = len(spec["parts"])
        if len(latest) < parts:
            waiting = [str(i) for i in range(parts) if i not in latest]
            where = f" for {spec['key']}={corr!r}" if spec.get("key") else ""
            decide(
                "waiting",
                f"waiting for the rest of the AllOf{where}: part(s) "
                f"{', '.join(waiting)} not seen yet",
            )
            return None
        seqs = [latest[i] for i in range(parts)]
        marks, p2 = in_list("q", seqs)
        rows = {r["seq"]: r for r in tx.all(f"SELECT * FROM events WHERE seq IN {marks}", p2)}
        tx.execute(
            "DELETE FROM trigger_state WHERE launch_plan_id = :lp AND trigger_path = "
            ":path AND correlation = :c AND event_seq <= :last",
            {**params, "last": max(seqs)},
        )
        return [(rows[s], json.loads(rows[s]["payload"])) for s in seqs]

    def _fire(
        self,
        tx: Tx,
        binder: Binder,
        listener: Listener,
        events: list[tuple[Any, dict[str, Any]]],
        firing_key: str,
        decide: Any,
    ) -> None:
        concurrency = listener.spec.get("concurrency")
        if concurrency and concurrency["behavior"] == "skip":
            busy = tx.scalar(
                "SELECT COUNT(*) FROM executions WHERE launch_plan_id = :lp AND "
                "status IN ('queued', 'running')",
                {"lp": listener.lp_id},
            )
            if busy >= concurrency["max_concurrency"]:
                decide(
                    "skipped",
                    f"concurrency limit {concurrency['max_concurrency']} reached "
                    f"({busy} queued or running); behavior is skip",
                )
                return
        try:
            fired = binder.bind(tx, listener, events)
        except NotBindable as exc:
            decide("not_fired", str(exc))
            return
        now = time.time()
        execution_id = new_execution_id()
        firing = tx.scalar(
            "INSERT INTO firings (launch_plan_id, trigger_path, firing_key, execution_id, "
            "created_at) VALUES (:lp, :path, :key, :e, :t) ON CONFLICT DO NOTHING RETURNING id",
            {
                "lp": listener.lp_id,
                "path": listener.path,
                "key": firing_key,
                "e": execution_id,
                "t": now,
            },
        )
        if firing is None:
            decide("not_fired", "already fired for this event (exactly once)")
            return
        self._enqueue(tx, listener, fired, events, now, execution_id)
        decide("fired", f"queued execution {execution_id}", execution_id)

    def _enqueue(
        self,
        tx: Tx,
        listener: Listener,
        fired: Fired,
        events: list[tuple[Any, dict[str, Any]]],
        now: float,
        execution_id: str,
    ) -> str:
        concurrency = listener.spec.get("concurrency")
        execution_rows.insert_execution(
            tx,
            id=execution_id,
            project=listener.project,
            domain=listener.domain,
            workflow=listener.workflow,
            workflow_version=listener.workflow_version,
            launch_plan=listener.lp_name,
            launch_plan_id=listener.lp_id,
            status="queued",
            inputs=fired.literals,
            resolved=fired.resolved,
            trigger=fired.trigger_info(listener),
            created_at=now,
            max_attempts=listener.spec.get("max_attempts", 1),
            concurrency_limit=concurrency["max_concurrency"] if concurrency else None,
            event_seq=max(r["seq"] for r, _ in events),
        )
        insert_links(tx, execution_id, fired.runs, "triggered")
        insert_edges(
            tx,
            [
                {
                    "execution_id": execution_id,
                    "version_id": vid,
                    "direction": CONSUMED,
                    "name": name,
                    "node_id": None,
                }
                for name, vid in fired.consumed
            ],
        )
        return execution_id

    @staticmethod
    def _record(tx: Tx, decisions: list[Decision]) -> None:
        now = time.time()
        tx.many(
            "INSERT INTO trigger_decisions (event_seq, event_id, launch_plan_id, "
            "trigger_path, outcome, reason, execution_id, created_at) VALUES (:seq, :eid, "
            ":lp, :path, :outcome, :reason, :e, :t)",
            [
                {
                    "seq": d.event_seq,
                    "eid": d.event_id,
                    "lp": d.listener.lp_id,
                    "path": d.listener.path,
                    "outcome": d.outcome,
                    "reason": d.reason,
                    "e": d.execution_id,
                    "t": now,
                }
                for d in decisions
            ],
        )
