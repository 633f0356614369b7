"""``/api/v1/blobs/{key}``: the stored bytes behind blob-backed values (for client mode).

Keys are content hashes (``sha256/ab/<62 hex>``), found in the ``value`` literal of an artifact
version or execution output. Any token role may read them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from headwater.api.deps import GUARD, instance
from headwater.instance import Instance
from headwater.storage.blobs import check_key

router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"], dependencies=GUARD)


@router.get("/{key:path}", response_class=Response)
async def get_blob(key: str, inst: Instance = Depends(instance)) -> Response:
    """The bytes stored under ``key``."""
    check_key(key)
    data = await run_in_threadpool(inst.blobs.get_bytes, key)
    return Response(data, media_type="application/octet-stream")
