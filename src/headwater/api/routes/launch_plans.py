"""``/api/v1/launch-plans`` and ``/api/v1/registrations``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from headwater import client
from headwater.api import schemas
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, instance
from headwater.errors import UserInputError
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1", tags=["launch plans"], dependencies=GUARD)


@router.get("/launch-plans", response_model=list[schemas.LaunchPlan])
def list_launch_plans(
    active_only: bool = False,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[dict[str, Any]]:
    """Every registered launch plan version, with whether it is active (a token for one
    project sees only that project's)."""
    with inst.use():
        found = client.list_launch_plans(active_only=active_only)
        return [lp.to_dict() for lp in found if who.may_see(lp.project)]


@router.post("/launch-plans/{name}/activate", response_model=schemas.LaunchPlan)
def activate(
    name: str,
    body: schemas.Activate | None = None,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> dict[str, Any]:
    """Activate a version (the newest when none is given); other versions of it stop."""
    who.check_project(inst.project)
    with inst.use():
        return client.activate(name, body.version if body else None).to_dict()


@router.post("/launch-plans/{name}/deactivate", response_model=schemas.LaunchPlan)
def deactivate(
    name: str, inst: Instance = Depends(instance), who: Principal = Depends(access)
) -> dict[str, Any]:
    """Deactivate a launch plan: its triggers and schedule stop firing."""
    who.check_project(inst.project)
    with inst.use():
        return client.deactivate(name).to_dict()


@router.post("/registrations", status_code=201, response_model=list[schemas.Registered])
def register(
    body: schemas.Registration,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[Any]:
    """Register every task, workflow and launch plan of a file or module on the server's
    machine (``activate`` activates its launch plans)."""
    who.check_project(body.project or inst.project)
    with inst.use():
        try:
            found = client.register(body.path, body.project, body.domain, body.activate)
        except (SyntaxError, ImportError) as exc:
            raise UserInputError(f"cannot import {body.path!r}: {exc}") from None
        return [r.to_dict() for r in found]
