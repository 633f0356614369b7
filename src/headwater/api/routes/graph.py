"""``/api/v1/graph``: the meta-workflow graph (workflows, artifacts, events, launch plans)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from headwater import client, schemas
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, instance
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1/graph", tags=["graph"], dependencies=GUARD)


def scoped_project(project: str | None, who: Principal) -> str:
    """The project a caller's graph shows: the one asked for (checked), else the token's, else
    every project."""
    if project is not None and project != client.ALL_PROJECTS:
        who.check_project(project)
        return project
    return client.ALL_PROJECTS if who.all_projects else who.project


@router.get("", response_model=schemas.Graph, response_model_exclude_none=False)
def graph(
    project: str | None = Query(
        None, description="one project, or '*' (the default) for every project the token sees"
    ),
    domain: str | None = Query(None, description="one domain (default: every domain)"),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.Graph:
    """Workflows, the artifacts and events they produce or read, the launch plans listening
    to them and the workflows those start (from registrations and triggers), with each
    workflow's and launch plan's last run and recent failures, and warnings about triggers
    that listen to names nothing declares."""
    with inst.use():
        return client.graph(scoped_project(project, who), domain).to_model()
