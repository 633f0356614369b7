"""``/events`` and ``/events/<id>``: stored events (filtered by name, source and time, paged on
the server) and one event with the reactor's decision for every launch plan that listened,
in words. The event page polls ``/ui/events/<id>/decisions.json`` (``static/live_events.js``)
so its decisions appear while ``up`` runs; editors can replay the event to one active launch
plan (the reactor's ``replay``, as ``POST /api/v1/events/replay``). Viewers see no replay
control and are refused (403), as is a form without the CSRF token (``ui/session.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from headwater import client
from headwater.engine.react.reactor import REPLAYED, Reactor
from headwater.errors import NotFoundError, UserInputError
from headwater.handles import EventRecord
from headwater.instance import Instance
from headwater.ui import session
from headwater.ui.render import HEADERS, environment, error_page, page
from headwater.ui.routes import PAGE_SIZE, _forbidden, _may_see, _token_project
from headwater.ui.words import in_words as _in_words

router = APIRouter(include_in_schema=False)

# What each outcome the reactor records (``trigger_decisions.outcome``) says on the page.
OUTCOMES = {
    "fired": "fired",
    "not_fired": "not fired",
    "waiting": "waiting for the other parts of an AllOf",
    "skipped": "skipped by concurrency",
}
_TIME_HINT = "write a date or time such as 2026-12-03 or 2026-12-03T14:30 (UTC unless it says)"


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def parse_time(text: str) -> tuple[datetime | None, str | None]:
    """An ISO 8601 date or time from a form field (UTC when it names no zone), or the
    problem with it. Empty is no bound."""
    text = text.strip()
    if not text:
        return None, None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, f"{text!r} is not a date or time; {_TIME_HINT}"
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), None


# -- the list ------------------------------------------------------------------------------


@dataclass
class Listing:
    """One page of the events list: the form as typed, its errors, the rows, and the seq to
    page back from (None: no older events)."""

    form: dict[str, str]
    errors: dict[str, str]
    rows: list[EventRecord]
    before: int | None
    older: int | None


def listing(request: Request) -> Listing:
    """The events the list's filters select, a page of them (``before``: the seq of the last
    event of the previous page), or the errors of the filters."""
    q = request.query_params
    form = {k: q.get(k, "").strip() for k in ("name", "source", "since", "until")}
    errors: dict[str, str] = {}
    since, problem = parse_time(form["since"])
    if problem:
        errors["since"] = problem
    until, problem = parse_time(form["until"])
    if problem:
        errors["until"] = problem
    if since and until and until <= since:
        errors["until"] = "until must be later than since (events with since <= time < until)"
    before_text = q.get("before", "").strip()
    before = int(before_text) if before_text.isdigit() and int(before_text) > 0 else None
    if before_text and before is None:
        errors["page"] = f"before={before_text!r} is not an event seq; start from the newest"
    found: list[EventRecord] = []
    if not errors:
        try:
            with _inst(request).use():
                found = client.list_events(
                    form["name"] or None,
                    since,
                    PAGE_SIZE + 1,
                    until=until,
                    source=form["source"] or None,
                    project=_token_project(request),
                    before=before,
                )
        except UserInputError as exc:
            errors["source" if "source" in str(exc) else "name"] = str(exc)
    shown = found[:PAGE_SIZE]
    older = shown[-1].seq if len(found) > PAGE_SIZE else None
    rows = [e for e in shown if _may_see(request, e.project)]
    return Listing(form, errors, rows, before, older)


@router.get("/events")
def events(request: Request) -> Response:
    """Stored events newest first, filtered by name, source and time, a page at a time. The
    first page polls ``/ui/events.json`` for new events."""
    found = listing(request)
    live = None
    if found.before is None and not found.errors:
        live = _list_link(request, None, "/ui/events.json")
    return page(
        "events.html",
        status=400 if found.errors else 200,
        title="Events",
        form=found.form,
        errors=found.errors,
        rows=found.rows,
        live=live,
        newest=found.rows[0].seq if found.rows else 0,
        first_link=_list_link(request, None) if found.before is not None else None,
        next_link=_list_link(request, found.older) if found.older is not None else None,
        nav="events",
    )


@router.get("/ui/events.json")
def events_json(request: Request) -> Response:
    """The first page of the events list now (what the list polls): the newest seq and the
    table rows as the page renders them; 400 with the errors for bad filters."""
    found = listing(request)
    if found.errors:
        return JSONResponse({"errors": found.errors}, status_code=400, headers=HEADERS)
    html = environment().get_template("event_rows.html").render(rows=found.rows)
    body = {
        "newest": found.rows[0].seq if found.rows else 0,
        "html": html,
        "next_link": _list_link(request, found.older, "/events") if found.older else None,
    }
    return JSONResponse(body, headers=HEADERS)


def _list_link(request: Request, before: int | None, path: str = "/events") -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "before" and v]
    if before is not None:
        items.append(("before", str(before)))
    return path + ("?" + urlencode(items) if items else "")


# -- one event -------------------------------------------------------------------------------


def _event(request: Request, event_id: str, source: str | None) -> EventRecord | Response:
    """The event, or the page saying why not (404, 400 for an id several sources sent, 403)."""
    try:
        with _inst(request).use():
            record = client.get_event(event_id, source)
    except NotFoundError:
        where = "" if source is None else f" from source {source!r}"
        return error_page(404, "Not found", f"no event {event_id!r}{where}")
    except UserInputError as exc:
        return error_page(400, "Ambiguous event", str(exc))
    if not _may_see(request, record.project):
        return _forbidden(request, f"event {event_id!r}", record.project)
    return record


def trigger_words(spec: dict[str, Any], path: str) -> str:
    """The trigger at ``path`` of a launch plan spec in words ("0" is the first trigger,
    "0.1" the second part of an AllOf/AnyOf there, "schedule" its schedule)."""
    if path == "schedule" and spec.get("schedule"):
        return _in_words({"schedule": spec["schedule"]})
    head, _, part = path.partition(".")
    triggers = spec.get("triggers") or []
    if not head.isdigit() or int(head) >= len(triggers):
        return f"trigger {path}"
    trigger = triggers[int(head)]
    whole = _in_words({"triggers": [trigger]})
    parts = trigger.get("parts") or []
    if not part:
        return whole
    if not part.isdigit() or int(part) >= len(parts):
        return f"{whole} (part {part})"
    leaf = _in_words({"triggers": [parts[int(part)]]})
    return f"{leaf} (part {int(part) + 1} of {len(parts)} of {whole})"


def decision_rows(record: EventRecord, specs: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """The event's decisions as the page shows them, in the order they were made: the
    launch plan, its trigger and the outcome in words, and the execution or the reason."""
    rows = []
    for d in record.decisions:
        spec = specs.get((d.launch_plan, d.launch_plan_version))
        rows.append(
            {
                "launch_plan": d.launch_plan,
                "version": d.launch_plan_version,
                "trigger": trigger_words(spec, d.trigger) if spec else f"trigger {d.trigger}",
                "outcome": d.outcome,
                "words": OUTCOMES.get(d.outcome, d.outcome.replace("_", " ")),
                "reason": d.reason,
                "execution_id": d.execution_id,
                "replayed": d.reason.endswith(REPLAYED),
            }
        )
    return rows


def _plans(record: EventRecord) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """The specs of the event's project/domain launch plans, by (name, version), and the
    names of the active ones (what the replay form offers)."""
    found = [
        lp
        for lp in client.list_launch_plans()
        if (lp.project, lp.domain) == (record.project, record.domain)
    ]
    specs = {(lp.name, lp.version): lp.spec for lp in found}
    return specs, sorted({lp.name for lp in found if lp.active})


def _decisions_html(rows: list[dict[str, Any]], decided: bool) -> str:
    template = environment().get_template("event_decisions.html")
    return template.render(decisions=rows, decided=decided)


def _detail(request: Request, record: EventRecord, status: int = 200, **extra: Any) -> Response:
    with _inst(request).use():
        specs, active = _plans(record)
    listened = {d.launch_plan for d in record.decisions}
    chosen = (
        extra.pop("chosen", None)
        or request.query_params.get("replayed")
        or next((n for n in active if n in listened), None)
    )
    return page(
        "event.html",
        status=status,
        title=f"Event {record.id}",
        e=record.to_model(),
        decisions=decision_rows(record, specs),
        live=_live_link(record),
        active_plans=active,
        chosen=chosen,
        replayed=request.query_params.get("replayed"),
        can_edit=session.can_edit(request),
        csrf=session.csrf_token(request),
        nav="events",
        **extra,
    )


def _live_link(record: EventRecord) -> str:
    path = f"/ui/events/{quote(record.id, safe='')}/decisions.json?"
    return path + urlencode({"source": record.source})


@router.get("/events/{event_id}")
def event(request: Request, event_id: str) -> Response:
    """An event and the reactor's decision for every launch plan that listened."""
    found = _event(request, event_id, request.query_params.get("source") or None)
    if isinstance(found, Response):
        return found
    return _detail(request, found)


