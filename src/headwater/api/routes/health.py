"""``/healthz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from headwater.api import schemas
from headwater.api.deps import GUARD, instance
from headwater.instance import Instance

router = APIRouter(tags=["operations"], dependencies=GUARD)


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(inst: Instance = Depends(instance)) -> JSONResponse:
    """200 when the metadata database answers, else 503."""
    try:
        with inst.db.read() as tx:
            tx.scalar("SELECT 1")
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "database": inst.db.dialect})


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
