"""Which triggers listen to an event, and whether a trigger's conditions hold for it.

Every trigger leaf is indexed under the key of the events it can react to, so deciding an
event costs one dictionary lookup plus the listeners of that key, however many launch plans
exist that listen to other things. What a key, a match or a correlation is for one kind of
trigger is that kind's module (``headwater.engine.kinds``); this module only indexes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from headwater.engine.kinds import CUSTOM_EVENTS, KINDS, Kind, event_key, kind_of
from headwater.engine.kinds.event import CustomEvent
from headwater.storage import launch_plans as lp_rows
from headwater.storage.db import Tx

__all__ = [
    "Index",
    "Listener",
    "correlation",
    "custom_key",
    "event_key",
    "index_stamp",
    "leaf_key",
    "load_index",
    "match",
]

# Payload values a custom event's verdicts are remembered for: their (type, value) fixes
# both the filter's outcome and the text of its reason (a float's does not: -0.0 == 0.0).
_MEMO_TYPES = (str, int, bool, type(None))
_MEMO_MAX = 100_000  # verdicts remembered per index (memory); past it they are computed
_ABSENT = object()
# Names of the events a built-in kind listens to (their key may depend on the payload).
_KIND_EVENTS = frozenset(name for kind in KINDS for name in kind.events)


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
    kind: Kind  # the leaf's kind

    @property
    def join_path(self) -> str:
        return self.path.rsplit(".", 1)[0]

    def describe(self) -> str:
        return self.kind.describe(self.leaf)

    @cached_property
    def execution_fields(self) -> dict[str, Any]:
        """The columns of every execution this listener queues that only depend on it (its
        launch plan's workflow, queue, limits): made once, not per firing."""
        concurrency = self.spec.get("concurrency")
        return {
            "project": self.project,
            "domain": self.domain,
            "workflow": self.workflow,
            "workflow_version": self.workflow_version,
            "launch_plan": self.lp_name,
            "launch_plan_id": self.lp_id,
            "status": "queued",
            "max_attempts": self.spec.get("max_attempts", 1),
            "concurrency_limit": concurrency["max_concurrency"] if concurrency else None,
            "queue": self.spec.get("queue", "default"),
        }


def leaf_key(leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> tuple[Any, ...]:
    return kind_of(leaf).leaf_key(leaf, project, domain, lp_id)


class Index:
    """Listeners by event key: the active launch plan versions, and the newest version of each
    inactive name (so an event it would have matched is recorded as "launch plan inactive")."""

    def __init__(self, rows: list[Any], active_ids: set[int]) -> None:
        self.by_key: dict[tuple[Any, ...], list[Listener]] = {}
        self.engine_events: set[str] = set()  # the engine's own events some listener reacts to
        # verdicts(): the payload fields the listeners of a key filter on (None: not only
        # custom-event listeners), and the verdicts by (key, those fields' values)
        self._fields: dict[tuple[Any, ...], tuple[str, ...] | None] = {}
        self._memo: dict[tuple[Any, ...], list[tuple[Listener, str | None]]] = {}
        self._memo_size = 0  # verdicts in _memo
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
            triggers = [(str(i), trig) for i, trig in enumerate(spec["triggers"])]
            if spec.get("schedule"):
                triggers.append(("schedule", spec["schedule"]))
            for at, trig in triggers:
                for path, leaf, all_of, part in kind_of(trig).leaves(trig, at):
                    self._add(Listener(*common, path, leaf, all_of, part, spec, kind_of(leaf)))

    def _add(self, listener: Listener) -> None:
        key = listener.kind.leaf_key(
            listener.leaf, listener.project, listener.domain, listener.lp_id
        )
        self.by_key.setdefault(key, []).append(listener)
        self.engine_events.update(listener.kind.events)

    def listeners(self, key: tuple[Any, ...]) -> list[Listener]:
        return self.by_key.get(key, [])

    def verdicts(
        self, key: tuple[Any, ...], name: str, payload: dict[str, Any]
    ) -> list[tuple[Listener, str | None]]:
        """Each listener of ``key`` with None when it fires for the event, else why not
        (an inactive launch plan, or what ``match`` says).

        A custom event's verdict depends only on the payload fields its filter names, so
        the verdicts of a key whose listeners are all custom events are remembered by those
        fields' values: deciding the next event with the same values is one lookup, not a
        ``match`` per listener."""
        listeners = self.by_key.get(key)
        if not listeners:
            return []
        memo_key = self._memo_key(key, listeners, payload)
        if memo_key is not None:
            known = self._memo.get(memo_key)
            if known is not None:
                return known
        found = [(x, _why_not(x, name, payload)) for x in listeners]
        if memo_key is not None and self._memo_size + len(found) <= _MEMO_MAX:
            self._memo[memo_key] = found
            self._memo_size += len(found)
        return found

    def _memo_key(
        self, key: tuple[Any, ...], listeners: list[Listener], payload: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        if key in self._fields:
            fields = self._fields[key]
        else:
            fields = None
            if all(type(x.kind) is CustomEvent and x.all_of is None for x in listeners):
                fields = tuple(sorted({f for x in listeners for f in x.leaf.get("filter") or {}}))
            self._fields[key] = fields
        if fields is None:
            return None
        values: list[Any] = [key]
        for f in fields:
            v = payload.get(f, _ABSENT)
            if v is not _ABSENT and type(v) not in _MEMO_TYPES:
                return None
            values.append((type(v), v))
        return tuple(values)

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


def custom_key(name: str, project: str, domain: str) -> tuple[Any, ...] | None:
    """The index key of a custom event, which its payload plays no part in (so an event no
    trigger listens to is decided without reading its payload); None for the events of the
    built-in kinds (artifact created, run finished...), whose key is ``event_key``'s."""
    if name in _KIND_EVENTS:
        return None
    return CUSTOM_EVENTS.event_key(name, project, domain, {})


def index_stamp(tx: Tx) -> Any:
    """Changes whenever a launch plan is registered, activated or deactivated."""
    return lp_rows.registry_stamp(tx)


def load_index(tx: Tx) -> Index:
    rows = lp_rows.current_versions(tx)
    active = {r.id for r in lp_rows.active_launch_plans(tx)}
    return Index(rows, active)


def match(listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
    """None when the leaf's conditions hold for the event, else why not."""
    return listener.kind.match(listener, name, payload)


def _why_not(listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
    if not listener.active:
        return (
            f"launch plan {listener.lp_name!r} is inactive (activate "
            f"it: headwater launchplans activate {listener.lp_name})"
        )
    return listener.kind.match(listener, name, payload)


def correlation(listener: Listener, payload: dict[str, Any]) -> str | None:
    """The AllOf key value an event carries ("" without a key; None when it lacks the key)."""
    key = (listener.all_of or {}).get("key")
    if key is None:
        return ""
    value = listener.kind.correlation_value(listener.leaf, payload, key)
    return None if value is None else str(value)
