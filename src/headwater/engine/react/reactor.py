"""The reactor: decides every event against the triggers listening to it, exactly once.

One batch is one transaction: it takes the oldest events from the inbox, records a decision
for each (event, listening trigger) pair — fired, or not fired and why — queues the executions
it fires, records each firing under a unique key (launch plan version, trigger, the event's
seq or the joined seqs of an AllOf group), and deletes the batch from the inbox. The key is
the seq, not the event id: an id names one event only together with its source. A crash anywhere rolls all of it
back, so the batch is decided again from scratch; running two reactors is safe (they take
turns on a lock) and can never fire twice.

A batch's rows are written with one statement per table at its end (``_Batch.flush``): the
per-row round trips, not the deciding, were most of the cost of a burst.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine.event_names import ARTIFACT_CREATED, EXECUTION_STARTED, SOURCE
from headwater.engine.outage import Outage
from headwater.engine.react.matching import (
    Index,
    Listener,
    correlation,
    custom_key,
    event_key,
    index_stamp,
    load_index,
)
from headwater.engine.react.trigger_inputs import Binder, NotBindable
from headwater.storage import artifact_versions as version_rows
from headwater.storage import executions as execution_rows
from headwater.storage import firings as firing_rows
from headwater.storage import (
    notify,
    openlineage_outbox,
    reactor_inbox,
    trigger_state,
    wal,
    worker_slots,
)
from headwater.storage import trigger_decisions as decision_rows
from headwater.storage.db import Tx
from headwater.storage.events import (
    EventRow,
    events_between,
    events_by_seq,
    pending_events,
    pending_events_later,
)
from headwater.storage.execution_links import insert_links
from headwater.storage.faults import PASSING
from headwater.storage.lineage_edges import CONSUMED, insert_edges

if TYPE_CHECKING:
    from headwater.instance import Instance

# Ends the reason of a decision to fire made by a replay (metrics leave those out of latency).
REPLAYED = " (replay)"

OUTAGE_WAIT = 0.5  # seconds between attempts while the database is unavailable
# SQLite under load: seconds to let events gather before the next batch, when the last batch
# had more than one and they have been arriving at GATHER_RATE events/s or more (measured over
# at least RATE_WINDOW seconds). Each batch is a write transaction, whose lock the writers of
# events (HTTP requests) then find busy; at ~1,600 events/s a 1 ms wait made batches of 1-3.
# At ~2,000 events/s a 2 ms wait made batches of ~5 and 5 ms of ~15: a batch has a fixed cost,
# so the reactor's CPU per event halved (~70 -> ~35 us), CPU that the HTTP server on the same
# cores gets back. A lower rate, e.g. a firing's few events (version, execution started, succeeded), keeps the
# 1 ms wait: a longer one would add to the trigger latency.
GATHER = 0.005
GATHER_RATE = 1_000
RATE_WINDOW = 0.05
# SQLite: the log size (pages) at which the reactor's own commits checkpoint it. Under a stream
# of events every commit past SQLite's default (1,000) tries one, with two fsyncs, and the
# reactor commits a batch every few milliseconds: that took a third of its CPU. The writers of
# the events checkpoint the log (the API every 200 commits, ``api/checkpoints.py``; other
# connections at 1,000 pages); this is the reactor's backstop.
CHECKPOINT_PAGES = 10_000


@dataclass(slots=True)
class Decision:
    event_seq: int
    event_id: str
    listener: Listener
    outcome: str  # fired | not_fired | waiting | skipped
    reason: str
    execution_id: str | None = None


# A decision as the batch holds it until ``flush``: the row of ``trigger_decisions`` but its
# time, (event seq, event id, launch plan id, trigger path, outcome, reason, execution id).
# A tuple, not a ``Decision``: a burst makes ~10 per event.
_Row = tuple[int, str, int, str, str, str, str | None]

# A batch firing at most this many executions hands them to idle workers (_to_hand_over).
HAND_OVER_MAX = 4
# The most execution ids whose random parts one system call draws (``_Batch.new_id``).
_ID_POOL = 256


@dataclass(slots=True)
class _Firing:
    at: int  # index of its decision in _Batch.decisions
    firing: dict[str, Any]
    execution: dict[str, Any]
    runs: list[str]
    consumed: list[tuple[str, int]]


@dataclass
class _Batch:
    """Everything one reactor transaction decides, written by ``flush`` at its end."""

    decisions: list[_Row] = field(default_factory=list)
    firings: list[_Firing] = field(default_factory=list)
    queued: Counter[int] = field(default_factory=Counter)  # executions queued, by launch plan
    replay: bool = False
    # PostgreSQL, pipelined: the firings go with the COMMIT unread; a taken key fails the
    # transaction (``firing_rows.key_taken``) and the batch is decided again, not strict.
    strict: bool = False
    _random: list[str] = field(default_factory=list)  # random parts of ids, hex, used from the end
    _drawn: int = 0  # how many random parts were drawn last time

    def new_id(self, now: float) -> str:
        """An execution id as ``runner.new_execution_id`` makes it (milliseconds in hex,
        then 4 random bytes in hex). The random bytes are drawn for several ids at once,
        1, 2, 4, ... up to ``_ID_POOL``: one system call per id costs a burst ~1.5 us each."""
        if not self._random:
            self._drawn = min(_ID_POOL, 2 * self._drawn or 1)
            pool = os.urandom(4 * self._drawn).hex()
            self._random = [pool[i : i + 8] for i in range(0, len(pool), 8)]
        return f"{int(now * 1000):011x}{self._random.pop()}"

    def flush(self, tx: Tx) -> None:
        fired = self._insert_firings(tx)
        handed = _to_hand_over(tx, fired)
        execution_rows.insert_executions(
            tx, [f.execution for f in fired], notify=len(handed) < len(fired)
        )
        now = time.time()  # of the decisions, and of the claims of those handed over
        for ex in handed:  # their NOTIFYs go with the COMMIT, to the process or to the queue
            worker_slots.hand_over(
                tx,
                ex["id"],
                queue=ex["queue"],
                now=now,
                event={"id": uuid.uuid4().hex, "name": EXECUTION_STARTED, "source": SOURCE},
            )
        for f in fired:
            if f.runs:
                insert_links(tx, f.execution["id"], f.runs, "triggered")
        insert_edges(
            tx,
            [
                {
                    "execution_id": f.execution["id"],
                    "version_id": vid,
                    "direction": CONSUMED,
                    "name": name,
                    "node_id": None,
                }
                for f in fired
                for name, vid in f.consumed
            ],
        )
        decision_rows.insert_decision_values(tx, [(*d, now) for d in self.decisions])

    def _insert_firings(self, tx: Tx) -> list[_Firing]:
        """Insert the firings; those already recorded (a replay, an earlier decision of the
        same event) become "not fired" and queue nothing: the unique key is the exactly-once."""
        if not self.firings:
            return []
        if self.strict and tx.pipelined:
            firing_rows.insert_firings(tx, [f.firing for f in self.firings], strict=True)
            return self.firings
        added = firing_rows.insert_firings(tx, [f.firing for f in self.firings])
        if added == len(self.firings):
            return self.firings
        kept = []
        for f in self.firings:
            stored = firing_rows.fired_execution(
                tx, f.firing["lp"], f.firing["path"], f.firing["key"]
            )
            if stored == f.firing["e"]:
                kept.append(f)
            else:
                seq, eid, lp, path = self.decisions[f.at][:4]
                self.decisions[f.at] = (
                    seq,
                    eid,
                    lp,
                    path,
                    "not_fired",
                    "already fired for this event (exactly once)",
                    None,
                )
        return kept


def _to_hand_over(tx: Tx, fired: list[_Firing]) -> list[dict[str, Any]]:
    """The new executions to hand straight to an idle worker process (``storage/
    worker_slots.py``): PostgreSQL with push, the pipelined batch of a quiet moment (a few
    firings; under a burst the workers poll anyway), plans without a concurrency limit (a
    claim checks that), and no OpenLineage outbox (whose run events a claim writes)."""
    if not fired or len(fired) > HAND_OVER_MAX or not tx.pipelined or not notify.push_enabled():
        return []
    if openlineage_outbox.enabled():
        return []
    return [
        f.execution
        for f in fired
        if f.execution.get("concurrency_limit") is None and f.execution.get("status") == "queued"
    ]


class Reactor:
    """Turns events into decisions and queued executions. ``run_once`` decides one batch."""

    def __init__(self, inst: Instance, batch: int = 500) -> None:
        self.inst = inst
        self.batch = batch
        self._stamp: Any = object()
        self._index: Index | None = None
        # Workflow interfaces by version, kept while the launch plans stay as they are.
        self._interfaces: dict[tuple[str, ...], dict[str, Any]] = {}

    # -- the loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event, idle_sleep: float = 0.005) -> None:
        """Decide batches until ``stop`` is set; polls fast right after work, slower when idle."""
        sleep = 0.001
        outage = Outage("reactor")
        # PostgreSQL: woken by the NOTIFY committed with each event; polls only as a fallback.
        db = self.inst.db
        listener = (
            notify.Listener(db, notify.EVENTS, name="reactor")
            if notify.Listener.wanted(db)
            else None
        )
        gather = GATHER if db.dialect == "sqlite" else 0.001
        if db.dialect == "sqlite":
            with suppress(Exception):  # a cost only; a database fault is met by the loop below
                wal.autocheckpoint(db.connection(), CHECKPOINT_PAGES)
        loaded, counted, since = False, 0, time.monotonic()
        look = True
        try:
            while not stop.is_set():
                try:
                    decided = self.run_once(look=look)
                except PASSING as exc:
                    # The batch was rolled back (or, if COMMIT was cut off, maybe committed:
                    # its inbox rows are gone then); either way deciding again is right.
                    outage.failed(exc)
                    stop.wait(OUTAGE_WAIT)
                    continue
                outage.ok()
                look = True
                if decided >= self.batch:
                    look = False  # a backlog: the next batch is waiting
                    continue
                if decided:
                    # Events trickle in (e.g. one per HTTP request): let a few gather rather
                    # than take the write lock once per event, which stalls their writers.
                    counted += decided
                    now = time.monotonic()
                    if now - since >= RATE_WINDOW:
                        loaded = counted >= GATHER_RATE * (now - since)
                        counted, since = 0, now
                    sleep = 0.001
                    stop.wait(gather if loaded and decided > 1 else sleep)
                    if listener is None:
                        continue
                    # Listening, the socket says whether events came meanwhile: a NOTIFY of
                    # each one committed since the last wake-up waits there. No probe.
                    if listener.drain():
                        look = False
                        continue
                if listener is not None:
                    # Woken by a NOTIFY an event was committed: no need to look first.
                    look = not listener.wait(notify.FALLBACK_POLL, stop)
                else:
                    stop.wait(sleep)
                    sleep = min(idle_sleep, sleep * 2)
        finally:
            if listener is not None:
                listener.close()

    def run_once(self, look: bool = True) -> int:
        """Decide the oldest batch of undecided events; returns how many were decided.

        ``look``: first check, without the write lock, whether any event waits (what an idle
        poll wants); False when events are known to wait (woken by a NOTIFY, or a backlog),
        saving that round trip."""
        # A batch allocates several objects per decision and frees them at its end without
        # cycles. Left on, the cyclic collector runs many times per batch and walks every
        # object the process holds, the launch-plan index included, so the cost per event grew
        # with launch plans that do not listen to it; paused, a batch is also ~25% faster.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run_batch(look)
        finally:
            if paused:
                gc.enable()

    def _run_batch(self, look: bool) -> int:
        # Look before taking the write lock: an idle reactor polls every few milliseconds,
        # and a write transaction per poll would make every other writer wait for it.
        if look:
            with self.inst.db.read() as tx:
                if not reactor_inbox.any_pending(tx):
                    return 0
        try:
            return self._decide_pending(strict=True)
        except Exception as exc:
            if not firing_rows.key_taken(exc):
                raise
        # A firing key was taken already (rolled back): again, learning which ones.
        return self._decide_pending(strict=False)

    def _decide_pending(self, strict: bool) -> int:
        # Pipelined (PostgreSQL): BEGIN, the lock and the index stamp go with the read of
        # the events, the writes with the COMMIT; the client waits only for what it reads.
        with self.inst.db.transaction(pipeline=True) as tx:
            reactor_inbox.lock_for_deciding(tx)
            # The versions new-version events name, for their triggers' inputs: one read
            # (on PostgreSQL in the events' round trip), not one per version while deciding.
            want = self._index is None or ARTIFACT_CREATED in self._index.engine_events
            read_versions = None
            if tx.pipelined:
                read_events = pending_events_later(tx, self.batch)
                if want:
                    read_versions = version_rows.pending_versions_later(
                        tx, self.batch, ARTIFACT_CREATED
                    )
                index = self._current_index(tx)  # its read goes out with the events'
                events = read_events()
            else:
                events = pending_events(tx, self.batch)
                if not events:
                    return 0
                index = self._current_index(tx)
                if ARTIFACT_CREATED in index.engine_events and any(
                    row.name == ARTIFACT_CREATED for row in events
                ):
                    read_versions = version_rows.pending_versions_later(
                        tx, self.batch, ARTIFACT_CREATED
                    )
            if not events:
                return 0
            binder = Binder(self.inst, self._interfaces)
            if read_versions is not None:
                binder.versions = read_versions()
            batch = _Batch(strict=strict)
            for row in events:
                self._decide(tx, index, binder, row, batch)
            if batch.decisions:  # else nothing to write (events no trigger listens to)
                batch.flush(tx)
            reactor_inbox.delete(tx, [r.seq for r in events])
        return len(events)

    def replay(
        self,
        launch_plan: str,
        since: float,
        until: float | None = None,
        project: str | None = None,
        domain: str | None = None,
        *,
        event_seq: int | None = None,
    ) -> list[Decision]:
        """Deliver past events (``since`` <= time < ``until``) again to one active launch plan
        (only the event ``event_seq`` of them when given: the web UI's replay of one event).

        A backfill for event-driven consumers: what it already fired for stays fired once
        (recorded as "already fired"); everything is decided and recorded as usual.
        """
        project, domain = project or self.inst.project, domain or self.inst.domain
        with self.inst.db.transaction() as tx:
            reactor_inbox.lock_for_deciding(tx)
            index = load_index(tx).only(launch_plan, project, domain)
            if not index.by_key:
                from headwater.errors import NotFoundError

                raise NotFoundError(
                    f"no active launch plan {launch_plan!r} with triggers in "
                    f"{project}/{domain}; activate it first"
                )
            events = events_between(
                tx, since, until, except_name="headwater.schedule.tick", seq=event_seq
            )
            binder = Binder(self.inst)
            batch = _Batch(replay=True)
            for row in events:
                self._decide(tx, index, binder, row, batch)
            batch.flush(tx)
        listeners = {(x.lp_id, x.path): x for xs in index.by_key.values() for x in xs}
        return [
            Decision(seq, eid, listeners[(lp, path)], outcome, reason, execution_id)
            for seq, eid, lp, path, outcome, reason, execution_id in batch.decisions
        ]

    def _current_index(self, tx: Tx) -> Index:
        stamp = index_stamp(tx)
        if stamp != self._stamp or self._index is None:
            self._stamp, self._index = stamp, load_index(tx)
            self._interfaces = {}
        return self._index

    # -- deciding one event --------------------------------------------------------------------
    def _decide(self, tx: Tx, index: Index, binder: Binder, row: EventRow, batch: _Batch) -> None:
        key = custom_key(row.name, row.project, row.domain)
        if key is None:
            payload = json.loads(row.payload)
            key = event_key(row.name, row.project, row.domain, payload)
        elif key in index.by_key:
            payload = json.loads(row.payload)
        else:
            return  # no trigger listens to it: nothing to decide, its payload left unread
        seq, event_id, name = row.seq, row.id, row.name
        out = batch.decisions
        for listener, why_not in index.verdicts(key, name, payload):
            if why_not is not None:
                out.append(
                    (seq, event_id, listener.lp_id, listener.path, "not_fired", why_not, None)
                )
                continue
            if listener.all_of is not None:
                group = self._join(tx, listener, row, payload)
                if isinstance(group, tuple):  # not all parts yet: (outcome, reason)
                    outcome, reason, execution_id = *group, None
                else:
                    firing_key = "+".join(str(s) for s in sorted(r.seq for r, _ in group))
                    outcome, reason, execution_id = self._fire(
                        tx, binder, listener, group, firing_key, batch
                    )
            else:
                outcome, reason, execution_id = self._fire(
                    tx, binder, listener, [(row, payload)], str(seq), batch
                )
            out.append(
                (seq, event_id, listener.lp_id, listener.path, outcome, reason, execution_id)
            )

    def _join(
        self,
        tx: Tx,
        listener: Listener,
        row: EventRow,
        payload: dict[str, Any],
    ) -> list[tuple[EventRow, dict[str, Any]]] | tuple[str, str]:
        """Record this part of an AllOf; the events of every part once all have occurred,
        else the decision's (outcome, reason)."""
        spec = listener.all_of or {}
        corr = correlation(listener, payload)
        if corr is None:
            return "not_fired", f"the event has no {spec.get('key')!r} to correlate the AllOf on"
        assert listener.part is not None  # set on every part of an AllOf
        slot: dict[str, Any] = {
            "launch_plan_id": listener.lp_id,
            "trigger_path": listener.join_path,
            "correlation": corr,
        }
        trigger_state.add_part(
            tx,
            **slot,
            part=listener.part,
            event_id=row.id,
            event_seq=row.seq,
            event_time=row.time,
        )
        if spec.get("within"):
            trigger_state.drop_older(tx, **slot, oldest=row.time - spec["within"])
        latest = dict(trigger_state.seen_parts(tx, **slot))
        parts = len(spec["parts"])
        if len(latest) < parts:
            waiting = [str(i) for i in range(parts) if i not in latest]
            where = f" for {spec['key']}={corr!r}" if spec.get("key") else ""
            return "waiting", (
                f"waiting for the rest of the AllOf{where}: part(s) "
                f"{', '.join(waiting)} not seen yet"
            )
        seqs = [latest[i] for i in range(parts)]
        rows = events_by_seq(tx, seqs)
        trigger_state.drop_through(tx, **slot, last_seq=max(seqs))
        return [(rows[s], json.loads(rows[s].payload)) for s in seqs]

    def _fire(
        self,
        tx: Tx,
        binder: Binder,
        listener: Listener,
        events: list[tuple[EventRow, dict[str, Any]]],
        firing_key: str,
        batch: _Batch,
    ) -> tuple[str, str, str | None]:
        """Queue the execution the listener fires for ``events`` unless its concurrency or
        its inputs stop it; the decision's (outcome, reason, execution id). Its decision is
        the next one the batch records."""
        concurrency = listener.spec.get("concurrency")
        if concurrency and concurrency["behavior"] == "skip":
            busy = batch.queued[listener.lp_id] + execution_rows.count_busy(tx, listener.lp_id)
            if busy >= concurrency["max_concurrency"]:
                return (
                    "skipped",
                    f"concurrency limit {concurrency['max_concurrency']} reached "
                    f"({busy} queued or running); behavior is skip",
                    None,
                )
        try:
            fired = binder.bind(tx, listener, events)
        except NotBindable as exc:
            return "not_fired", str(exc), None
        now = time.time()
        execution_id = batch.new_id(now)
        batch.queued[listener.lp_id] += 1
        batch.firings.append(
            _Firing(
                len(batch.decisions),
                {
                    "lp": listener.lp_id,
                    "path": listener.path,
                    "key": firing_key,
                    "e": execution_id,
                    "t": now,
                },
                {
                    "id": execution_id,
                    **listener.execution_fields,
                    "inputs": fired.literals,
                    "resolved": fired.resolved,
                    "trigger": fired.trigger_info(listener),
                    "created_at": now,
                    "event_seq": events[0][0].seq
                    if len(events) == 1
                    else max(r.seq for r, _ in events),
                },
                fired.runs,
                fired.consumed,
            )
        )
        reason = f"queued execution {execution_id}" + (REPLAYED if batch.replay else "")
        return "fired", reason, execution_id
