"""Operations: ``/healthz`` (always open), ``/metrics``, the OpenAPI schema and its pages.

``/metrics``, ``/openapi.json``, ``/docs`` and ``/redoc`` need a token (any role, any project)
when auth is required; ``HEADWATER_METRICS_PUBLIC=1`` opens ``/metrics`` to scrapers.
"""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Depends, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from headwater.api import schemas
from headwater.api.deps import GUARD, instance
from headwater.engine.leader import roles_here
from headwater.instance import Instance

PING_TIMEOUT = 2.0  # seconds /healthz waits for a database connection
MIN_FREE_BYTES = 1 << 20  # below this a local disk counts as full

router = APIRouter(tags=["operations"], dependencies=GUARD)

OPENAPI_URL = "/openapi.json"


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(inst: Instance = Depends(instance)) -> JSONResponse:
    """200 when the metadata database answers and writes can be stored, else 503 with the
    reason (the database does not answer, a write failed for lack of space in the last
    seconds, or a local disk of the database or blob store is all but full)."""
    problem = await run_in_threadpool(storage_problem, inst)
    if problem:
        return JSONResponse(
            {"status": "unavailable", "database": inst.db.dialect, "reason": problem},
            status_code=503,
        )
    body: dict[str, object] = {"status": "ok", "database": inst.db.dialect}
    roles = await run_in_threadpool(roles_here, inst)
    if roles:  # in `headwater up`: whether this one's reactor and scheduler lead or stand by
        body["roles"] = roles
    return JSONResponse(body)


def storage_problem(inst: Instance) -> str | None:
    """Why writes would fail now, or None. A read probe shows a database that is down, but a
    full disk fails only writes that need new space, and a write probe would not (it would
    rewrite a page in place): so also the last such failure in this process (kept 15 s) and
    the free space of local folders, which any process filling them shows."""
    try:
        inst.db.ping(timeout=PING_TIMEOUT)
    except Exception as exc:
        return f"the metadata database does not answer: {exc}"
    for failures in (inst.db.failures, inst.blobs.failures):
        recent = failures.recent()
        if recent:
            return recent
    folders = [inst.blobs.folder] + ([inst.db.path.parent] if inst.db.dialect == "sqlite" else [])
    for folder in folders:
        if folder is None:
            continue
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue
        if free < MIN_FREE_BYTES:
            return f"only {free // 1024} KiB left on the disk of {folder}: free disk space there"
    return None


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get(OPENAPI_URL, include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    """The OpenAPI schema of this API."""
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI over the schema."""
    return get_swagger_ui_html(
        openapi_url=_root(request) + OPENAPI_URL, title=f"{request.app.title} - Swagger UI"
    )


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc over the schema."""
    return get_redoc_html(
        openapi_url=_root(request) + OPENAPI_URL, title=f"{request.app.title} - ReDoc"
    )
