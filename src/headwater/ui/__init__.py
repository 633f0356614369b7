"""The web UI: server-rendered pages over the same read functions as the REST API.

``headwater up`` serves it at ``/`` next to the API (``api/app.py`` includes ``router`` behind
the API's auth). Pages: artifact search (``/``), an artifact version
(``/artifacts/<project>/<domain>/<name>@<version>``), executions, launch plans and events.
Templates live in ``templates/``, the project's own CSS and JavaScript in ``static/``; a
Content-Security-Policy forbids inline scripts, and card Markdown is rendered without raw HTML.
"""

from __future__ import annotations

from headwater.ui import graph, login, plans
from headwater.ui.routes import router
from headwater.ui.session import ui_access

router.include_router(plans.router)
router.include_router(graph.router)
login_router = login.router

__all__ = ["login_router", "router", "ui_access"]
