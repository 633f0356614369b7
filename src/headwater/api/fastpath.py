"""``POST /api/v1/events`` answered in front of the router: the API's hot path.

FastAPI's routing, dependency solving and exception middleware cost a single-event POST
more than reading, checking and committing the event. This pure ASGI middleware answers that
one method and path itself with the same steps the route declares (``access``: token, role
and project; ``storable_params``; ``routes.events.accept``) and the same error answers
(``errors.answer``); every other request goes on to the app unchanged. It sits inside
``BodyLimit`` and the server-error handler, as the route did.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from headwater.api import errors
from headwater.api.access import access
from headwater.api.deps import storable_params
from headwater.api.routes import events

PATH = events.router.prefix  # /api/v1/events


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the ``root_path`` a proxy may have put before it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class EventsFastPath:
    """Answer ``POST /api/v1/events`` directly (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _route_path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            who = await access(request)
            if scope["query_string"]:
                await storable_params(request)
            response = await events.accept(request, who)
        except Exception as exc:
            handled = await errors.answer(request, exc)
            if handled is None:
                raise  # the server-error handler answers 500 and logs it
            response = handled
        await response(scope, receive, send)
