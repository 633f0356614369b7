"""The one table from errors to HTTP status codes, and the handlers that apply it.

Every error leaves the API as ``{"error": {"type": ..., "message": ...}}`` (plus ``"index"``
when one event of a batch was refused). Lookup walks the exception's class hierarchy, so a
subclass maps to its nearest listed ancestor::

    NotFoundError -> 404, TypeMismatchError -> 422, UserInputError -> 400, ...

Storage failures are 503 with what to do in the message ("free disk space on /var/lib"); a
driver error that reached the API without being classified (``sqlite3``/``psycopg``) is
classified here, so a full disk is never a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from headwater.errors import (
    ConflictError,
    DefinitionError,
    HeadwaterError,
    MissingInputError,
    NoMatchError,
    NotFoundError,
    PartitionError,
    StorageError,
    TypeMismatchError,
    UserInputError,
)
from headwater.storage.faults import DatabaseUnavailable

log = logging.getLogger("headwater.api")


class ApiError(UserInputError):
    """A request refused by the HTTP layer itself (before any domain function ran)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class BadRequest(ApiError):
    """Malformed JSON, a malformed CloudEvent or a malformed batch."""


class Unauthorized(ApiError):
    """A webhook signature is missing or wrong (later: no or a bad token)."""


class Forbidden(ApiError):
    """The caller's role may not do this."""


class Conflict(ApiError, ConflictError):
    """One event of a request contradicts a stored one (409, with its index in a batch)."""


class PayloadTooLarge(ApiError):
    """The request body, or one event in it, is over the configured limit."""


class UnsupportedMediaType(ApiError):
    """A Content-Type the endpoint does not read."""


STATUS_CODES: dict[type[BaseException], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    NotFoundError: 404,
    NoMatchError: 404,
    ConflictError: 409,
    TypeMismatchError: 422,
    MissingInputError: 422,
    PartitionError: 422,
    DefinitionError: 422,
    UserInputError: 400,
    RequestValidationError: 400,
    StorageError: 503,
    HeadwaterError: 500,
}


def status_for(exc: BaseException) -> int:
    """The status code of the nearest class of ``exc`` listed in ``STATUS_CODES``."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def error_body(type_: str, message: str, index: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type_, "message": message}
    if index is not None:
        err["index"] = index
    return {"error": err}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


RETRY_AFTER = "5"  # seconds, on a 503 from a database that is restarting or unreachable


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_for(exc)
    if isinstance(exc, StorageError):  # the storage's state, not a bug: no traceback
        log.warning("%s %s refused: %s", request.method, request.url.path, exc)
    elif status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    headers = {"Retry-After": RETRY_AFTER} if isinstance(exc, DatabaseUnavailable) else None
    return JSONResponse(
        error_body(type(exc).__name__, str(exc), getattr(exc, "index", None)),
        status_code=status,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        error_body("BadRequest", _validation_message(exc)), status_code=status_for(exc)
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    return JSONResponse(
        error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    inst = getattr(request.app.state, "instance", None)
    fault = inst.db.fault(exc) if inst is not None else None
    if fault is not None:
        return await _domain_error(request, fault)
    log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("InternalError", f"internal error ({type(exc).__name__}); see the server log"),
        status_code=500,
    )


async def answer(request: Request, exc: Exception) -> JSONResponse | None:
    """The answer the handlers ``install`` registers give to ``exc``, for code that runs in
    front of the app's exception middleware (``api/fastpath.py``); None for an exception
    they leave to the server-error handler (``_unexpected``, a 500; ``answer_any`` gives that
    too)."""
    if isinstance(exc, HeadwaterError):
        return await _domain_error(request, exc)
    if isinstance(exc, RequestValidationError):
        return await _validation_error(request, exc)
    if isinstance(exc, StarletteHTTPException):
        return await _http_error(request, exc)
    return None


async def answer_any(request: Request, exc: Exception) -> JSONResponse:
    """The answer the app gives to ``exc`` raised by a route: ``answer``, else the
    server-error handler's (a logged 500, or a 503 for a database fault)."""
    handled = await answer(request, exc)
    return handled if handled is not None else await _unexpected(request, exc)


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors by the table, then framework errors."""
    app.add_exception_handler(HeadwaterError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
