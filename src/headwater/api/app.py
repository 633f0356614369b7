"""``create_app(instance)``: the FastAPI application, assembled in one place."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from headwater.api import errors
from headwater.api.config import ApiConfig
from headwater.api.metrics import registry_for
from headwater.api.routes import artifacts, blobs, events, executions, health, launch_plans
from headwater.instance import Instance, get_instance

API_PREFIX = "/api/v1"


def create_app(
    instance: Instance | None = None,
    *,
    config: ApiConfig | None = None,
    worker_processes: Callable[[], int] | None = None,
) -> FastAPI:
    """The HTTP API over ``instance`` (the default instance when None)::

        from fastapi.testclient import TestClient
        client = TestClient(create_app(Instance.ephemeral(tmp_path)))
        client.post("/api/v1/events", json={"name": "data.updated", "payload": {"k": 1}})

    ``config`` defaults to ``ApiConfig.from_env()`` (size limits, webhook secrets);
    ``worker_processes`` reports how many workers ``headwater up`` supervises (a metric).
    """
    from headwater import __version__

    inst = instance if instance is not None else get_instance()
    app = FastAPI(
        title="Headwater",
        version=__version__,
        description="Reactive workflows: artifacts, executions, launch plans and events.",
        openapi_url="/openapi.json",
    )
    app.state.instance = inst
    app.state.config = config if config is not None else ApiConfig.from_env()
    app.state.registry = registry_for(inst, worker_processes)
    errors.install(app)
    for module in (health, events, artifacts, executions, launch_plans, blobs):
        app.include_router(module.router)
    return app
