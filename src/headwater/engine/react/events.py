"""Custom events in, and what the reactor decided about each event out."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.definitions.names import check_name
from headwater.definitions.storable import check_text, check_time
from headwater.errors import ConflictError, NotFoundError, UserInputError
from headwater.handles import DecisionRecord, EventRecord
from headwater.storage import events as event_rows
from headwater.storage import reactor_inbox
from headwater.storage import trigger_decisions as decision_rows
from headwater.storage.db import Tx

if TYPE_CHECKING:
    from headwater.instance import Instance

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_ID_LENGTH = 256
RESERVED_PREFIX = "headwater."
CLIENT_SOURCE = "headwater://client"


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
    encoded: str | None = None,
) -> dict[str, Any]:
    """Refuse a malformed event with what to fix; returns the payload as a dict.

    Every string (id, source, subject, and inside payload and attributes) must be text both
    backends store: valid Unicode without NUL (see :mod:`headwater.definitions.storable`).
    ``encoded``: the payload as ``json.dumps`` gives it, when the caller has it already.
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
    size = len(encoded if encoded is not None else json.dumps(payload))
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
    """Store an event (once per source and id) for the reactor; returns its id.

    Sending a source and id again with the same name, payload, subject, project and domain
    is the same event (stored once); with anything else it is a ``ConflictError``.
    """
    body = validate(name, payload, id, source, subject=subject, attributes=attributes)
    project = check_name(project, "project") if project else inst.project
    domain = check_name(domain, "domain") if domain else inst.domain
    event_id = id or uuid.uuid4().hex
    with inst.db.transaction() as tx:
        store(
            tx,
            {
                "id": event_id,
                "name": name,
                "source": source or CLIENT_SOURCE,
                "project": project,
                "domain": domain,
                "time": time.time() if time_ is None else check_time(time_, "time"),
                "payload": body,
                "subject": subject,
                "attributes": attributes,
            },
        )
    return event_id


# What makes a resent event "the same event": what the sender chose. Not its time (a resend
# without one gets the time it arrived) nor its attributes (tracing extensions change per
# delivery).
_IDENTICAL = ("name", "subject", "project", "domain")


def store(tx: Tx, row: dict[str, Any]) -> int | None:
    """Insert one event row; returns its seq, or None when this source and id were stored
    before with the same content. Different content raises ``ConflictError``."""
    seq = event_rows.insert_event(tx, **row)
    if seq is not None:
        return seq
    known = event_rows.find_event(tx, row["id"], row["source"])
    if known is None:  # cannot happen under either backend's isolation; never a 500
        return None
    differ = [k for k in _IDENTICAL if getattr(known, k) != row[k]]
    if known.payload != json.dumps(row["payload"], sort_keys=True):
        differ.append("payload")
    if differ:
        raise ConflictError(
            f"event {row['id']!r} from source {row['source']!r} was stored before with another "
            f"{', '.join(differ)}; a source and id name one event, so resend it unchanged or "
            "give a different event a new id"
        )
    return None


def decisions_for(inst: Instance, seqs: list[int]) -> dict[int, list[DecisionRecord]]:
    """The decisions about each event, by the event's seq."""
    if not seqs:
        return {}
    with inst.db.read() as tx:
        found = decision_rows.decisions_for_events(tx, seqs)
    out: dict[int, list[DecisionRecord]] = {}
    for r in found:
        d = r.decision
        out.setdefault(int(d.event_seq), []).append(
            DecisionRecord(
                r.lp_name, r.lp_version, d.trigger_path, d.outcome, d.reason, d.execution_id
            )
        )
    return out


def get(
    inst: Instance,
    event_id: str,
    source: str | None = None,
    visible: Callable[[str], bool] | None = None,
) -> EventRecord:
    """An event with the reactor's decisions about it (``.decisions``; ``.decided`` False while
    it waits in the inbox).

    An event is named by its id, plus its ``source`` when several sources sent that id
    (without it such an id is a ``ConflictError`` listing the sources). ``visible(project)``
    leaves out, when the id alone is given, events the caller may not see.
    """
    check_text(event_id, "event id")
    with inst.db.read() as tx:
        if source is not None:
            row = event_rows.find_event(tx, event_id, source)
        else:
            rows = event_rows.events_with_id(tx, event_id)
            if visible is not None and len(rows) > 1:
                rows = [r for r in rows if visible(r.project)] or rows[:1]
            if len(rows) > 1:
                sources = ", ".join(repr(r.source) for r in rows)
                raise ConflictError(
                    f"event id {event_id!r} was sent by several sources ({sources}); name the "
                    "one you mean: --source in `headwater events show`, ?source= over HTTP, "
                    "get_event(id, source=...) in Python"
                )
            row = rows[0] if rows else None
        pending = row is not None and reactor_inbox.is_pending(tx, row.seq)
    if row is None:
        where = "" if source is None else f" from source {source!r}"
        raise NotFoundError(f"no event {event_id!r}{where}; list them with `headwater events list`")
    record = EventRecord(row)
    record.decisions = decisions_for(inst, [row.seq]).get(int(row.seq), [])
    record.decided = not pending
    return record
