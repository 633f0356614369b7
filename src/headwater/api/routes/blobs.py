"""``/api/v1/blobs/{key}``: the stored bytes behind blob-backed values (for client mode).

Keys are content hashes (``sha256/ab/<62 hex>``), found in the ``value`` literal of an artifact
version or in an execution's inputs and outputs. Reads are scoped by project: name what the
blob belongs to, ``?uri=hw://<project>/<domain>/<name>@<version>`` or ``?execution=<id>``; the
server checks that the caller may see that entity's project and that its stored values
reference the key (else 403 or 404). A token for every project (``*``), or a server without
auth, may also read by key alone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from headwater import client
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, instance
from headwater.api.errors import BadRequest, Forbidden
from headwater.engine.execute.blob_refs import references
from headwater.errors import NotFoundError
from headwater.instance import Instance
from headwater.storage.blobs import check_key

router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"], dependencies=GUARD)


def _owner_literals(
    inst: Instance, who: Principal, uri: str | None, execution: str | None
) -> tuple[str, list[Any]]:
    """(what was named, its stored literals), after checking the caller may see it."""
    with inst.use():
        if uri is not None:
            version = client.get_artifact(uri)
            who.check_project(version.project)
            return version.uri, [version.literal]
        assert execution is not None
        ex = client.get_execution(execution)
        who.check_project(ex.project)
        literals = [*ex.input_literals.values(), *ex.output_literals.values()]
        for node in ex.nodes:
            literals += [*node.input_literals.values(), *node.output_literals.values()]
        return f"execution {ex.id}", literals


def _read(
    inst: Instance, who: Principal, key: str, uri: str | None, execution: str | None
) -> bytes:
    if uri is None and execution is None:
        if not who.all_projects:
            raise Forbidden(
                f"token {who.name!r} is for project {who.project!r}: name what the blob "
                "belongs to, ?uri=hw://<project>/<domain>/<name>@<version> or "
                "?execution=<id>"
            )
    else:
        what, literals = _owner_literals(inst, who, uri, execution)
        if not references(literals, key, inst.blobs):
            raise NotFoundError(f"blob {key} is not part of {what}")
    return inst.blobs.get_bytes(key)


@router.get("/{key:path}", response_class=Response)
async def get_blob(
    key: str,
    uri: str | None = Query(
        None, description="the artifact version whose value holds the blob (hw://...@N)"
    ),
    execution: str | None = Query(
        None, description="the execution whose inputs or outputs hold the blob"
    ),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> Response:
    """The bytes stored under ``key``."""
    check_key(key)
    if uri is not None and execution is not None:
        raise BadRequest("name either ?uri= or ?execution=, not both")
    data = await run_in_threadpool(_read, inst, who, key, uri, execution)
    return Response(data, media_type="application/octet-stream")
