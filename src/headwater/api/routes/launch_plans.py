"""``/api/v1/launch-plans`` and ``/api/v1/registrations`` (uploaded code, registered in a
child process)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from headwater import client
from headwater.api import schemas
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, MAX_ROW_NUMBER, instance
from headwater.api.errors import BadRequest, PayloadTooLarge
from headwater.engine.register.register_process import register_uploaded
from headwater.engine.register.registration import Registration, check_activate
from headwater.engine.register.registry import MAX_SNAPSHOT_BYTES
from headwater.engine.register.uploads import UploadTooLarge, check_upload
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1", tags=["launch plans"], dependencies=GUARD)


@router.get("/launch-plans", response_model=list[schemas.LaunchPlan])
def list_launch_plans(
    active_only: bool = False,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[schemas.LaunchPlan]:
    """Every registered launch plan version, with whether it is active (a token for one
    project sees only that project's)."""
    with inst.use():
        found = client.list_launch_plans(active_only=active_only)
        return [lp.to_model() for lp in found if who.may_see(lp.project)]


@router.get("/launch-plans/{name}/decisions", response_model=schemas.PlanDecisions)
def decisions(
    name: str,
    project: str | None = None,
    domain: str | None = None,
    limit: int = 20,
    before: int | None = Query(None, ge=1, le=MAX_ROW_NUMBER),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.PlanDecisions:
    """The reactor's recent decisions about launch plan ``name`` (any version) in
    ``project``/``domain`` (default: the server's), newest first: fired with the execution,
    or not and why. ``next_before``, passed as ``before``, pages to older ones."""
    project = project or inst.project
    who.check_project(project)
    with inst.use():
        page = client.launch_plan_decisions(name, project, domain or inst.domain, limit, before)
        return page.to_model()


@router.post("/launch-plans/{name}/activate", response_model=schemas.LaunchPlan)
def activate(
    name: str,
    body: schemas.Activate | None = None,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.LaunchPlan:
    """Activate a version (the newest when none is given); other versions of it stop."""
    who.check_project(inst.project)
    with inst.use():
        return client.activate(name, body.version if body else None).to_model()


@router.post("/launch-plans/{name}/deactivate", response_model=schemas.LaunchPlan)
def deactivate(
    name: str, inst: Instance = Depends(instance), who: Principal = Depends(access)
) -> schemas.LaunchPlan:
    """Deactivate a launch plan: its triggers and schedule stop firing."""
    who.check_project(inst.project)
    with inst.use():
        return client.deactivate(name).to_model()


# JSON-escaped source text is a little larger than the source itself.
MAX_REGISTRATION_BYTES = MAX_SNAPSHOT_BYTES + 4 * 1024 * 1024
_REGISTRATION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": schemas.Registration.model_json_schema()}},
    }
}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = (
        f"the registration is over {limit} bytes; register a smaller package (snapshots "
        f"are limited to {MAX_SNAPSHOT_BYTES} bytes of .py files)"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/registrations",
    status_code=201,
    response_model=schemas.RegistrationResult,
    openapi_extra=_REGISTRATION_BODY,
)
async def register(request: Request, who: Principal = Depends(access)) -> dict[str, Any]:
    """Register the tasks, workflows and launch plans of uploaded code: ``module`` and its
    snapshot ``files`` (what ``headwater register FILE`` sends in client mode). The server
    stores the snapshot and imports it in a child process, never in its own, and never
    imports a path on its machine. An error, exit or endless loop at import is a 422 naming
    the file; ``warnings`` name triggers listening to names nothing declares."""
    inst: Instance = request.app.state.instance
    raw = await _read_limited(request, MAX_REGISTRATION_BYTES)
    # Parsing, hashing and the child process: off the event loop.
    found = await run_in_threadpool(_register_upload, inst, who, raw)
    return {"registered": list(found), "warnings": found.warnings}


def _register_upload(inst: Instance, who: Principal, raw: bytes) -> Registration:
    try:
        body = schemas.Registration.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise BadRequest(_problems(exc)) from None
    if body.path is not None:
        raise BadRequest(
            f"the server does not import paths on its machine ({body.path[:200]!r}); upload the "
            "code instead: `headwater register FILE` or headwater.register(FILE) with "
            "HEADWATER_API_URL set send the module and its files"
        )
    if body.module is None or body.files is None:
        raise BadRequest(
            "give `module` (its dotted name) and `files` (relative path -> source text of "
            "its .py files); `headwater register FILE` with HEADWATER_API_URL set sends them"
        )
    who.check_project(body.project or inst.project)
    activate = check_activate(body.activate)
    try:
        snap = check_upload(body.module, body.root, body.files)
    except UploadTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from None
    return register_uploaded(inst, snap, body.module, body.project, body.domain, activate)


def _problems(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ())) or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "invalid registration: " + "; ".join(parts)
