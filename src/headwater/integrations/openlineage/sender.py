"""Deliver the outbox: the leader-only loop of ``headwater up`` that sends RunEvents.

It reads the oldest recorded run changes, builds each event from the stored execution
(:mod:`.events`) and hands it to the client's transport; a row is deleted once its event went
out, so the backlog survives a restart and nothing is lost when the endpoint is away. Events
go strictly in the order they were recorded (a run's START before its COMPLETE): when a send
fails, the sender waits (1 s, doubling up to a minute) and tries the same event again, and
logs a warning naming the endpoint and the backlog. Runs never wait for any of this.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from headwater.integrations.openlineage import config
from headwater.integrations.openlineage.events import Builder, table_columns
from headwater.storage import executions as execution_rows
from headwater.storage import openlineage_outbox as outbox
from headwater.storage.faults import PASSING

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.openlineage")

BATCH = 100  # rows read per round
POLL = 0.5  # seconds between looks at an empty outbox
FIRST_DELAY, MAX_DELAY = 1.0, 60.0  # backoff after a failed send, seconds
WARN_EVERY = 60.0  # seconds between repeated warnings while the endpoint stays away


class Sender:
    """Sends the outbox of ``inst`` with ``client`` (by default, the configured one)."""

    def __init__(self, inst: Instance, client: Any = None) -> None:
        self.inst = inst
        self.client = client if client is not None else config.make_client(inst.settings)
        self.target = config.describe(inst.settings)
        self.delay = FIRST_DELAY
        self.failing_since: float | None = None
        self._warned_at = 0.0
        self._schema_of = table_columns(inst.blobs)

    def run(self, stop: threading.Event) -> None:
        """Send until ``stop``; a failure waits and retries, it never ends the loop."""
        log.info("openlineage: sending run events to %s", self.target)
        while not stop.is_set():
            try:
                sent, failed = self.send_once()
            except PASSING as exc:  # the database is away: later
                log.warning("openlineage: cannot read the outbox: %s", exc)
                stop.wait(self.delay)
                continue
            if failed:
                stop.wait(self.delay)
                self.delay = min(self.delay * 2, MAX_DELAY)
            elif not sent:
                stop.wait(POLL)

    def send_once(self) -> tuple[int, bool]:
        """Send what is waiting, oldest first, until a send fails: (events sent, failed)."""
        with self.inst.db.read() as tx:
            rows = outbox.pending(tx, BATCH)
        sent = 0
        for row in rows:
            done: list[int] = []
            try:
                with self.inst.db.read() as tx:
                    execution = execution_rows.get_execution(tx, row.execution_id)
                    event = (
                        None
                        if execution is None
                        else Builder(tx, self._schema_of).event(
                            execution, row.event_type, row.event_time
                        )
                    )
            except PASSING:
                raise
            except Exception as exc:  # cannot be built (bad stored data): never will be
                log.warning(
                    "openlineage: dropping the %s event of execution %s: %s",
                    row.event_type,
                    row.execution_id,
                    exc,
                )
                event = None
            if event is None:
                done.append(row.id)
            else:
                try:
                    self.client.emit(event)
                except Exception as exc:
                    self._failed(exc)
                    return sent, True
                done.append(row.id)
                sent += 1
            with self.inst.db.transaction() as tx:
                outbox.delete(tx, done)
        if rows:
            self._recovered()
        return sent, False

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            with self.inst.db.read() as tx:
                waiting = outbox.backlog(tx).count
            log.warning(
                "openlineage: cannot send to %s (%s: %s); %d event(s) waiting in the outbox, "
                "retrying in %.0f s (runs are not affected)",
                self.target,
                type(exc).__name__,
                exc,
                waiting,
                self.delay,
            )

    def _recovered(self) -> None:
        if self.failing_since is not None:
            log.info(
                "openlineage: %s reachable again after %.0f s; sending the backlog",
                self.target,
                time.monotonic() - self.failing_since,
            )
        self.failing_since = None
        self._warned_at = 0.0
        self.delay = FIRST_DELAY


def run_leader(sender: Sender, stop: threading.Event) -> None:
    """The ``up`` component: send while this process leads the ``openlineage`` role."""
    from headwater.engine.leader import lead

    lead(sender.inst, "openlineage", stop, sender.run)
