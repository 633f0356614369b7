"""The web UI: server-rendered pages over the same read functions as the REST API.

``headwater up`` serves it at ``/`` next to the API (``api/app.py`` includes ``router`` behind
the API's auth). Pages: artifact search (``/``), an artifact version
(``/artifacts/<project>/<domain>/<name>@<version>``, its stored bytes at ``…/download``),
executions, launch plans and events.
Templates live in ``templates/``, the project's own CSS and JavaScript in ``static/``; a
Content-Security-Policy forbids inline scripts, and card Markdown is rendered without raw HTML.
"""

from __future__ import annotations

from headwater.ui import events, executions, graph, login, objects, plans
from headwater.ui.routes import router
from headwater.ui.session import ui_access

router.include_router(plans.router)
router.include_router(objects.router)
router.include_router(executions.router)
router.include_router(events.router)
router.include_router(graph.router)
login_router = login.router

__all__ = ["login_router", "router", "ui_access"]
