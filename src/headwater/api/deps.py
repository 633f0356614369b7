"""What routes get from the app: the instance (and, through GUARD, the caller)."""

from __future__ import annotations

from fastapi import Depends, Request

from headwater.api.access import access
from headwater.instance import Instance

# Every router declares this: the one place where tokens and roles will be checked.
GUARD = [Depends(access)]


# ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its
# thread pool: a hop per dependency was a large part of a small request's cost.
async def instance(request: Request) -> Instance:
    """The instance the app serves. Routes pass it to engine functions explicitly, or wrap
    client calls in ``inst.use()`` (the client reads a thread-local default)."""
    inst: Instance = request.app.state.instance
    return inst
