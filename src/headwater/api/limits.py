"""One size limit for every request body, checked before and while the body streams in.

A pure ASGI middleware (no per-request objects beyond one closure): a ``Content-Length`` over
the limit is refused before the app runs; otherwise the bytes of ``http.request`` messages
are counted as the app reads them, and past the limit the read fails and whatever the app
would answer is replaced by the same 413::

    {"error": {"type": "PayloadTooLarge", "message": "the request body is ..."}}

Routes may have smaller limits of their own (the events endpoint does).
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headwater.api.errors import error_body

KNOB = "HEADWATER_MAX_REQUEST_BYTES"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` past the limit (an HTTPException, so body parsing passes it on
    unchanged instead of calling it a malformed body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


def _message(size: str, limit: int) -> str:
    return (
        f"the request body is {size}; the limit is {limit} bytes ({KNOB}) — store large "
        "data as an artifact from a worker or the server's machine, or raise the limit"
    )


async def refuse(send: Send, size: str, limit: int) -> None:
    """Answer 413: the request body (``size``, e.g. "20000 bytes") is over ``limit``."""
    body = json.dumps(error_body("PayloadTooLarge", _message(size, limit))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def declared_size(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when it sent none (or not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = declared_size(scope)
        if declared is not None and declared > limit:
            await refuse(send, f"{declared} bytes", limit)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:  # the app's answer to a cut-off body is replaced by the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except BodyTooLarge:
            pass
        if over and not started:
            await refuse(send, f"over {limit} bytes", limit)
