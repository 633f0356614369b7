"""The scheduler: cron and fixed-rate schedules of active launch plans become events.

It never starts executions itself. Each due tick is one ``headwater.schedule.tick`` event,
inserted in the same transaction that advances the plan's ``schedule_state`` row (the outbox),
and the reactor starts the execution from that event exactly once. The event id is
``schedule:<launch_plan_id>:<scheduled time, ISO UTC>``; the event log dedupes on it, and the
state row only advances from the value this scheduler read (compare-and-set), so two
schedulers, or a crash at any point, never produce two events for one tick.

Rules:

* First sight of an active schedule (or of one re-activated later): no firing for the past.
  A cron schedule's first tick is its first fire time after now; a ``FixedRate`` one fires
  first at now (whole seconds) + duration and then every duration on that grid.
* Missed ticks (nothing ran, e.g. the machine was off for a day) are not backfilled: only the
  most recent missed tick fires, once, and the schedule continues from now. Flyte and Dagster
  behave alike by default. To backfill, launch the missed runs by hand.
* A plan that is no longer active is ignored; its row is parked (``next_fire_at = -1``, the
  last fire time is kept) and re-initialised as at first sight when it is active again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.engine.kinds import schedule_kind
from headwater.engine.outage import Outage
from headwater.errors import HeadwaterError
from headwater.storage import launch_plan_state, schedule_state
from headwater.storage.events import insert_event
from headwater.storage.faults import PASSING
from headwater.storage.launch_plans import LaunchPlanRow, active_launch_plans

if TYPE_CHECKING:
    from headwater.instance import Instance

EVENT_NAME = event_names.SCHEDULE_TICK
SOURCE = "headwater://scheduler"
PARKED = -1.0

log = logging.getLogger(__name__)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _first(spec: dict[str, Any], now: datetime) -> datetime:
    return schedule_kind(spec).first(spec, now)


def _latest(spec: dict[str, Any], due: datetime, now: datetime) -> tuple[datetime, datetime]:
    return schedule_kind(spec).latest(spec, due, now)


def _fire(
    inst: Instance, plan: LaunchPlanRow, spec: dict[str, Any], due_ts: float, now: datetime
) -> int:
    latest, following = _latest(spec, _utc(due_ts), now)
    scheduled = latest.isoformat()
    with inst.db.transaction() as tx:
        if not launch_plan_state.is_active(tx, plan.id):
            return 0
        advanced = schedule_state.advance(
            tx, plan.id, due=due_ts, next_fire_at=following.timestamp(), fired=latest.timestamp()
        )
        if not advanced:  # another scheduler advanced it first
            return 0
        seq = insert_event(
            tx,
            id=f"schedule:{plan.id}:{scheduled}",
            name=EVENT_NAME,
            source=SOURCE,
            project=plan.project,
            domain=plan.domain,
            subject=plan.name,
            time=now.timestamp(),
            payload={
                "launch_plan": plan.name,
                "launch_plan_id": plan.id,
                "launch_plan_version": plan.version,
                "scheduled_time": scheduled,
                "kickoff_time_input_arg": spec.get("kickoff_time_input_arg"),
            },
        )
    return 0 if seq is None else 1


def tick(inst: Instance, now: datetime | None = None) -> int:
    """Emit the events of every due schedule tick; returns how many were emitted."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"tick(now=...) needs a timezone-aware datetime, got {now!r}")
    now = now.astimezone(UTC)
    with inst.db.read() as tx:
        plans = active_launch_plans(tx)
        states = schedule_state.next_fire_times(tx)
    scheduled: dict[int, tuple[LaunchPlanRow, dict[str, Any]]] = {}
    for plan in plans:
        spec = json.loads(plan.spec).get("schedule")
        if spec:
            scheduled[int(plan.id)] = (plan, spec)
    stale = [i for i, nxt in states.items() if i not in scheduled and nxt != PARKED]
    if stale:
        with inst.db.transaction() as tx:
            for lp_id in stale:
                if not launch_plan_state.is_active(tx, lp_id):
                    schedule_state.park(tx, lp_id, PARKED)
    emitted = 0
    for lp_id, (plan, spec) in scheduled.items():
        due = states.get(lp_id)
        try:
            if due is None or due == PARKED:
                first = _first(spec, now).timestamp()
                with inst.db.transaction() as tx:
                    schedule_state.start(tx, lp_id, first, PARKED)
            elif due <= now.timestamp():
                emitted += _fire(inst, plan, spec, due, now)
        except (HeadwaterError, LookupError, TypeError, ValueError, ArithmeticError) as exc:
            log.warning("schedule of launch plan %s (id %s) skipped: %s", plan.name, lp_id, exc)
    return emitted


def next_wakeup(inst: Instance) -> float | None:
    """Seconds until the earliest next tick of an active schedule (None: nothing scheduled)."""
    with inst.db.read() as tx:
        earliest = schedule_state.earliest_active(tx)
    return None if earliest is None else max(0.0, earliest - time.time())


def run(inst: Instance, stop: threading.Event, max_sleep: float = 1.0) -> None:
    """Tick until ``stop`` is set, sleeping until the next tick (at most ``max_sleep``)."""
    outage = Outage("scheduler")
    while not stop.is_set():
        try:
            tick(inst)
            wait = next_wakeup(inst)
        except PASSING as exc:  # e.g. PostgreSQL restarting: tick again shortly
            outage.failed(exc)
            wait = None
        except Exception:  # keep scheduling through any other error too
            log.exception("scheduler tick failed")
            wait = None
        else:
            outage.ok()
        stop.wait(max_sleep if wait is None else min(max_sleep, max(wait, 0.01)))
