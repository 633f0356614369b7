"""Events over HTTP: request -> validated events -> one transaction.

Accepted forms of ``POST /api/v1/events``:

- CloudEvents 1.0 structured mode: ``Content-Type: application/cloudevents+json``;
- CloudEvents binary mode: ``ce-specversion``, ``ce-type``, ``ce-id``, ``ce-source`` headers
  (``ce-subject``, ``ce-time``, extensions optional), the body is the JSON payload;
- CloudEvents batch: ``Content-Type: application/cloudevents-batch+json``, a JSON array;
- plain JSON (``application/json``): ``{"name", "payload", "id", ...}``, a list of those, or
  ``{"events": [...]}`` (an item carrying ``specversion`` is read as a structured CloudEvent).

A CloudEvent's ``type`` is the event name, ``id`` its id (``source`` + ``id`` seen before
is the same event), ``source``/``subject``/``time`` are kept as such; every other attribute
(extensions included) goes into the event's ``attributes``. A request is all-or-nothing:
every event is checked before any is stored, and all are stored in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from fastapi import Request
from starlette.requests import ClientDisconnect

from headwater.api import webhooks
from headwater.api.config import ApiConfig
from headwater.api.errors import BadRequest, Conflict, PayloadTooLarge, UnsupportedMediaType
from headwater.api.webhooks import Delivery
from headwater.definitions.names import check_name
from headwater.definitions.storable import check_text, check_time
from headwater.engine.react import events as event_api
from headwater.errors import ConflictError, UserInputError
from headwater.storage import webhook_deliveries
from headwater.storage.db import Busy

if TYPE_CHECKING:
    from headwater.instance import Instance

CE_STRUCTURED = "application/cloudevents+json"
CE_BATCH = "application/cloudevents-batch+json"
DEFAULT_SOURCE = "headwater://http"
SPECVERSION = "1.0"
CE_REQUIRED = ("specversion", "id", "source", "type")
CE_KEPT = frozenset({"id", "source", "type", "subject", "time", "data", "data_base64"})
REQUEST_KNOB = "HEADWATER_MAX_REQUEST_BYTES"
LOOP_RETRY = 0.002  # seconds the event loop tries again to take a busy SQLite write lock
PLAIN_FIELDS = frozenset(
    {"name", "payload", "id", "source", "subject", "time", "project", "domain", "attributes"}
)


@dataclass
class Incoming:
    """One event as read from the request, before it is stored."""

    name: Any
    payload: Any = None
    id: Any = None
    source: Any = None
    subject: Any = None
    time: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    project: Any = None
    domain: Any = None


@dataclass
class Parsed:
    transport: str  # structured | binary | batch | plain | plain-batch
    events: list[Incoming]


# -- reading the body -----------------------------------------------------------------------
def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    raw = getattr(headers, "raw", None)  # a request's headers: the names as sent, lowercased
    if raw is not None:
        return any(k[:3] == b"ce-" for k, _ in raw)
    return any(k.lower().startswith("ce-") for k in headers)


async def read_body(request: Request, cfg: ApiConfig, single: bool | None = None) -> bytes:
    """The raw body, refused with 413 as soon as it is known to be over the limit: the
    limit of one event when ``single`` (a structured or binary-mode CloudEvent; worked out
    from the headers when None), else that of a batch; the limit of any request body
    (``HEADWATER_MAX_REQUEST_BYTES``) when that one is lower."""
    if single is None:
        single = media_type(request.headers) == CE_STRUCTURED or is_binary_mode(request.headers)
    limit, knob = (
        (cfg.max_event_bytes, "HEADWATER_MAX_EVENT_BYTES")
        if single
        else (cfg.max_batch_bytes, "HEADWATER_MAX_BATCH_BYTES")
    )
    if cfg.request_limit < limit:
        limit, knob = cfg.request_limit, REQUEST_KNOB
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(_too_large(f"{int(declared)} bytes", limit, knob))
    # ``receive`` itself rather than ``request.stream()``: a small body is one message.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(_too_large(f"over {limit} bytes", limit, knob))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


def _too_large(size: str, limit: int, knob: str) -> str:
    return (
        f"the request body is {size}; the limit is {limit} bytes ({knob}) — store large "
        "data as an artifact and send its URI"
    )


def _reject_constant(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


def load_json(body: bytes, what: str = "the body") -> Any:
    if not body.strip():
        raise BadRequest(f"{what} is empty; send a JSON event")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None


# -- parsing ---------------------------------------------------------------------------------
def _at(index: int | None) -> str:
    return "" if index is None else f"event {index}: "


def parse_time(value: Any, index: int | None, plain: bool = False) -> float | None:
    """Seconds since the epoch from an RFC 3339 string (or, in plain events, a number);
    refused unless a UTC datetime can hold it (years 1 to 9999 in UTC)."""
    if value is None:
        return None
    try:
        if plain and isinstance(value, int | float) and not isinstance(value, bool):
            return check_time(value, "time")
        if not isinstance(value, str):
            raise BadRequest(
                f"{_at(index)}time must be an RFC 3339 timestamp string, got {value!r}", index
            )
        check_text(value, "time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise BadRequest(
                f"{_at(index)}time {value!r} is not an RFC 3339 timestamp "
                "(e.g. 2026-11-01T12:00:00Z)",
                index,
            ) from None
        return check_time(parsed, "time")
    except BadRequest:
        raise
    except UserInputError as exc:
        raise BadRequest(f"{_at(index)}{exc}", index) from None


def _is_json_media(media: str) -> bool:
    return media in ("", "application/json", "text/json") or media.endswith("+json")


def from_structured(body: Any, index: int | None = None) -> Incoming:
    """A CloudEvent in the JSON event format (structured mode, or a batch item)."""
    if not isinstance(body, dict):
        raise BadRequest(
            f"{_at(index)}a CloudEvent is a JSON object, got {type(body).__name__}", index
        )
    _check_required(body, index)
    if "data_base64" in body:
        raise BadRequest(
            f"{_at(index)}data_base64 is not supported; send the payload as a JSON object "
            "in 'data'",
            index,
        )
    media = str(body.get("datacontenttype", "")).split(";", 1)[0].strip().lower()
    if not _is_json_media(media):
        raise BadRequest(
            f"{_at(index)}datacontenttype {body['datacontenttype']!r} is not JSON; "
            "event data is a JSON object",
            index,
        )
    attributes = {k: v for k, v in body.items() if k not in CE_KEPT}
    return Incoming(
        name=body["type"],
        payload=body.get("data"),
        id=body["id"],
        source=body["source"],
        subject=_optional_str(body, "subject", index),
        time=parse_time(body.get("time"), index),
        attributes=attributes,
    )


def _check_required(attrs: Mapping[str, Any], index: int | None, prefix: str = "") -> None:
    for key in CE_REQUIRED:
        value = attrs.get(key)
        if value is None:
            raise BadRequest(
                f"{_at(index)}not a CloudEvent: the required attribute {prefix}{key!r} is "
                f"missing (CloudEvents 1.0 need {', '.join(prefix + k for k in CE_REQUIRED)})",
                index,
            )
        if not isinstance(value, str) or not value:
            raise BadRequest(
                f"{_at(index)}the CloudEvent attribute {prefix}{key!r} must be a non-empty "
                f"string, got {value!r}",
                index,
            )
    if attrs["specversion"] != SPECVERSION:
        raise BadRequest(
            f"{_at(index)}CloudEvents specversion {attrs['specversion']!r} is not supported; "
            f"send specversion {SPECVERSION!r}",
            index,
        )


def _optional_str(body: Mapping[str, Any], key: str, index: int | None) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{_at(index)}{key} must be a string, got {value!r}", index)
    return value


def from_binary(headers: Mapping[str, str], body: bytes) -> Incoming:
    """A CloudEvent in binary mode: attributes in ``ce-*`` headers, the payload as the body."""
    attrs = {k.lower()[3:]: unquote(v) for k, v in headers.items() if k.lower().startswith("ce-")}
    _check_required(attrs, None, prefix="ce-")
    media = media_type(headers)
    if not _is_json_media(media):
        raise UnsupportedMediaType(
            f"binary-mode event data must be JSON (Content-Type: application/json), got {media!r}"
        )
    payload = load_json(body, "the event data") if body.strip() else None
    attributes = {k: v for k, v in attrs.items() if k not in CE_KEPT}
    if "content-type" in headers:
        attributes["datacontenttype"] = headers["content-type"]
    return Incoming(
        name=attrs["type"],
        payload=payload,
        id=attrs["id"],
        source=attrs["source"],
        subject=attrs.get("subject"),
        time=parse_time(attrs.get("time"), None),
        attributes=attributes,
    )


def from_plain(body: Any, index: int | None = None) -> Incoming:
    """``{"name": ..., "payload": {...}, "id": ...}`` (or a structured CloudEvent)."""
    if isinstance(body, dict) and "specversion" in body:
        return from_structured(body, index)
    if not isinstance(body, dict):
        raise BadRequest(
            f"{_at(index)}an event is a JSON object like "
            f'{{"name": "data.updated", "payload": {{}}}}, got {type(body).__name__}',
            index,
        )
    unknown = sorted(set(body) - PLAIN_FIELDS)
    if unknown:
        raise BadRequest(
            f"{_at(index)}unknown field(s) {', '.join(map(repr, unknown))}; an event has "
            f"{', '.join(sorted(PLAIN_FIELDS))}",
            index,
        )
    if "name" not in body:
        raise BadRequest(f"{_at(index)}the event has no 'name'", index)
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise BadRequest(f"{_at(index)}attributes must be a JSON object", index)
    return Incoming(
        name=body["name"],
        payload=body.get("payload"),
        id=body.get("id"),
        source=body.get("source"),
        subject=_optional_str(body, "subject", index),
        time=parse_time(body.get("time"), index, plain=True),
        attributes=attributes,
        project=body.get("project"),
        domain=body.get("domain"),
    )


def parse(headers: Mapping[str, str], body: bytes, binary: bool | None = None) -> Parsed:
    """Read every event of a request (nothing is stored); BadRequest names what is wrong.
    ``binary``: whether the headers hold ``ce-*`` attributes, if known already."""
    media = media_type(headers)
    if media == CE_STRUCTURED:
        return Parsed("structured", [from_structured(load_json(body))])
    if media == CE_BATCH:
        items = load_json(body)
        if not isinstance(items, list):
            raise BadRequest("a CloudEvents batch is a JSON array of CloudEvents")
        return Parsed("batch", [from_structured(e, i) for i, e in enumerate(items)])
    if binary if binary is not None else is_binary_mode(headers):
        return Parsed("binary", [from_binary(headers, body)])
    if not _is_json_media(media):
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not read here; send application/json, "
            f"{CE_STRUCTURED}, {CE_BATCH} or a binary-mode CloudEvent (ce-* headers)"
        )
    found = load_json(body)
    if isinstance(found, dict) and "events" in found and "name" not in found:
        extra = sorted(set(found) - {"events"})
        if extra or not isinstance(found["events"], list):
            raise BadRequest('a batch is {"events": [event, ...]} and nothing else')
        found = found["events"]
    if isinstance(found, list):
        return Parsed("plain-batch", [from_plain(e, i) for i, e in enumerate(found)])
    return Parsed("plain", [from_plain(found)])


# -- signatures ------------------------------------------------------------------------------
def check_signature(
    cfg: ApiConfig, headers: Mapping[str, str], body: bytes, parsed: Parsed
) -> Delivery | None:
    """Refuse (401) a request holding an event that a webhook rule protects unless it is
    signed per Standard Webhooks (``api/webhooks.py``); the verified delivery, or None."""
    return webhooks.verify(
        cfg.webhook_rules,
        headers,
        body,
        ((e.name, e.source if e.source is not None else DEFAULT_SOURCE) for e in parsed.events),
        binary_mode=parsed.transport == "binary",
    )


# -- storing ---------------------------------------------------------------------------------
@dataclass
class Stored:
    ids: list[str]
    duplicates: list[str]
    redelivered: bool = False  # a webhook-id delivered before: nothing stored this time


def prepare(inst: Instance, events: list[Incoming], cfg: ApiConfig) -> list[dict[str, Any]]:
    """The rows to insert; refuses the first bad event (naming its index in a batch)."""
    rows, now, batch = [], time.time(), len(events) != 1
    for i, e in enumerate(events):
        index = i if batch else None
        try:
            text = None if e.payload is None else _encoded(e.payload)
            if text is not None and _too_big(text, e.payload, cfg.max_event_bytes):
                raise PayloadTooLarge(
                    f"{_at(index)}the payload is over {cfg.max_event_bytes} bytes "
                    "(HEADWATER_MAX_EVENT_BYTES); store large data as an artifact and "
                    "send its URI",
                    index,
                )
            payload = event_api.validate(
                e.name,
                e.payload,
                e.id,
                e.source,
                subject=e.subject,
                attributes=e.attributes,
                encoded=text,
            )
            project = check_name(e.project, "project") if e.project else inst.project
            domain = check_name(e.domain, "domain") if e.domain else inst.domain
        except PayloadTooLarge:
            raise
        except UserInputError as exc:
            raise BadRequest(f"{_at(index)}{exc}", index) from None
        rows.append(
            {
                "id": e.id or uuid.uuid4().hex,
                "name": e.name,
                "source": e.source or DEFAULT_SOURCE,
                "project": project,
                "domain": domain,
                "time": e.time if e.time is not None else now,
                "payload": payload,
                "subject": e.subject,
                "attributes": e.attributes,
            }
        )
        if text is not None and payload is e.payload:  # encoded once, stored as such
            rows[-1]["payload_json"] = text
    return rows


def _encoded(payload: Any) -> str | None:
    """The payload as stored (keys sorted), or None when it is not JSON (validate says why)."""
    try:
        return json.dumps(payload, sort_keys=True)
    except (TypeError, ValueError):
        return None


def _too_big(text: str, payload: Any, limit: int) -> bool:
    """Whether the payload is over ``limit`` bytes of UTF-8 JSON. ``text`` escapes every
    non-ASCII character, so it is never shorter: measured again only when it is over."""
    if len(text) <= limit:
        return False
    return len(json.dumps(payload, ensure_ascii=False).encode()) > limit


def store(inst: Instance, rows: list[dict[str, Any]], delivery: Delivery | None = None) -> Stored:
    """Insert every row in one transaction. A source and id seen before with the same
    content is a duplicate (not written); with other content a 409 that stores nothing."""
    with inst.db.transaction() as tx:
        return _insert(tx, rows, delivery)


def store_now(
    inst: Instance, rows: list[dict[str, Any]], delivery: Delivery | None = None
) -> Stored | None:
    """``store`` if the database takes the write at once, else None (nothing written).

    The server calls this on its event loop: a free SQLite write lock makes the request
    ~0.1 ms cheaper than a hop to a thread; a busy one must not stall the loop.
    """
    try:
        with inst.db.transaction_now() as tx:
            return _insert(tx, rows, delivery)
    except Busy:
        return None


async def store_on_loop(
    inst: Instance, rows: list[dict[str, Any]], delivery: Delivery | None = None
) -> Stored | None:
    """``store_now``, tried again for up to ``LOOP_RETRY`` seconds while SQLite's write lock
    is held by another connection; None if it stayed busy (nothing written).

    The holder is mostly the reactor deciding a batch, for a few hundred microseconds. The
    loop yields between attempts (other requests go on meanwhile): cheaper than the thread
    the caller falls back to, whose wait in SQLite's busy handler sleeps 1 ms at least."""
    stored = store_now(inst, rows, delivery)
    if stored is not None or inst.db.dialect != "sqlite":
        return stored
    deadline = time.monotonic() + LOOP_RETRY
    while stored is None and time.monotonic() < deadline:
        await asyncio.sleep(0)
        stored = store_now(inst, rows, delivery)
    return stored


def _insert(tx: Any, rows: list[dict[str, Any]], delivery: Delivery | None) -> Stored:
    out = Stored([], [])
    if delivery is not None and not webhook_deliveries.remember_delivery(
        tx, delivery.sender, delivery.id, delivery.timestamp, 2 * webhooks.TOLERANCE
    ):
        out.redelivered = True
        return out
    batch = len(rows) != 1
    for i, row in enumerate(rows):
        try:
            seq = event_api.store(tx, row)
        except ConflictError as exc:
            index = i if batch else None
            raise Conflict(f"{_at(index)}{exc}", index) from None
        out.ids.append(row["id"])
        if seq is None:
            out.duplicates.append(row["id"])
    return out
