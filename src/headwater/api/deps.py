"""What routes get from the app: the instance and the API settings."""

from __future__ import annotations

from fastapi import Depends, Request

from headwater.api.access import access
from headwater.api.config import ApiConfig
from headwater.instance import Instance

# Every router declares this: the one place where tokens and roles will be checked.
GUARD = [Depends(access)]


def instance(request: Request) -> Instance:
    """The instance the app serves. Routes pass it to engine functions explicitly, or wrap
    client calls in ``inst.use()`` (the client reads a thread-local default)."""
    inst: Instance = request.app.state.instance
    return inst


def config(request: Request) -> ApiConfig:
    cfg: ApiConfig = request.app.state.config
    return cfg
