"""``/api/v1/events``: events in (CloudEvents or plain JSON), stored events and decisions out."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from headwater import client
from headwater.api import ingest, schemas
from headwater.api.access import Principal, access
from headwater.api.checkpoints import LoopCheckpoints
from headwater.api.config import ApiConfig
from headwater.api.deps import GUARD, MAX_ROW_NUMBER, instance
from headwater.api.errors import PayloadTooLarge
from headwater.api.metrics import EVENTS_RECEIVED
from headwater.engine.react import events as event_api
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1/events", tags=["events"], dependencies=GUARD)

_INLINE_ROWS = 16
_ref = "#/components/schemas/"
_EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": _ref + "PlainEvent"},
                        {"$ref": _ref + "PlainBatch"},
                        {"type": "array", "items": {"$ref": _ref + "PlainEvent"}},
                    ]
                }
            },
            ingest.CE_STRUCTURED: {"schema": {"$ref": _ref + "StructuredCloudEvent"}},
            ingest.CE_BATCH: {
                "schema": {"type": "array", "items": {"$ref": _ref + "StructuredCloudEvent"}}
            },
        },
    },
    "responses": {
        str(code): {
            "description": why,
            "content": {"application/json": {"schema": {"$ref": _ref + "ErrorBody"}}},
        }
        for code, why in (
            (400, "malformed JSON, CloudEvent or batch (the index of the bad event is given)"),
            (401, "a webhook signature is missing, wrong or too old (Standard Webhooks)"),
            (409, "an event's source and id were stored before with another content"),
            (413, "the body or one event is over the size limit"),
            (415, "a Content-Type this endpoint does not read"),
        )
    },
}


@router.post(
    "",
    status_code=202,
    response_model=schemas.EventsAccepted,
    openapi_extra=_EVENT_BODY,
)
async def post_events(request: Request, who: Principal = Depends(access)) -> Response:
    """Store events for the reactor: a CloudEvent 1.0 (structured or binary mode), a
    CloudEvents batch, a plain ``{"name", "payload", "id"}`` event or a plain batch
    (``{"events": [...]}`` or a JSON array). All or nothing. An event is identified by its
    source and id: seen before with the same content it is the same event (listed in
    ``duplicates``), with another content a 409. Binary mode: ``ce-specversion``,
    ``ce-type``, ``ce-id``, ``ce-source`` headers and the JSON payload as the body.
    Events protected by a webhook secret need ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` (Standard Webhooks); a webhook-id delivered before is answered 202
    with ``"redelivered": true`` and stores nothing."""
    # ``fastpath.App`` answers these requests before its router, calling ``accept`` as well:
    # this route documents the endpoint (OpenAPI) and serves an app assembled without it.
    return Response(await accept(request, who), status_code=202, media_type="application/json")


async def accept(request: Request, who: Principal) -> bytes:
    """Read, check and store the events of one ``POST /api/v1/events`` for ``who``; the body
    of the 202 answer (JSON). Errors are raised (``HeadwaterError``), for the app's handlers
    to answer."""
    inst: Instance = request.app.state.instance
    cfg: ApiConfig = request.app.state.config
    headers = request.headers
    binary = ingest.is_binary_mode(headers)
    body = await ingest.read_body(
        request, cfg, single=binary or ingest.media_type(headers) == ingest.CE_STRUCTURED
    )
    parsed = ingest.parse(headers, body, binary)
    if parsed.transport == "plain" and len(body) > cfg.max_event_bytes:
        raise PayloadTooLarge(
            f"the event is {len(body)} bytes; the limit is {cfg.max_event_bytes} bytes "
            "(HEADWATER_MAX_EVENT_BYTES) — store large data as an artifact and send its URI"
        )
    delivery = ingest.check_signature(cfg, headers, body, parsed)
    rows = ingest.prepare(inst, parsed.events, cfg)
    for row in rows:
        who.check_project(row["project"])
    stored = ingest.Stored([], [])
    if rows:
        # A few rows are written on the loop when the write lock is free (cheaper than a
        # thread hop); a big batch would hold the loop for milliseconds, so it gets a thread.
        inline = None
        if len(rows) <= _INLINE_ROWS:
            checkpoints: LoopCheckpoints = request.app.state.checkpoints
            checkpoints.before_commit()
            inline = await ingest.store_on_loop(inst, rows, delivery)
            if inline is not None:
                checkpoints.committed()
        if inline is None:
            inline = await run_in_threadpool(ingest.store, inst, rows, delivery)
        stored = inline
    answer: dict[str, Any] = {
        "accepted": len(stored.ids),
        "ids": stored.ids,
        "duplicates": stored.duplicates,
    }
    if stored.redelivered:
        answer["redelivered"] = True
    else:
        _received(parsed.transport).inc(len(rows))
    return json.dumps(answer).encode()


@functools.cache
def _received(transport: str) -> Any:
    """The counter of one transport (``labels()`` looks it up under a lock on every call)."""
    return EVENTS_RECEIVED.labels(transport)


@router.get("", response_model=list[schemas.Event])
def list_events(
    name: str | None = None,
    since: datetime | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    until: datetime | None = Query(None, description="only events before this time"),
    source: str | None = Query(None, description="only events this source sent"),
    project: str | None = None,
    before: int | None = Query(
        None,
        ge=1,
        le=MAX_ROW_NUMBER,
        description="page back: events older than this seq (the last one seen)",
    ),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[schemas.Event]:
    """Stored events newest first (without decisions; get one event for those), filtered by
    name, source, project and time (``since`` <= time < ``until``). A token for one project
    sees only that project's events."""
    if project is None and not who.all_projects:
        project = who.project
    with inst.use():
        found = client.list_events(
            name, since, limit, until=until, source=source, project=project, before=before
        )
        return [e.to_model() for e in found if who.may_see(e.project)]


@router.get(
    "/{event_id}",
    response_model=schemas.Event,
    responses={409: {"description": "several sources sent this id: add ?source="}},
)
def get(
    event_id: str,
    source: str | None = Query(None, description="the event's source, when several sent the id"),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.Event:
    """An event with the reactor's decisions: which launch plans fired and, for those that
    did not, why not (``decided`` is false while it waits for the reactor). An id that several
    sources used is a 409 listing them, unless ``source`` names one."""
    event = event_api.get(inst, event_id, source, who.may_see)
    who.check_project(event.project)
    return event.to_model()


@router.post("/replay", response_model=list[schemas.ReplayedDecision])
def replay(
    body: schemas.ReplayRequest,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[schemas.ReplayedDecision]:
    """Deliver past events (``since`` <= time < ``until``) again to one active launch plan; a
    backfill. Every decision is recorded as usual and returned: an event it already fired for
    is "not_fired" (already fired, exactly once), the others fire now. 404 when the launch
    plan has no active version with triggers."""
    # Imported on first use: only this route needs the reactor.
    from datetime import UTC

    from headwater.engine.react.reactor import Reactor

    who.check_project(body.project or inst.project)

    def seconds(at: datetime) -> float:
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()

    until = None if body.until is None else seconds(body.until)
    decisions = Reactor(inst).replay(
        body.launch_plan, seconds(body.since), until, body.project, body.domain
    )
    return [
        schemas.ReplayedDecision(
            event_id=d.event_id,
            launch_plan=d.listener.lp_name,
            launch_plan_version=d.listener.lp_version,
            trigger=d.listener.path,
            outcome=d.outcome,
            reason=d.reason,
            execution_id=d.execution_id,
        )
        for d in decisions
    ]
