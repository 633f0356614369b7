"""Custom events in, and what the reactor decided about each event out."""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.definitions.names import check_name
from headwater.definitions.storable import check_text, check_time
from headwater.engine.handles import EventRecord
from headwater.errors import NotFoundError, UserInputError
from headwater.storage import events as event_rows
from headwater.storage.db import in_list

if TYPE_CHECKING:
    from headwater.instance import Instance

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_ID_LENGTH = 256
RESERVED_PREFIX = "headwater."


def _check_json(value: Any, path: str = "payload") -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise UserInputError(f"{path} is {value}; JSON has no NaN or infinity")
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise UserInputError(f"{path} has a non-string key {k!r}; payload keys are strings")
            check_text(k, f"{path} key {k!r}")
            _check_json(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
    elif value is not None and not isinstance(value, bool | int | float | str):
        raise UserInputError(
            f"{path} is a {type(value).__name__}; payloads hold JSON values "
            "(str, number, bool, null, lists and objects)"
        )


def validate(
    name: Any,
    payload: Any,
    event_id: Any,
    source: Any,
    *,
    subject: Any = None,
    attributes: Any = None,
) -> dict[str, Any]:
    """Refuse a malformed event with what to fix; returns the payload as a dict.

    Every string (id, source, subject, and inside payload and attributes) must be text both
    backends store: valid Unicode without NUL (see :mod:`headwater.definitions.storable`).
    """
    check_name(name, "event name")
    if name.startswith(RESERVED_PREFIX):
        raise UserInputError(
            f"event names starting with {RESERVED_PREFIX!r} are Headwater's own;"
            f" choose another name than {name!r}"
        )
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise UserInputError(
            f"an event payload is a JSON object (dict), got {type(payload).__name__}"
        )
    _check_json(payload)
    size = len(json.dumps(payload))
    if size > MAX_PAYLOAD_BYTES:
        raise UserInputError(
            f"the payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES} "
            "bytes — store large data as an artifact and send its URI"
        )
    if event_id is not None and (
        not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH
    ):
        raise UserInputError(
            f"an event id is a non-empty string of at most {MAX_ID_LENGTH} "
            f"characters, got {event_id!r}"
        )
    check_text(event_id, "id")
    if source is not None and not isinstance(source, str):
        raise UserInputError("an event source is a string (a URI naming the sender)")
    check_text(source, "source")
    if subject is not None and not isinstance(subject, str):
        raise UserInputError(f"subject must be a string, got {subject!r}")
    check_text(subject, "subject")
    if attributes is not None:
        if not isinstance(attributes, dict):
            raise UserInputError("attributes must be a JSON object (dict)")
        _check_json(attributes, "attributes")
    return payload


def emit(
    inst: Instance,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    source: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    subject: str | None = None,
    attributes: dict[str, Any] | None = None,
    time_: float | None = None,
) -> str:
    """Store an event (once per id) for the reactor; returns its id."""
    body = validate(name, payload, id, source, subject=subject, attributes=attributes)
    project = check_name(project, "project") if project else inst.project
    domain = check_name(domain, "domain") if domain else inst.domain
    event_id = id or uuid.uuid4().hex
    with inst.db.transaction() as tx:
        event_rows.insert_event(
            tx,
            id=event_id,
            name=name,
            source=source or "headwater://client",
            project=project,
            domain=domain,
            time=time.time() if time_ is None else check_time(time_, "time"),
            payload=body,
            subject=subject,
            attributes=attributes,
        )
    return event_id


@dataclass(frozen=True)
class DecisionRecord:
    """What the reactor decided for one launch plan trigger about one event."""

    launch_plan: str
    launch_plan_version: str
    trigger: str
    outcome: str
    reason: str
    execution_id: str | None

    @property
    def fired(self) -> bool:
        return self.outcome == "fired"

    def to_dict(self) -> dict[str, Any]:
        return {
            "launch_plan": self.launch_plan,
            "launch_plan_version": self.launch_plan_version,
            "trigger": self.trigger,
            "outcome": self.outcome,
            "reason": self.reason,
            "execution_id": self.execution_id,
        }


def decisions_for(inst: Instance, event_ids: list[str]) -> dict[str, list[DecisionRecord]]:
    if not event_ids:
        return {}
    marks, params = in_list("e", event_ids)
    with inst.db.read() as tx:
        found = tx.all(
            "SELECT d.*, lp.name AS lp_name, lp.version AS lp_version FROM "
            "trigger_decisions d JOIN launch_plans lp ON lp.id = d.launch_plan_id "
            f"WHERE d.event_seq IN (SELECT seq FROM events WHERE id IN {marks}) ORDER BY d.id",
            params,
        )
    out: dict[str, list[DecisionRecord]] = {}
    for r in found:
        out.setdefault(r["event_id"], []).append(
            DecisionRecord(
                r["lp_name"],
                r["lp_version"],
                r["trigger_path"],
                r["outcome"],
                r["reason"],
                r["execution_id"],
            )
        )
    return out


def get(inst: Instance, event_id: str) -> EventRecord:
    """An event with the reactor's decisions about it (``.decisions``; ``.decided`` False while
    it waits in the inbox)."""
    check_text(event_id, "event id")
    with inst.db.read() as tx:
        row = event_rows.get_event(tx, event_id)
        pending = row is not None and tx.scalar(
            "SELECT COUNT(*) FROM reactor_inbox WHERE seq = :s", {"s": row["seq"]}
        )
    if row is None:
        raise NotFoundError(f"no event {event_id!r}; list them with `headwater events list`")
    record = EventRecord(row)
    record.decisions = decisions_for(inst, [event_id]).get(event_id, [])
    record.decided = not pending
    return record
