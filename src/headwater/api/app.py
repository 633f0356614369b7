"""``create_app(instance)``: the FastAPI application, assembled in one place."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI

from headwater import ui
from headwater.api import errors, exposure
from headwater.api.access import OPEN_PATHS, Gate
from headwater.api.checkpoints import LoopCheckpoints
from headwater.api.config import ApiConfig
from headwater.api.deps import GUARD
from headwater.api.fastpath import App
from headwater.api.limits import BodyLimit
from headwater.api.metrics import registry_for
from headwater.api.routes import (
    artifacts,
    blobs,
    events,
    executions,
    graph,
    health,
    launch_plans,
)
from headwater.instance import Instance, get_instance

API_PREFIX = "/api/v1"


def create_app(
    instance: Instance | None = None,
    *,
    config: ApiConfig | None = None,
    worker_processes: Callable[[], int] | None = None,
    host: str | None = None,
    port: int | None = None,
) -> FastAPI:
    """The HTTP API over ``instance`` (the default instance when None)::

        from fastapi.testclient import TestClient
        client = TestClient(create_app(Instance.ephemeral(tmp_path)))
        client.post("/api/v1/events", json={"name": "data.updated", "payload": {"k": 1}})

    ``config`` defaults to ``ApiConfig.from_env()`` (size limits, webhook secrets);
    ``worker_processes`` reports how many workers ``headwater up`` supervises (a metric).
    ``host`` (and ``port``): the address the app will be served on. A non-loopback host is
    refused unless auth is required (``HostError``); otherwise it is recorded in the database
    before anything binds, and the app requires a token for its whole life.
    """
    from headwater import __version__
    from headwater.api.exposure import check_host

    inst = instance if instance is not None else get_instance()
    cfg = config if config is not None else ApiConfig.from_env()
    exposed = False
    if host is not None and not exposure.is_loopback(host):
        check_host(host, inst)
        exposure.record_exposure(inst, host, port)
        exposed = True
    app = App(
        title="Headwater",
        version=__version__,
        description="Reactive workflows: artifacts, executions, launch plans and events.",
        # Served by routes/health.py behind the same auth as everything else.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.instance = inst
    app.state.config = cfg
    app.state.registry = registry_for(inst, worker_processes)
    app.state.checkpoints = LoopCheckpoints(inst)
    open_paths = OPEN_PATHS | ({"/metrics"} if cfg.metrics_public else set())
    app.state.gate = Gate(inst, exposed=exposed, open_paths=frozenset(open_paths))
    # POST /api/v1/events is answered in front of these (``fastpath.App``).
    app.add_middleware(BodyLimit, limit=cfg.request_limit)
    errors.install(app)
    for module in (health, events, artifacts, executions, launch_plans, blobs, graph):
        app.include_router(module.router)
    # The web UI: same app, port and auth as the API (pages read what the routes read).
    # Browsers log in once (a session cookie); pages take a session or a bearer token.
    app.include_router(ui.login_router)
    app.include_router(ui.router, dependencies=[Depends(ui.ui_access), *GUARD[1:]])
    return app