@router.get("/ui/events/{event_id}/decisions.json")
def decisions_json(request: Request, event_id: str) -> Response:
    """The event's decisions now (what the event page polls): whether the reactor has
    decided, the decisions, and their table rows as the page renders them (``html``; left
    out when ``known``, the number of decisions the caller shows, is still the number)."""
    found = _event(request, event_id, request.query_params.get("source") or None)
    if isinstance(found, Response):
        message = "no such event" if found.status_code == 404 else "not allowed"
        return JSONResponse({"error": message}, status_code=found.status_code, headers=HEADERS)
    body: dict[str, Any] = {
        "decided": bool(found.decided),
        "decisions": [d.model_dump() for d in found.to_model().decisions],
    }
    # Decisions are only added: the rows the poller shows (``known``) are still right when
    # there are as many, and rendering them (launch plan specs and all) can be skipped.
    if not found.decisions or request.query_params.get("known") != str(len(found.decisions)):
        with _inst(request).use():
            specs = _plans(found)[0] if found.decisions else {}
        body["html"] = _decisions_html(decision_rows(found, specs), bool(found.decided))
    return JSONResponse(body, headers=HEADERS)


@router.post("/events/{event_id}/replay")
async def replay(request: Request, event_id: str) -> Response:
    """Deliver the event again to the launch plan picked in the form (an active one); the
    decision is recorded as usual and shown on the event page."""
    fields = await session.form_fields(request)
    source = fields.get("source", "").strip() or None
    found = _event(request, event_id, source)
    if isinstance(found, Response):
        return found
    who: Any = getattr(request.state, "principal", None)
    if who is not None:
        who.check_project(found.project)
    name = fields.get("launch_plan", "").strip()
    if not name:
        return _detail(
            request, found, 400, replay_error="pick the launch plan to replay the event to"
        )
    try:
        made = await run_in_threadpool(_replay, request, found, name)
    except NotFoundError as exc:
        return _detail(request, found, 400, replay_error=str(exc), chosen=name)
    if not made:
        why = f"launch plan {name!r} does not listen to {found.name!r} events: nothing replayed"
        return _detail(request, found, 400, replay_error=why, chosen=name)
    query = urlencode({"source": found.source, "replayed": name})
    return RedirectResponse(
        f"/events/{quote(found.id, safe='')}?{query}#decisions",
        status_code=303,
        headers=HEADERS,
    )


def _replay(request: Request, record: EventRecord, launch_plan: str) -> int:
    """The reactor's replay (as ``POST /api/v1/events/replay``), narrowed to this event;
    how many decisions it made (none: the launch plan does not listen to this event)."""
    # The seq picks the event; the time window only has to hold it (a second of slack for
    # the datetime's rounding, none for a time no datetime holds).
    since = record.timestamp.timestamp() - 1.0 if record.timestamp else -1e300
    made = Reactor(_inst(request)).replay(
        launch_plan, since, None, record.project, record.domain, event_seq=record.seq
    )
    return len(made)
