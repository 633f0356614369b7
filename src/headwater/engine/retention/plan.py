"""Planning a GC: what would be purged, what is kept and why, and the bytes it frees.

:func:`planning` opens the plan (the temporary tables of ``storage/retention.py``, on one
connection) and yields a :class:`Plan`; :mod:`headwater.engine.retention.run` carries a plan
out inside the same block. Every count comes from set-based SQL.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine.retention.policy import DAY, PolicyError, Retention, check_triggers
from headwater.errors import HeadwaterError
from headwater.storage import launch_plans as plan_rows
from headwater.storage import retention as rows
from headwater.storage.db import Tx

if TYPE_CHECKING:
    from headwater.instance import Instance

DETAIL_LIMIT = 50  # versions listed (purged, and kept through lineage) in a plan's report


@dataclass
class ArtifactPlan:
    """One artifact's part of the plan."""

    uri: str
    policy: str
    live: int
    purge: int = 0
    bytes_freed: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # reason -> versions

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact": self.uri,
            "policy": self.policy,
            "live_versions": self.live,
            "purge": self.purge,
            "bytes_freed": self.bytes_freed,
            "kept": self.kept,
        }


@dataclass
class Plan:
    """What a GC run would do (or, after it ran, what it was asked to do)."""

    started: float
    artifacts: list[ArtifactPlan]
    versions: int
    executions: int
    executions_kept: int
    events: int
    decisions: int
    blobs_days: float | None
    purged: list[dict[str, Any]]  # the first DETAIL_LIMIT versions to purge
    kept_by_lineage: list[dict[str, Any]]  # the first DETAIL_LIMIT kept through lineage
    seconds: float = 0.0

    @property
    def bytes_freed(self) -> int:
        return sum(a.bytes_freed for a in self.artifacts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions_to_purge": self.versions,
            "bytes_freed": self.bytes_freed,
            "executions_to_delete": self.executions,
            "old_executions_kept_by_lineage": self.executions_kept,
            "events_to_delete": self.events,
            "decisions_to_delete": self.decisions,
            "unreferenced_blobs_older_than_days": self.blobs_days,
            "artifacts": [a.to_dict() for a in self.artifacts],
            "purge": self.purged,
            "kept_by_lineage": self.kept_by_lineage,
            "planning_seconds": round(self.seconds, 3),
        }

    def text(self) -> str:
        """The plan as lines for a terminal."""
        out = [
            f"would purge {self.versions} version(s) ({_size(self.bytes_freed)}), delete "
            f"{self.executions} execution(s), {self.events} event(s) and {self.decisions} "
            "decision(s)",
        ]
        if self.blobs_days is not None:
            out.append(
                f"then delete blobs no row references, older than {self.blobs_days:g} day(s)"
            )
        for a in self.artifacts:
            why = ", ".join(f"{n} {r}" for r, n in a.kept.items() if n)
            out.append(
                f"  {a.uri}: purge {a.purge} of {a.live} ({_size(a.bytes_freed)}); "
                f"kept: {why or 'none'}  [{a.policy}]"
            )
        if self.purged:
            out.append("purge:")
            out += [f"  {p['uri']}  [{p['policy']}]" for p in self.purged]
            if self.versions > len(self.purged):
                out.append(f"  ... and {self.versions - len(self.purged)} more")
        if self.kept_by_lineage:
            out.append("kept through lineage:")
            out += [f"  {k['uri']}: {k['why']}" for k in self.kept_by_lineage]
        out.append(f"(planned in {self.seconds:.2f} s)")
        return "\n".join(out)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def trigger_windows(tx: Tx) -> list[tuple[str, float]]:
    """(launch plan, longest ``within`` of its triggers, seconds) of every active plan."""
    out = []
    for lp in plan_rows.active_launch_plans(tx):
        longest = max(_windows(json.loads(lp.spec).get("triggers") or []), default=0.0)
        if longest:
            out.append((f"{lp.project}/{lp.domain}/{lp.name}", longest))
    return out


