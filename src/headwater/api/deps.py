"""What routes get from the app: the instance (and, through GUARD, the caller)."""

from __future__ import annotations

from fastapi import Depends, Request

from headwater.api.access import access
from headwater.api.errors import BadRequest
from headwater.definitions.storable import text_problem
from headwater.instance import Instance


async def storable_params(request: Request) -> None:
    """Refuse a path or query parameter no backend can look up (a ``%00`` decodes to NUL,
    which PostgreSQL text cannot hold) with a 400 naming it, the same on every backend."""
    found = [("path", k, v) for k, v in request.path_params.items()]
    found += [("query", k, v) for k, v in request.query_params.multi_items()]
    for where, name, value in found:
        problem = isinstance(value, str) and text_problem(value)
        if problem:
            raise BadRequest(
                f"the {where} parameter {name!r} contains {problem}; send valid Unicode text "
                "without NUL characters"
            )


# Every router declares this: the one place where tokens and roles will be checked (and
# parameters that cannot be looked up are refused).
GUARD = [Depends(access), Depends(storable_params)]


# ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its
# thread pool: a hop per dependency was a large part of a small request's cost.
async def instance(request: Request) -> Instance:
    """The instance the app serves. Routes pass it to engine functions explicitly, or wrap
    client calls in ``inst.use()`` (the client reads a thread-local default)."""
    inst: Instance = request.app.state.instance
    return inst


# The largest offset or sequence number a query parameter may carry: beyond any table, and
# far below what overflows a 64-bit integer in SQLite or PostgreSQL (a 422 instead of a 500).
MAX_ROW_NUMBER = 2**53
