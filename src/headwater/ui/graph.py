"""``/graph``: the meta-workflow graph — workflows, the artifacts and events they produce or
read, the launch plans listening to them and the workflows those start — with each
workflow's and launch plan's last run and recent failures, and the warnings about triggers
listening to names nothing declares. The page lists them (tables, readable without
JavaScript); ``static/graph.js`` draws the graph from ``/ui/graph.json``, the same model
``GET /api/v1/graph`` returns (``client.graph``), with a link on every node."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from headwater import client
from headwater.definitions.names import check_name
from headwater.errors import UserInputError
from headwater.instance import Instance
from headwater.ui.render import HEADERS, page

router = APIRouter(include_in_schema=False)


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def href(node: Any) -> str:
    """Where a node links: a workflow's executions, a launch plan's page, an artifact's
    search; an event's list."""
    if node.kind == "workflow":
        return "/executions?" + urlencode({"workflow": node.name})
    if node.kind == "launch_plan":
        return "/launch-plans/" + quote(node.name, safe="")
    if node.kind == "artifact":
        return "/?" + urlencode({"name": node.name})
    return "/events"


def when(ts: float | None) -> str:
    """A run's time as the tables show it (UTC, to the minute)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _scope(request: Request) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(form, errors, project to read: a name, ``*``, or None when refused)."""
    q = request.query_params
    form = {"project": q.get("project", "").strip(), "domain": q.get("domain", "").strip()}
    errors: dict[str, str] = {}
    for field in ("project", "domain"):
        if form[field]:
            try:
                check_name(form[field], field)
            except UserInputError as exc:
                errors[field] = str(exc)
    who: Any = getattr(request.state, "principal", None)
    project = form["project"] or None
    if project is not None and who is not None and not who.may_see(project):
        errors["project"] = f"your token may not read project {project!r}"
    if errors:
        return form, errors, None
    if project is None:
        project = client.ALL_PROJECTS if who is None or who.all_projects else str(who.project)
    return form, errors, project


@router.get("/graph")
def graph(request: Request) -> Response:
    """The graph page: the scope form, warnings, the drawing and the tables of counts."""
    form, errors, project = _scope(request)
    found = None
    if project is not None:
        with _inst(request).use():
            found = client.graph(project, form["domain"] or None)
    query = urlencode({k: v for k, v in form.items() if v})
    nodes = found.nodes if found else []
    return page(
        "graph.html",
        status=400 if errors else 200,
        title="Meta-workflow graph",
        form=form,
        errors=errors,
        graph=found,
        workflows=[n for n in nodes if n.kind == "workflow"],
        plans=[n for n in nodes if n.kind == "launch_plan"],
        href=href,
        when=when,
        data_url="/ui/graph.json" + (f"?{query}" if query else ""),
        nav="graph",
    )


@router.get("/ui/graph.json")
def graph_json(request: Request) -> Response:
    """The graph the page draws: ``GET /api/v1/graph``'s model, each node with its link."""
    form, errors, project = _scope(request)
    if project is None:
        return JSONResponse({"error": "; ".join(errors.values())}, status_code=400, headers=HEADERS)
    with _inst(request).use():
        found = client.graph(project, form["domain"] or None)
    body = found.to_dict()
    for node, wire in zip(found.nodes, body["nodes"], strict=True):
        wire["href"] = href(node)
    return JSONResponse(body, headers=HEADERS)
