"""The Executions pages: the list (``/executions``, filtered and paged on the server), one
execution (``/executions/<id>``: status, timings, a timeline of its task calls, each input
with how it was resolved, outputs, error, what triggered it), the Relaunch form
(``/executions/<id>/relaunch``) and the small JSON answers the pages poll for live status.

Relaunching calls the function the REST route calls (``relaunch_isolated``): the UI and the
API relaunch alike. Viewers see no Relaunch control and are refused (403); the form carries
the CSRF token (checked by ``session.ui_access`` before the route runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from headwater import client
from headwater.engine.execute.relaunch_process import relaunch_isolated
from headwater.errors import AuthError, NotFoundError, UserInputError
from headwater.handles import ExecutionStatus
from headwater.ui import session
from headwater.ui.render import HEADERS, error_page, page
from headwater.ui.routes import _forbidden, _inst, _may_see, _not_found, _token_project

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in ExecutionStatus)
TIMELINE_CAP = 200  # task calls drawn at most (the rest are counted)
CHOICES = 200  # compatible versions offered per artifact input at most
POLL_IDS = 100  # executions one live-status request may ask about
_TEXT_FIELDS = ("workflow", "launch_plan", "project")


# --- the list ---------------------------------------------------------------------------


def parse_when(text: str, *, end: bool) -> datetime:
    """A date (``YYYY-MM-DD``) or ISO date-time, in UTC. A bare date as the end of a range
    means the end of that day (``until=2026-12-03`` includes the 3rd)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(
            f"{text!r} is not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _list_link(request: Request, number: int) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v]
    items.append(("page", str(number)))
    return "/executions?" + urlencode(items)


@dataclass
class ListQuery:
    """The list's filters as the form holds them, their problems by field, and the
    ``client.list_executions`` arguments they make."""

    form: dict[str, str]
    errors: dict[str, str]
    number: int
    project: str
    since: datetime | None = None
    until: datetime | None = None

    def read(self, request: Request, limit: int, offset: int, since: Any = None) -> list[Any]:
        """The executions of these filters (``since`` narrows the range further)."""
        start = self.since if since is None or (self.since and self.since > since) else since
        with _inst(request).use():
            return client.list_executions(
                self.form["workflow"] or None,
                self.form["launch_plan"] or None,
                self.form["status"] or None,
                limit,
                self.project,
                None,
                since=start,
                until=self.until,
                offset=offset,
            )


def list_query(request: Request) -> ListQuery:
    """The list's filters from the query string (``workflow``, ``status``, ``launch_plan``,
    ``project``, ``since``, ``until``, ``page``), checked."""
    q = request.query_params
    form = {k: q.get(k, "").strip() for k in (*_TEXT_FIELDS, "status", "since", "until")}
    errors: dict[str, str] = {}
    if form["status"] and form["status"].lower() not in STATUSES:
        errors["status"] = f"unknown status {form['status']!r}; one of {', '.join(STATUSES)}"
    times: dict[str, datetime | None] = {"since": None, "until": None}
    for key in times:
        if form[key]:
            try:
                times[key] = parse_when(form[key], end=key == "until")
            except UserInputError as exc:
                errors[key] = f"{key}: {exc}"
    if times["since"] and times["until"] and times["since"] >= times["until"]:
        errors["until"] = "until must be after since"
    page_text = q.get("page", "1")
    number = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 0
    if number == 0:
        errors["page"] = f"page {page_text!r} is not a positive whole number"
    project = form["project"] or _token_project(request) or client.ALL_PROJECTS
    if project != client.ALL_PROJECTS and not _may_see(request, project):
        errors["project"] = f"your token may not read project {project!r}"
    return ListQuery(form, errors, number, project, times["since"], times["until"])


@router.get("/executions")
def executions(request: Request) -> Response:
    """Executions newest first, filtered by workflow, status, launch plan, project and
    creation time (``since``/``until``), a page at a time."""
    query = list_query(request)
    errors, number = query.errors, query.number
    rows: list[Any] = []
    if not errors:
        try:
            rows = query.read(request, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
        except UserInputError as exc:
            text = str(exc)
            errors["launch_plan" if "launch plan" in text else "workflow"] = text
    more = len(rows) > PAGE_SIZE
    return page(
        "executions.html",
        status=400 if errors else 200,
        title="Executions",
        form=query.form,
        errors=errors,
        rows=rows[:PAGE_SIZE],
        statuses=STATUSES,
        number=max(number, 1),
        page_size=PAGE_SIZE,
        prev_link=_list_link(request, number - 1) if number > 1 else None,
        next_link=_list_link(request, number + 1) if more else None,
        nav="executions",
    )


# --- one execution ----------------------------------------------------------------------

_VIA = {
    "query": "query default",
    "launch plan query": "the launch plan's query default",
    "trigger": "trigger binding (the artifact the trigger fired on)",
    "explicit": "explicit (given as this version)",
}

_SOURCE = {
    "trigger": "trigger binding (from the event's payload)",
    "launch plan fixed": "the launch plan's fixed input",
    "launch plan default": "the launch plan's default input",
    "launch plan query": "the launch plan's query default",
}


@dataclass
class InputRow:
    """One input as the detail page shows it: its value or version and how it was resolved."""

    name: str
    uri: str | None = None
    value: Any = None
    how: str = ""
    query: str | None = None
    kind: str = "value"  # "artifact" or "value"
    extra: dict[str, Any] = field(default_factory=dict)


def _plain_value(literal: Any) -> Any:
    """What to show of a stored input literal: its JSON value, else its preview."""
    if not isinstance(literal, dict):
        return literal
    if literal.get("format") == "json" and "value" in literal:
        return literal["value"]
    return literal.get("preview") or f"({literal.get('format', '?')} value)"


def input_rows(model: Any) -> list[InputRow]:
    """Each input of an execution and how it got its value, from what the engine recorded:
    ``resolved_inputs`` (``via``: query default, launch-plan query, trigger binding,
    explicit) and, for a relaunch, the trigger's ``of`` and ``overrides``."""
    trigger = model.trigger or {}
    relaunch = trigger.get("kind") == "relaunch"
    overrides = set(trigger.get("overrides") or [])
    resolved = model.resolved_inputs or {}
    literals = model.inputs or {}
    rows: list[InputRow] = []
    for name in sorted(set(literals) | set(resolved)):
        r = resolved.get(name)
        row = InputRow(name)
        if isinstance(r, dict) and r.get("uri"):
            row.kind, row.uri, row.query = "artifact", str(r["uri"]), r.get("query")
            how = _VIA.get(str(r.get("via")), str(r.get("via") or "recorded"))
        else:
            row.value = _plain_value(literals.get(name))
            sources = trigger.get("input_sources")
            if isinstance(sources, dict):  # recorded by the reactor when it fired
                how = _SOURCE.get(str(sources.get(name)), "the workflow's default")
            elif trigger.get("launch_plan"):
                how = "from the launch plan (a trigger binding or its fixed/default inputs)"
            elif relaunch:
                how = "value"
            else:
                how = "given when launched, or the workflow's default"
        if relaunch:
            of = trigger.get("of", "?")
            if name in overrides:
                how = "relaunch override (explicit)"
            elif "overrides" in trigger:
                how = f"relaunch: repeated from {of}" + (f" (there: {how})" if row.uri else "")
            else:
                how = f"relaunch of {of}" + (f" (there: {how})" if row.uri else "")
            row.extra["of"] = of
        row.how = how
        rows.append(row)
    return rows


def timeline(ex: Any, nodes: list[Any]) -> dict[str, Any]:
    """The task calls as bars on one time axis (percentages of the execution's span), for an
    SVG drawn without inline styles."""
    shown = nodes[:TIMELINE_CAP]
    starts = [n.started_at for n in shown if n.started_at] + [ex.started_at or ex.created_at]
    starts = [s for s in starts if s is not None]
    if not starts:
        return {"bars": [], "hidden": max(0, len(nodes) - TIMELINE_CAP), "span": 0.0}
    t0 = min(starts)
    now = datetime.now(UTC)
    ends = [n.finished_at or now for n in shown] + [ex.finished_at or now]
    span = max((max(ends) - t0).total_seconds(), 1e-6)
    bars = []
    for n in shown:
        start = ((n.started_at or t0) - t0).total_seconds()
        end = ((n.finished_at or now) - t0).total_seconds()
        x = 100.0 * start / span
        width = max(100.0 * (end - start) / span, 0.4)
        bars.append(
            {
                "node": n,
                "x": round(min(x, 99.6), 2),
                "width": round(min(width, 100.0 - min(x, 99.6)), 2),
                "seconds": end - start,
                "start": start,
                "status": n.status.value,
            }
        )
    return {
        "bars": bars,
        "hidden": max(0, len(nodes) - TIMELINE_CAP),
        "span": span,
    }


def _read_execution(request: Request, execution_id: str) -> tuple[Any, Response | None]:
    """The execution handle, or the 404/403 page to answer instead."""
    try:
        with _inst(request).use():
            ex = client.get_execution(execution_id)
    except NotFoundError:
        return None, _not_found(f"no execution {execution_id!r}")
    if not _may_see(request, ex.project):
        return None, _forbidden(request, f"execution {execution_id!r}", ex.project)
    return ex, None


@router.get("/executions/{execution_id}")
def execution(request: Request, execution_id: str) -> Response:
    """One execution: status, timings, the timeline of its task calls, inputs (each with how
    it was resolved), outputs (the versions produced), error and what triggered it."""
    ex, refused = _read_execution(request, execution_id)
    if refused is not None:
        return refused
    with _inst(request).use():
        produced = list(ex.produced)
        nodes = list(ex.nodes)
        model = ex.to_model()
    trigger = model.trigger or {}
    events = [e for e in trigger.get("events") or [] if isinstance(e, dict) and e.get("id")]
    runs = [r.get("id") if isinstance(r, dict) else r for r in trigger.get("runs") or []]
    artifacts = [a if isinstance(a, str) else a.get("uri") for a in trigger.get("artifacts") or []]
    return page(
        "execution.html",
        title=f"Execution {ex.id}",
        ex=model,
        terminal=ex.status.terminal,
        produced=produced,
        inputs=input_rows(model),
        timeline=timeline(ex, nodes),
        node_count=len(nodes),
        trigger_events=events,
        trigger_runs=[r for r in runs if isinstance(r, str)],
        trigger_artifacts=[a for a in artifacts if isinstance(a, str) and a],
        relaunch_of=trigger.get("of") if trigger.get("kind") == "relaunch" else None,
        can_edit=session.can_edit(request),
        nav="executions",
    )


# --- live status ------------------------------------------------------------------------


def _status_json(ex: Any) -> dict[str, Any]:
    return {
        "id": ex.id,
        "status": ex.status.value,
        "terminal": ex.status.terminal,
        "started_at": ex.started_at.isoformat() if ex.started_at else None,
        "finished_at": ex.finished_at.isoformat() if ex.finished_at else None,
        "duration": ex.duration,
    }


@router.get("/ui/executions/{execution_id}.json")
def execution_json(request: Request, execution_id: str) -> Response:
    """An execution's status and timings, which its page polls while it runs."""
    try:
        with _inst(request).use():
            ex = client.get_execution(execution_id)
    except NotFoundError:
        return JSONResponse({"error": f"no execution {execution_id!r}"}, 404, headers=HEADERS)
    if not _may_see(request, ex.project):
        return JSONResponse({"error": f"execution {execution_id!r}"}, 403, headers=HEADERS)
    return JSONResponse(_status_json(ex), headers=HEADERS)


@router.get("/ui/executions.json")
def executions_json(request: Request) -> Response:
    """The status of the executions ``id=...`` (at most ``POLL_IDS``), which the list polls
    for the rows still queued or running. Unknown ids are left out."""
    ids = request.query_params.getlist("id")[:POLL_IDS]
    found = []
    with _inst(request).use():
        for execution_id in ids:
            try:
                ex = client.get_execution(execution_id)
            except NotFoundError:
                continue
            if _may_see(request, ex.project):
                found.append(_status_json(ex))
    return JSONResponse({"executions": found}, headers=HEADERS)


def _row_json(ex: Any) -> dict[str, Any]:
    return {
        **_status_json(ex),
        "workflow": ex.workflow,
        "launch_plan": ex.launch_plan,
        "project": ex.project,
        "domain": ex.domain,
        "created": ex.created_at.strftime("%Y-%m-%d %H:%M:%S") if ex.created_at else "",
        "created_at": ex.created_at.isoformat() if ex.created_at else None,
    }


@router.get("/ui/executions-new.json")
def executions_new_json(request: Request, top: str = "") -> Response:
    """The executions of the list's filters (the same query string) created since ``top``
    (the newest row shown, ISO time), newest first, at most a page: the rows the first page
    of the list adds while it is open."""
    query = list_query(request)
    if query.errors:
        return JSONResponse({"error": query.errors}, 400, headers=HEADERS)
    try:
        # a millisecond early: the shown time is rounded to microseconds (the page drops
        # the rows it already has)
        since = parse_when(top, end=False) - timedelta(milliseconds=1) if top else None
    except UserInputError as exc:
        return JSONResponse({"error": {"top": str(exc)}}, 400, headers=HEADERS)
    try:
        found = query.read(request, PAGE_SIZE, 0, since=since)
    except UserInputError as exc:
        return JSONResponse({"error": {"workflow": str(exc)}}, 400, headers=HEADERS)
    return JSONResponse({"executions": [_row_json(ex) for ex in found]}, headers=HEADERS)


# --- relaunch ---------------------------------------------------------------------------


def _kind_of(version: Any) -> str:
    return str(version.literal.get("type") or version.literal.get("format") or "?")


def _compatible(version: Any) -> list[Any]:
    """Versions of the same artifact holding the same type, newest first."""
    found = client.search_artifacts(
        version.name, None, None, None, CHOICES, version.project, version.domain
    )
    kind = _kind_of(version)
    return [v for v in found if v.name == version.name and _kind_of(v) == kind]


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _relaunch_fields(ex: Any, model: Any) -> list[dict[str, Any]]:
    """The form's inputs: artifact inputs with their compatible versions, plain inputs as
    text (editable when stored as JSON)."""
    fields: list[dict[str, Any]] = []
    for row in input_rows(model):
        if row.uri:
            try:
                current = client.get_artifact(row.uri)
            except NotFoundError:
                fields.append({"row": row, "kind": "artifact", "choices": [], "type": "?"})
                continue
            fields.append(
                {
                    "row": row,
                    "kind": "artifact",
                    "current": current,
                    "type": _kind_of(current),
                    "choices": _compatible(current),
                }
            )
        else:
            literal = (model.inputs or {}).get(row.name) or {}
            editable = literal.get("format") == "json" and "value" in literal
            fields.append(
                {
                    "row": row,
                    "kind": "value",
                    "editable": editable,
                    "text": _text_of(literal["value"]) if editable else _text_of(row.value),
                    "type": str(literal.get("type") or literal.get("format") or "?"),
                }
            )
    return fields


def _may_relaunch(request: Request, ex: Any) -> Response | None:
    """The 403 page for a caller who may not relaunch ``ex`` (a viewer), else None."""
    if not session.can_edit(request):
        who: Any = getattr(request.state, "principal", None)
        return error_page(
            403,
            "Forbidden",
            f"token {getattr(who, 'name', '?')!r} has role {getattr(who, 'role', '?')!r}; "
            "relaunching needs 'editor' or higher",
        )
    return None


def _relaunch_page(
    request: Request,
    ex: Any,
    model: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
) -> Response:
    return page(
        "relaunch.html",
        status=status,
        title=f"Relaunch {ex.id}",
        ex=model,
        fields=_relaunch_fields(ex, model),
        errors=errors or {},
        given=given or {},
        csrf=session.csrf_token(request),
        nav="executions",
    )


@router.get("/executions/{execution_id}/relaunch")
def relaunch_form(request: Request, execution_id: str) -> Response:
    """The Relaunch form, pre-filled with the execution's resolved inputs (editors)."""
    ex, refused = _read_execution(request, execution_id)
    if refused is not None:
        return refused
    denied = _may_relaunch(request, ex)
    if denied is not None:
        return denied
    with _inst(request).use():
        return _relaunch_page(request, ex, ex.to_model())


def _override(request: Request, field_: dict[str, Any], chosen: str) -> tuple[str | None, str]:
    """The exact URI an artifact input is overridden with (None: kept as recorded), or the
    problem with ``chosen``."""
    row = field_["row"]
    if not chosen or chosen == row.uri:
        return None, ""
    if not chosen.startswith("hw://"):
        return None, f"{chosen!r} is not an artifact URI; write hw://PROJECT/DOMAIN/NAME@VERSION"
    try:
        version = client.get_artifact(chosen)
    except NotFoundError:
        return None, f"no artifact version {chosen}"
    except UserInputError as exc:
        return None, str(exc)
    if not _may_see(request, version.project):
        return (
            None,
            f"{version.uri} is in project {version.project!r}, which your token may not read",
        )
    current = field_.get("current")
    if current is None:
        return version.uri, ""
    if version.name != current.name or _kind_of(version) != _kind_of(current):
        return None, (
            f"type mismatch: input {row.name!r} takes a {current.name} ({_kind_of(current)}), "
            f"but {version.uri} is a {version.name} ({_kind_of(version)}); "
            f"pick a version of {current.name}"
        )
    return (None if version.uri == row.uri else version.uri), ""


@router.post("/executions/{execution_id}/relaunch")
async def relaunch(request: Request, execution_id: str) -> Response:
    """Relaunch with the form's inputs: an artifact input's Override (a version from the
    list, or an ``hw://`` URI typed in) must be a version of the same artifact and type;
    plain inputs changed in the form are converted to their declared types. On success, the
    new execution's page (303); on bad input the form again (400), nothing launched."""
    ex, refused = _read_execution(request, execution_id)
    if refused is not None:
        return refused
    denied = _may_relaunch(request, ex)
    if denied is not None:
        return denied
    given = await session.form_fields(request)
    inst = _inst(request)
    errors: dict[str, str] = {}
    overrides: dict[str, str] = {}
    text_inputs: dict[str, str] = {}
    with inst.use():
        model = ex.to_model()
        for f in _relaunch_fields(ex, model):
            name = f["row"].name
            if f["kind"] == "artifact":
                chosen = given.get(f"uri-{name}", "").strip() or given.get(f"version-{name}", "")
                uri, problem = _override(request, f, chosen.strip())
                if problem:
                    errors[name] = problem
                elif uri:
                    overrides[name] = uri
            elif f["editable"]:
                text = given.get(f"input-{name}")
                if text is not None and text != f["text"]:
                    text_inputs[name] = text
        if errors:
            return _relaunch_page(request, ex, model, status=400, errors=errors, given=given)
    who: Any = getattr(request.state, "principal", None)
    allowed = client.ALL_PROJECTS if who is None or who.all_projects else str(who.project)
    try:
        new_id = relaunch_isolated(
            inst, execution_id, overrides or None, text_inputs or None, allowed_project=allowed
        )
    except AuthError as exc:
        return error_page(403, "Forbidden", str(exc))
    except UserInputError as exc:
        text = str(exc)
        named = [n for n in (*overrides, *text_inputs) if f"input {n!r}" in text]
        errors[named[0] if named else "_form"] = text
        with inst.use():
            return _relaunch_page(request, ex, model, status=400, errors=errors, given=given)
    return RedirectResponse(f"/executions/{new_id}", status_code=303, headers=HEADERS)
