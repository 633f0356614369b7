"""Which triggers listen to an event, and whether a trigger's conditions hold for it.

Every trigger leaf is indexed under the key of the events it can react to, so deciding an
event costs one dictionary lookup plus the listeners of that key, however many launch plans
exist that listen to other things.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.engine import event_names
from headwater.storage import launch_plan_state as lp_state
from headwater.storage import launch_plans as lp_rows
from headwater.storage.db import Tx

SCHEDULE_TICK = event_names.SCHEDULE_TICK


@dataclass(frozen=True)
class Listener:
    """One trigger leaf of one launch plan version."""

    lp_id: int
    lp_name: str
    lp_version: str
    project: str
    domain: str
    workflow: str
    workflow_version: str
    active: bool
    path: str  # "2" for the third trigger, "2.1" for part 1 of an AnyOf/AllOf there
    leaf: dict[str, Any]
    all_of: dict[str, Any] | None
    part: int | None
    spec: dict[str, Any]

    @property
    def join_path(self) -> str:
        return self.path.rsplit(".", 1)[0]

    def describe(self) -> str:
        leaf = self.leaf
        kind = leaf["kind"]
        if kind == "artifact":
            return f"OnArtifact({leaf['artifact']!r})"
        if kind == "event":
            return f"OnEvent({leaf['name']!r})"
        if kind == "finish":
            return f"OnFinish({leaf['workflow']!r}, status={leaf['status']!r})"
        return "schedule"


def event_key(name: str, project: str, domain: str, payload: dict[str, Any]) -> tuple[Any, ...]:
    if name == event_names.ARTIFACT_CREATED:
        return ("artifact", project, domain, payload.get("artifact"))
    if name in (event_names.EXECUTION_SUCCEEDED, event_names.EXECUTION_FAILED):
        return ("finish", project, domain, payload.get("workflow"))
    if name == SCHEDULE_TICK:
        return ("schedule", payload.get("launch_plan_id"))
    return ("event", project, domain, name)


def leaf_key(leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> tuple[Any, ...]:
    kind = leaf["kind"]
    p, d = leaf.get("project") or project, leaf.get("domain") or domain
    if kind == "artifact":
        return ("artifact", p, d, leaf["artifact"])
    if kind == "finish":
        return ("finish", p, d, leaf["workflow"])
    if kind == "event":
        return ("event", p, d, leaf["name"])
    return ("schedule", lp_id)


class Index:
    """Listeners by event key: the active launch plan versions, and the newest version of each
    inactive name (so an event it would have matched is recorded as "launch plan inactive")."""

    def __init__(self, rows: list[Any], active_ids: set[int]) -> None:
        self.by_key: dict[tuple[Any, ...], list[Listener]] = {}
        for row in rows:
            spec = json.loads(row.spec)
            common = (
                row.id,
                row.name,
                row.version,
                row.project,
                row.domain,
                row.workflow,
                row.workflow_version,
                row.id in active_ids,
            )
            for i, trig in enumerate(spec["triggers"]):
                if trig["kind"] in ("any", "all"):
                    for j, part in enumerate(trig["parts"]):
                        self._add(
                            Listener(
                                *common,
                                f"{i}.{j}",
                                part,
                                trig if trig["kind"] == "all" else None,
                                j if trig["kind"] == "all" else None,
                                spec,
                            )
                        )
                else:
                    self._add(Listener(*common, str(i), trig, None, None, spec))
            if spec.get("schedule"):
                self._add(Listener(*common, "schedule", spec["schedule"], None, None, spec))

    def _add(self, listener: Listener) -> None:
        key = leaf_key(listener.leaf, listener.project, listener.domain, listener.lp_id)
        self.by_key.setdefault(key, []).append(listener)

    def listeners(self, key: tuple[Any, ...]) -> list[Listener]:
        return self.by_key.get(key, [])

    def only(self, lp_name: str, project: str, domain: str) -> Index:
        """The same index restricted to one launch plan's active version (for replays)."""
        narrowed = Index([], set())
        for key, listeners in self.by_key.items():
            keep = [
                x
                for x in listeners
                if x.lp_name == lp_name and x.active and (x.project, x.domain) == (project, domain)
            ]
            if keep:
                narrowed.by_key[key] = keep
        return narrowed


def index_stamp(tx: Tx) -> Any:
    """Changes whenever a launch plan is registered, activated or deactivated."""
    return (lp_state.state_version(tx), lp_rows.max_id(tx))


def load_index(tx: Tx) -> Index:
    rows = lp_rows.current_versions(tx)
    active = {r.id for r in lp_rows.active_launch_plans(tx)}
    return Index(rows, active)


def _eq(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, int | float) and isinstance(b, str) and str(a) == b)


def match(listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
    """None when the leaf's conditions hold for the event, else why not."""
    leaf = listener.leaf
    kind = leaf["kind"]
    if kind == "artifact":
        have = payload.get("partitions") or {}
        for key, want in (leaf.get("partitions") or {}).items():
            if have.get(key) != want:
                return f"partition mismatch: {key}={have.get(key)!r}, trigger wants {want!r}"
        want_tp = leaf.get("time_partition")
        if want_tp is not None:
            from headwater.definitions.names import normalize_time, time_text

            want_text = time_text(
                normalize_time(want_tp["$datetime"] if isinstance(want_tp, dict) else want_tp, None)
            )
            if payload.get("time_partition") != want_text:
                return (
                    f"time partition mismatch: {payload.get('time_partition')}, trigger "
                    f"wants {want_text}"
                )
        return None
    if kind == "finish":
        wanted = {
            "succeeded": (event_names.EXECUTION_SUCCEEDED,),
            "failed": (event_names.EXECUTION_FAILED,),
            "any": (event_names.EXECUTION_SUCCEEDED, event_names.EXECUTION_FAILED),
        }
        if name not in wanted[leaf["status"]]:
            status = name.rsplit(".", 1)[1]
            return f"status mismatch: the run {status}, trigger wants {leaf['status']}"
        return None
    if kind == "event":
        for field, want in (leaf.get("filter") or {}).items():
            if field not in payload:
                return f"filter failed: payload has no field {field!r} (wants {want!r})"
            if not _eq(payload[field], want):
                return f"filter failed: {field}={payload[field]!r}, trigger wants {want!r}"
        return None
    return None


def correlation(listener: Listener, payload: dict[str, Any]) -> str | None:
    """The AllOf key value an event carries ("" without a key; None when it lacks the key)."""
    key = (listener.all_of or {}).get("key")
    if key is None:
        return ""
    if listener.leaf["kind"] == "artifact":
        value = (payload.get("partitions") or {}).get(key)
    else:
        value = payload.get(key)
    return None if value is None else str(value)
