"""Prometheus metrics for ``/metrics``.

Counts that live in the database (decisions, firings, executions, queue depth, live workers,
firing latency) are read on each scrape by ``EngineCollector``, so every process — this server,
other servers, the reactor elsewhere — is counted and nothing drifts. Only what the database
does not record (how events arrived) is counted in-process.

Decisions and firings only ever grow (rows are never updated or deleted), and the reactor
writes them one batch at a time under a lock, so their ids become visible in order. A scrape
therefore adds up only the rows after the last id it has seen: its cost follows what happened
since the previous scrape, not the size of the tables (a full count over a million decisions
took ~0.3 s per scrape).

Firing latency is labelled by launch plan name. To bound the number of series, the first
``MAX_LAUNCH_PLAN_LABELS`` launch plans a collector sees firing (by name within a scrape) keep
their own label for its lifetime and any later one is counted under ``"other"``: a name never
moves between labels, so every series only grows, as a histogram must. Decisions made by a
replay are left out: their events are old, and their latency says nothing about the reactor.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from headwater.engine.react.reactor import REPLAYED
from headwater.storage import executions as execution_rows
from headwater.storage import firings as firing_rows
from headwater.storage import openlineage_outbox, reactor_inbox
from headwater.storage import trigger_decisions as decision_rows
from headwater.storage.db import Tx
from headwater.storage.trigger_decisions import LatencyRow

if TYPE_CHECKING:
    from headwater.instance import Instance

EVENTS_RECEIVED = Counter(
    "headwater_events_received",
    "Events accepted over HTTP (duplicates included), by transport: structured, binary, "
    "batch (CloudEvents), plain, plain-batch.",
    ["transport"],
    registry=None,
)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
STATUSES = ("queued", "running", "succeeded", "failed", "skipped", "cancelled")
MAX_LAUNCH_PLAN_LABELS = 50  # x 15 series each (13 buckets, sum, count)
OTHER = "other"


class _Latency:
    """One launch plan's firing latency histogram, added up scrape by scrape."""

    def __init__(self) -> None:
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def add(self, row: LatencyRow) -> None:
        self.count += row.n
        self.total += row.total
        for i, n in enumerate(row.buckets):
            self.buckets[i] += n

    def samples(self) -> list[tuple[str, float]]:
        out = [(repr(b), float(n)) for b, n in zip(LATENCY_BUCKETS, self.buckets, strict=True)]
        return [*out, ("+Inf", float(self.count))]


class EngineCollector(Collector):
    """Metrics computed from the metadata database on scrape."""

    def __init__(
        self,
        inst: Instance,
        worker_processes: Callable[[], int] | None = None,
        max_launch_plans: int = MAX_LAUNCH_PLAN_LABELS,
    ) -> None:
        self.inst = inst
        self.worker_processes = worker_processes
        self.max_launch_plans = max_launch_plans
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._decided_to = 0  # decisions and firings counted up to these ids
        self._fired_to = 0
        self._outcomes: Tally[str] = Tally()
        self._firings = 0
        self._latency: dict[str, _Latency] = {}  # by launch_plan label

    def describe(self) -> list[Metric]:
        return []  # no database query at registration

    def _catch_up(self, tx: Tx) -> None:
        """Add the decisions and firings recorded since the previous scrape."""
        top = decision_rows.max_id(tx)
        if top < self._decided_to:  # a different (recreated) database: count afresh
            self._reset()
        lo = self._decided_to
        for outcome, n in decision_rows.outcome_counts(tx, lo, top):
            self._outcomes[outcome] += n
        for row in decision_rows.fired_latency(
            tx, lo, top, buckets=LATENCY_BUCKETS, except_reason_suffix=REPLAYED
        ):
            self._latency_for(row.name).add(row)
        self._decided_to = top
        top = firing_rows.max_id(tx)
        self._firings += firing_rows.count_between(tx, self._fired_to, top)
        self._fired_to = max(top, self._fired_to)

    def _latency_for(self, name: str) -> _Latency:
        if name not in self._latency:
            labelled = len(self._latency) - (OTHER in self._latency)
            if labelled >= self.max_launch_plans:
                name = OTHER
        return self._latency.setdefault(name, _Latency())

    def collect(self) -> Iterator[Metric]:
        with self._lock, self.inst.db.read() as tx:
            self._catch_up(tx)
            outcomes, firings = dict(self._outcomes), self._firings
            latency = {k: (v.samples(), v.total) for k, v in sorted(self._latency.items())}
            statuses = execution_rows.count_by_status(tx)
            backlog = reactor_inbox.backlog(tx)
            live = execution_rows.count_live_workers(tx, time.time())
            lineage = openlineage_outbox.backlog(tx)
        m = CounterMetricFamily(
            "headwater_trigger_decisions",
            "Reactor decisions about events, by outcome (fired, not_fired, ...).",
            labels=["outcome"],
        )
        for outcome, n in sorted(outcomes.items()):
            m.add_metric([outcome], n)
        yield m
        yield CounterMetricFamily(
            "headwater_firings", "Launch plan firings (each queued an execution).", firings
        )
        by_status = {s: 0 for s in STATUSES} | statuses
        g = GaugeMetricFamily("headwater_executions", "Executions by status.", labels=["status"])
        for status, n in sorted(by_status.items()):
            g.add_metric([status], n)
        yield g
        yield GaugeMetricFamily(
            "headwater_queue_depth", "Executions queued for a worker.", by_status["queued"]
        )
        yield GaugeMetricFamily(
            "headwater_reactor_backlog", "Events waiting for the reactor's decision.", backlog
        )
        yield GaugeMetricFamily(
            "headwater_workers_live", "Workers holding a live lease on an execution.", live
        )
        yield GaugeMetricFamily(
            "headwater_openlineage_backlog",
            "OpenLineage run events recorded and not yet delivered.",
            lineage.count,
        )
        yield GaugeMetricFamily(
            "headwater_openlineage_lag_seconds",
            "Age of the oldest undelivered OpenLineage run event (0: none waiting).",
            0.0 if lineage.oldest is None else max(0.0, time.time() - lineage.oldest),
        )
        if self.worker_processes is not None:
            yield GaugeMetricFamily(
                "headwater_worker_processes",
                "Worker processes alive under this `headwater up`.",
                self.worker_processes(),
            )
        h = HistogramMetricFamily(
            "headwater_firing_latency_seconds",
            "From an event's time to the reactor's decision to fire on it, by launch plan "
            f"(the first {self.max_launch_plans} seen; later ones as {OTHER!r}); replays "
            "are not counted.",
            labels=["launch_plan"],
        )
        for name, (samples, total) in latency.items():
            h.add_metric([name], samples, total)
        yield h


def registry_for(inst: Instance, worker_processes: Callable[[], int] | None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EVENTS_RECEIVED)
    registry.register(EngineCollector(inst, worker_processes))
    return registry
