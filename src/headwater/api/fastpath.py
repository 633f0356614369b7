"""``POST /api/v1/events`` answered before FastAPI: the API's hot path.

FastAPI's middleware stack (server errors, its telemetry check, its body limit, ours), routing
and dependency solving cost a single-event POST more than reading, checking and committing the
event. :class:`App` is the FastAPI application with one difference: it answers that method and
path itself, with the same steps the route declares (``access``: token, role and project;
``storable_params``; ``routes.events.accept``), the same size limit (``BodyLimit``'s 413 for a
declared ``Content-Length`` over ``HEADWATER_MAX_REQUEST_BYTES``; ``ingest.read_body`` cuts off
a streamed body) and the same error answers (``errors.answer_any``: domain errors by the table,
anything else a logged 500). Every other request goes to FastAPI unchanged. The route in
``routes/events.py`` documents the endpoint (OpenAPI); a plain FastAPI app serving the routers
(without this class) answers through it the same way.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from headwater.api import errors, limits
from headwater.api.access import access
from headwater.api.config import ApiConfig
from headwater.api.deps import storable_params
from headwater.api.routes import events

PATH = events.router.prefix  # /api/v1/events
_JSON = b"application/json"


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the ``root_path`` a proxy may have put before it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def accepted(body: bytes) -> tuple[Message, Message]:
    """The two ASGI messages of a 202 with the JSON ``body``."""
    start: Message = {
        "type": "http.response.start",
        "status": 202,
        "headers": [(b"content-length", b"%d" % len(body)), (b"content-type", _JSON)],
    }
    return start, {"type": "http.response.body", "body": body}


class App(FastAPI):
    """The API's FastAPI application, answering ``POST /api/v1/events`` itself (see the
    module docstring); ``create_app`` builds it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            if self.root_path:  # what FastAPI.__call__ does first
                scope["root_path"] = self.root_path
            if _route_path(scope) == PATH:
                scope["app"] = self
                await self._events(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _events(self, scope: Scope, receive: Receive, send: Send) -> None:
        cfg: ApiConfig = self.state.config
        declared = limits.declared_size(scope)
        if declared is not None and declared > cfg.request_limit:
            await limits.refuse(send, f"{declared} bytes", cfg.request_limit)
            return
        request = Request(scope, receive, send)
        try:
            who = await access(request)
            if scope["query_string"]:
                await storable_params(request)
            body = await events.accept(request, who)
        except Exception as exc:
            response = await errors.answer_any(request, exc)
            await response(scope, receive, send)
            return
        start, end = accepted(body)
        await send(start)
        await send(end)
