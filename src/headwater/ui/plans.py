"""The launch plan pages. ``/launch-plans``: every launch plan name (paged) with its
workflow, trigger in words, number of versions, active version and last executions (among
the instance's latest executions).
``/launch-plans/<name>?project=&domain=`` (default: the server's project and domain): every
version with what changed from the one before, the plan's recent decisions (fired or not and
why) and executions, and the activate/deactivate controls.

The controls post to this page's own routes, which call the same client functions as the
REST routes (``client.activate`` / ``client.deactivate``, on the server's project and domain,
so they show only there); viewers see no controls and are refused (403). Reads go through
``headwater.client`` like the REST API's; a token for one project sees only that project."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from headwater import client
from headwater.errors import NotFoundError, UserInputError
from headwater.instance import Instance
from headwater.ui import plan_diff, session
from headwater.ui.render import HEADERS, error_page, page
from headwater.ui.words import in_words

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
RECENT = 20  # executions and decisions on the detail page
LAST_RUNS = 3  # executions per plan on the list


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def _principal(request: Request) -> Any:
    return getattr(request.state, "principal", None)


def plan_path(inst: Instance, name: str, project: str, domain: str) -> str:
    """The detail page of a plan (project and domain in the query when not the server's)."""
    if (project, domain) == (inst.project, inst.domain):
        return f"/launch-plans/{name}"
    return f"/launch-plans/{name}?" + urlencode({"project": project, "domain": domain})


@router.get("/launch-plans")
def launch_plans(request: Request) -> Response:
    """Launch plans by project, domain and name: workflow, trigger in words, versions, the
    active version and the last executions; paged on the server."""
    inst = _inst(request)
    page_text = request.query_params.get("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        return error_page(400, "Bad page", f"page {page_text!r} is not a positive whole number")
    number = int(page_text)
    who = _principal(request)
    projects = None if who is None or who.all_projects else [str(who.project)]
    with inst.use():
        found = client.launch_plan_summaries(projects, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
        shown = found[:PAGE_SIZE]
        runs = client.launch_plan_runs([(s.project, s.domain, s.name) for s in shown], LAST_RUNS)
        rows = [
            {
                "summary": s,
                "href": plan_path(inst, s.name, s.project, s.domain),
                "trigger": in_words(s.shown.spec),
                "runs": runs.get((s.project, s.domain, s.name), []),
            }
            for s in shown
        ]
    return page(
        "launch_plans.html",
        title="Launch plans",
        rows=rows,
        number=number,
        prev_link=f"/launch-plans?page={number - 1}" if number > 1 else None,
        next_link=f"/launch-plans?page={number + 1}" if len(found) > PAGE_SIZE else None,
        nav="launch-plans",
    )


def _version_rows(versions: list[Any]) -> list[dict[str, Any]]:
    """Newest first, each with its number (1 = first registered) and what changed from the
    version registered before it."""
    rows = []
    for i, lp in enumerate(versions):
        older = versions[i + 1] if i + 1 < len(versions) else None
        rows.append(
            {
                "lp": lp,
                "number": len(versions) - i,
                "trigger": in_words(lp.spec),
                "changes": None
                if older is None
                else plan_diff.changes(
                    older.spec, lp.spec, older.workflow_version, lp.workflow_version
                ),
                "diff": ""
                if older is None
                else plan_diff.unified(
                    older.spec,
                    lp.spec,
                    f"version {len(versions) - i - 1}",
                    f"version {len(versions) - i}",
                ),
            }
        )
    return rows


@router.get("/launch-plans/{name}")
def launch_plan(request: Request, name: str) -> Response:
    """Every version of one launch plan, newest first, with what changed, its recent
    decisions and executions, and the controls (editors, on the server's project)."""
    inst = _inst(request)
    q = request.query_params
    project = q.get("project", "").strip() or inst.project
    domain = q.get("domain", "").strip() or inst.domain
    before_text = q.get("before", "").strip()
    if before_text and not before_text.isdigit():
        return error_page(400, "Bad page", f"before={before_text!r} is not a decision id")
    who = _principal(request)
    if who is not None and not who.may_see(project):
        return error_page(
            403,
            "Forbidden",
            f"launch plan {name!r} is in project {project!r}; your token is for {who.project!r}",
        )
    try:
        with inst.use():
            versions = client.launch_plan_versions(name, project, domain)
            if not versions:
                raise NotFoundError(f"no launch plan {name!r} in {project}/{domain}")
            recent = client.list_executions(None, name, None, RECENT, project, domain)
            decisions = client.launch_plan_decisions(
                name, project, domain, RECENT, int(before_text) if before_text else None
            )
    except NotFoundError as exc:
        return error_page(404, "Not found", str(exc))
    except UserInputError as exc:
        return error_page(400, "Bad launch plan address", str(exc))
    rows = _version_rows(versions)
    here = plan_path(inst, name, project, domain)
    older = None
    if decisions.next_before is not None:
        older = here + ("&" if "?" in here else "?") + f"before={decisions.next_before}"
    return page(
        "launch_plan.html",
        title=f"Launch plan {name}",
        name=name,
        project=project,
        domain=domain,
        rows=rows,
        active=next((r for r in rows if r["lp"].active), None),
        workflow=versions[0].workflow,
        recent=recent,
        decisions=decisions.decisions,
        older_decisions=older,
        paged=bool(before_text),
        here=here,
        can_edit=session.can_edit(request) and (project, domain) == (inst.project, inst.domain),
        csrf=session.csrf_token(request),
        nav="launch-plans",
    )


def _done(name: str) -> RedirectResponse:
    return RedirectResponse(f"/launch-plans/{name}", status_code=303, headers=HEADERS)


def _check_project(request: Request) -> None:
    who: Any = _principal(request)
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
