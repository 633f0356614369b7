"""``/api/v1/executions``: list, get, relaunch and cancel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from headwater import client
from headwater.api import schemas
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, MAX_ROW_NUMBER, instance
from headwater.api.errors import Forbidden
from headwater.engine.execute import queue
from headwater.engine.execute.relaunch_process import relaunch_isolated
from headwater.errors import AuthError
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1/executions", tags=["executions"], dependencies=GUARD)


@router.get("", response_model=list[schemas.Execution], response_model_exclude_none=False)
def list_executions(
    workflow: str | None = None,
    launch_plan: str | None = None,
    status: str | None = Query(None, description="queued, running, succeeded, failed, ..."),
    limit: int = Query(100, ge=1, le=10_000),
    project: str | None = Query(
        None, description="one project, or '*' (the default) for every project the token sees"
    ),
    domain: str | None = None,
    since: str | None = Query(None, description="created at or after (ISO date or time)"),
    until: str | None = Query(None, description="created before (ISO date or time)"),
    offset: int = Query(0, ge=0, le=MAX_ROW_NUMBER, description="skip this many (the next page)"),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[schemas.Execution]:
    """Executions newest first (a token for one project sees only that project's)."""
    if project is not None and project != client.ALL_PROJECTS:
        who.check_project(project)
    elif not who.all_projects:
        project = who.project
    else:
        project = client.ALL_PROJECTS
    with inst.use():
        found = client.list_executions(
            workflow,
            launch_plan,
            status,
            limit,
            project,
            domain,
            since=since,
            until=until,
            offset=offset,
        )
        return [e.to_model() for e in found]


@router.get("/{execution_id}", response_model=schemas.Execution)
def get(
    execution_id: str,
    nodes: bool = False,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.Execution:
    """An execution; ``?nodes=true`` adds its task calls."""
    with inst.use():
        ex = client.get_execution(execution_id)
        who.check_project(ex.project)
        return ex.to_model(nodes=nodes)


@router.get("/{execution_id}/produced", response_model=list[schemas.ArtifactVersion])
def produced(
    execution_id: str, inst: Instance = Depends(instance), who: Principal = Depends(access)
) -> list[schemas.ArtifactVersion]:
    """The artifact versions an execution produced, oldest first."""
    with inst.use():
        ex = client.get_execution(execution_id)
        who.check_project(ex.project)
        return [v.to_model() for v in ex.produced]


@router.post("/{execution_id}/relaunch", status_code=201, response_model=schemas.Execution)
def relaunch(
    execution_id: str,
    body: schemas.Relaunch | None = None,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.Execution:
    """Queue a repeat with the recorded inputs (exact artifact versions), except overrides:
    ``inputs`` as JSON values, ``text_inputs`` as command-line text converted to each input's
    declared type; an input may name an artifact version instead (an ``hw://`` URI, exact or
    query), recorded as consumed. The workers of ``headwater up`` run it."""
    with inst.use():
        who.check_project(client.get_execution(execution_id).project)
    try:
        new_id = relaunch_isolated(
            inst,
            execution_id,
            body.inputs if body else None,
            body.text_inputs if body else None,
            allowed_project=who.project,
        )
    except AuthError as exc:
        raise Forbidden(str(exc)) from None
    with inst.use():
        return client.get_execution(new_id).to_model()


@router.post("/{execution_id}/cancel", response_model=schemas.Execution)
def cancel(
    execution_id: str, inst: Instance = Depends(instance), who: Principal = Depends(access)
) -> schemas.Execution:
    """Cancel a queued or running execution: it is ``cancelled`` at once (with its
    ``headwater.execution.failed`` event, status ``cancelled``), and the worker running it
    kills its process. 409 when it has already ended."""
    with inst.use():
        who.check_project(client.get_execution(execution_id).project)
        queue.cancel(inst, execution_id, by=who.name)
        return client.get_execution(execution_id).to_model()