def _windows(spec: Any) -> Iterator[float]:
    if isinstance(spec, dict):
        if isinstance(spec.get("within"), int | float):
            yield float(spec["within"])
        for v in spec.values():
            yield from _windows(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from _windows(v)


def _pinned_by_plans(inst: Instance, tx: Tx) -> dict[int, str]:
    """The versions the query inputs of active launch plans resolve to now."""
    from headwater.engine.react.trigger_inputs import Binder

    binder = Binder(inst)
    out: dict[int, str] = {}
    for lp in plan_rows.active_launch_plans(tx):
        for name, query in (json.loads(lp.spec).get("query_inputs") or {}).items():
            with contextlib.suppress(HeadwaterError, Exception):
                version = binder.find(query, None, lp.project, lp.domain)
                out.setdefault(version.id, f"launch plan {lp.name!r} input {name!r} resolves to it")
    return out


@contextlib.contextmanager
def planning(inst: Instance, retention: Retention, *, now: float | None = None) -> Iterator[Plan]:
    """Plan a GC on one connection; the plan's tables live until the block ends."""
    now = time.time() if now is None else now
    t0 = time.perf_counter()
    with inst.db.read() as tx:
        check_triggers(retention, trigger_windows(tx))
        pinned = _pinned_by_plans(inst, tx)
        policies, names = [], {}
        for a in rows.artifacts(tx):
            uri = f"hw://{a['project']}/{a['domain']}/{a['name']}"
            p = retention.for_artifact(a["project"], a["domain"], a["name"])
            names[int(a["id"])] = (uri, p.describe())
            if p.purges:
                before = None if p.keep_days is None else now - p.keep_days * DAY
                policies.append(rows.PolicyRow(int(a["id"]), p.keep_last, before, p.describe()))
        execs_before = (
            None if retention.executions_days is None else now - retention.executions_days * DAY
        )
        try:
            versions, executions = rows.plan_tables(tx, policies, execs_before, pinned)
            yield _report(tx, retention, names, versions, executions, now, t0)
        finally:
            with contextlib.suppress(Exception):
                rows.drop_plan_tables(tx)


def _report(
    tx: Tx,
    retention: Retention,
    names: dict[int, tuple[str, str]],
    versions: int,
    executions: int,
    now: float,
    t0: float,
) -> Plan:
    arts = []
    for c in rows.artifact_counts(tx):
        uri, policy = names[c.artifact_id]
        kept = {
            "latest of its partition": c.latest,
            "one of the last N": c.last_n,
            "newer than keep_days": c.newer,
            "lineage or launch plan": c.lineage,
        }
        arts.append(ArtifactPlan(uri, policy, c.live, c.purge, c.bytes, kept))
    for artifact_id, n in rows.no_policy_counts(tx).items():
        uri, policy = names[artifact_id]
        arts.append(ArtifactPlan(uri, "no version policy", n, kept={"no version policy": n}))
    arts.sort(key=lambda a: a.uri)
    events = decisions = 0
    if retention.events_days is not None:
        events, decisions = rows.count_old_events(tx, now - retention.events_days * DAY)
    purged = rows.planned_versions(tx, kept=False, limit=DETAIL_LIMIT)
    held_by = rows.planned_versions(tx, kept=True, limit=DETAIL_LIMIT)
    via_execs = [k.via for k in held_by if k.via and not k.via.startswith("launch plan ")]
    exec_via = rows.kept_execution_reasons(tx, via_execs)
    labels = rows.version_labels(
        tx, [p.id for p in purged + held_by] + [v for v in exec_via.values() if v is not None]
    )
    kept_rows = []
    for k in held_by:
        why = k.via or ""
        if not why.startswith("launch plan "):
            held = exec_via.get(why)
            why = (
                f"consumed by execution {k.via}, which is kept because it produced "
                f"{labels.get(held, held)}"
                if held is not None
                else f"consumed by execution {k.via}, which is kept (recent or unfinished)"
            )
        kept_rows.append({"uri": labels.get(k.id, str(k.id)), "why": why})
    return Plan(
        started=now,
        artifacts=arts,
        versions=versions,
        executions=executions,
        executions_kept=rows.kept_executions_count(tx),
        events=events,
        decisions=decisions,
        blobs_days=retention.blob_age_days(),
        purged=[{"uri": labels.get(p.id, str(p.id)), "policy": p.policy} for p in purged],
        kept_by_lineage=kept_rows,
        seconds=time.perf_counter() - t0,
    )


__all__ = ["Plan", "PolicyError", "planning"]
