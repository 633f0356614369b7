"""``/launch-plans/<name>``: every version of a launch plan (trigger in words, which is
active), its recent executions, and the activate/deactivate controls. The controls post to
this page's own routes, which call the same client functions as the REST routes
(``client.activate`` / ``client.deactivate``); viewers see no controls and are refused (403)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from headwater import client
from headwater.errors import NotFoundError, UserInputError
from headwater.instance import Instance
from headwater.ui import session
from headwater.ui.render import HEADERS, error_page, page
from headwater.ui.routes import _in_words

router = APIRouter(include_in_schema=False)

RECENT = 20


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def _versions(request: Request, name: str) -> list[Any]:
    inst = _inst(request)
    with inst.use():
        found = client.list_launch_plans()
    return [
        lp
        for lp in found
        if lp.name == name and lp.project == inst.project and lp.domain == inst.domain
    ]


@router.get("/launch-plans/{name}")
def launch_plan(request: Request, name: str) -> Response:
    """Every version of one launch plan, newest first, with the controls (editors)."""
    inst = _inst(request)
    who: Any = getattr(request.state, "principal", None)
    if who is not None and not who.may_see(inst.project):
        return error_page(
            403,
            "Forbidden",
            f"launch plan {name!r} is in project {inst.project!r}; "
            f"your token is for {who.project!r}",
        )
    versions = sorted(_versions(request, name), key=lambda lp: lp.id, reverse=True)
    if not versions:
        return error_page(404, "Not found", f"no launch plan {name!r}")
    with inst.use():
        recent = client.list_executions(None, name, None, RECENT, inst.project, inst.domain)
    rows = [
        {"lp": lp, "number": len(versions) - i, "trigger": _in_words(lp.spec)}
        for i, lp in enumerate(versions)
    ]
    active = next((r for r in rows if r["lp"].active), None)
    return page(
        "launch_plan.html",
        title=f"Launch plan {name}",
        name=name,
        rows=rows,
        active=active,
        workflow=versions[0].workflow,
        recent=recent,
        can_edit=session.can_edit(request),
        csrf=session.csrf_token(request),
        nav="launch-plans",
    )


def _done(name: str) -> RedirectResponse:
    return RedirectResponse(f"/launch-plans/{name}", status_code=303, headers=HEADERS)


def _check_project(request: Request) -> None:
    who: Any = getattr(request.state, "principal", None)
    if who is not None:
        who.check_project(_inst(request).project)


@router.post("/launch-plans/{name}/activate")
async def activate(request: Request, name: str) -> Response:
    """Activate the version picked in the form (the others of this name stop)."""
    _check_project(request)
    version = (await session.form_fields(request)).get("version", "").strip()
    if not version:
        return error_page(400, "No version picked", "pick the version to activate from the list")
    try:
        _set(request, name, version, True)
    except NotFoundError as exc:
        return error_page(404, "Not found", str(exc))
    except UserInputError as exc:
        return error_page(400, "Cannot activate", str(exc))
    return _done(name)


@router.post("/launch-plans/{name}/deactivate")
def deactivate(request: Request, name: str) -> Response:
    """Deactivate the launch plan: its triggers and schedule stop firing."""
    _check_project(request)
    try:
        _set(request, name, None, False)
    except NotFoundError as exc:
        return error_page(404, "Not found", str(exc))
    return _done(name)


def _set(request: Request, name: str, version: str | None, active: bool) -> None:
    with _inst(request).use():
        if active:
            client.activate(name, version)
        else:
            client.deactivate(name)
