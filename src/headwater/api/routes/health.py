"""Operations: ``/healthz`` (always open), ``/metrics``, the OpenAPI schema and its pages.

``/metrics``, ``/openapi.json``, ``/docs`` and ``/redoc`` need a token (any role, any project)
when auth is required; ``HEADWATER_METRICS_PUBLIC=1`` opens ``/metrics`` to scrapers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from headwater.api import schemas
from headwater.api.deps import GUARD, instance
from headwater.instance import Instance

router = APIRouter(tags=["operations"], dependencies=GUARD)

OPENAPI_URL = "/openapi.json"


def _ping(inst: Instance) -> None:
    with inst.db.read() as tx:
        tx.scalar("SELECT 1")


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(inst: Instance = Depends(instance)) -> JSONResponse:
    """200 when the metadata database answers, else 503."""
    try:
        await run_in_threadpool(_ping, inst)  # never wait for the database on the event loop
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "database": inst.db.dialect})


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
