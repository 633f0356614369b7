"""Browser sessions for the web UI, and the CSRF check of its forms.

With auth on, a browser presents an API token once (``/login``); the server then keeps a
session: a random id in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over TLS) that
references the token's *hash* in this process's memory, never the token itself. Every request
looks the token up again (through the API's ``Gate``), so a revoked token ends its sessions,
and the token's role and project apply exactly as for the API (``access.authorize``).
The UI's own CSS and JavaScript (``/static/``) are open: the login page uses them.
Sessions expire after ``LIFETIME`` seconds or at logout; a server restart ends them all.

Every state-changing form carries a CSRF token (the hidden field ``csrf``): per session with
auth on, per server process with auth off (the page must have been read from this server).
A POST without it, or with another one, is refused (403) before the route runs. Requests
with an ``Authorization: Bearer`` header (API clients) are not browser sessions and need none.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from starlette.exceptions import HTTPException

from headwater.api import tokens
from headwater.api.access import Gate, Principal, access, authorize
from headwater.api.errors import Forbidden, Unauthorized

COOKIE = "hw_session"
CSRF_FIELD = "csrf"
LIFETIME = 8 * 3600.0  # seconds a session lasts
MAX_SESSIONS = 10_000
_FORM = "application/x-www-form-urlencoded"
# The token name of this request's browser session (None: no session), for the page header.
_SIGNED_IN: ContextVar[str | None] = ContextVar("headwater_ui_signed_in", default=None)
LOCAL_READER = Principal("static", "viewer")


@dataclass(frozen=True)
class Session:
    """One logged-in browser: the hash of the token it presented, its CSRF token, expiry."""

    token_hash: str
    csrf: str
    expires: float  # time.time()


class Sessions:
    """The sessions of one app, by id (in memory; the API is served by one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}
        self.anonymous_csrf = secrets.token_urlsafe(32)

    def create(self, token_hash: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(token_hash, secrets.token_urlsafe(32), time.time() + LIFETIME)
        with self._lock:
            if len(self._by_id) >= MAX_SESSIONS:
                self._expire()
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires <= time.time():
                del self._by_id[sid]
                return None
        return session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)

    def _expire(self) -> None:
        now = time.time()
        for sid in [s for s, v in self._by_id.items() if v.expires <= now]:
            del self._by_id[sid]
        if len(self._by_id) >= MAX_SESSIONS:  # still full: the oldest go first
            for sid in sorted(self._by_id, key=lambda s: self._by_id[s].expires)[:1000]:
                del self._by_id[sid]


_CREATE_LOCK = threading.Lock()


def sessions(request: Request) -> Sessions:
    """The app's session store (created on first use)."""
    state = request.app.state
    with _CREATE_LOCK:
        store = getattr(state, "ui_sessions", None)
        if store is None:
            store = state.ui_sessions = Sessions()
    return store


def signed_in() -> str | None:
    """The token name of the browser session the page is rendered for, else None."""
    return _SIGNED_IN.get()


def gate(request: Request) -> Gate:
    """The API's auth decisions for this app (tokens, whether auth is required)."""
    found: Gate = request.app.state.gate
    return found


def start(request: Request, secret: str) -> str:
    """A new session for the (already checked) token ``secret``: its id, for the cookie.
    Only the token's hash is kept."""
    sid, _ = sessions(request).create(tokens.hash_secret(secret))
    return sid


def current(request: Request) -> Session | None:
    """This request's session, when its cookie names a live one."""
    return sessions(request).get(request.cookies.get(COOKIE))


def csrf_token(request: Request) -> str:
    """The CSRF token the forms of this page must carry."""
    session = getattr(request.state, "ui_session", None)
    if isinstance(session, Session):
        return session.csrf
    return sessions(request).anonymous_csrf


def safe_next(target: str | None) -> str:
    """A path on this server to go to after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the first value of each)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != _FORM:
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


async def check_csrf(request: Request, expected: str) -> None:
    """403 unless the form's ``csrf`` field is ``expected``."""
    given = (await form_fields(request)).get(CSRF_FIELD, "")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden(
            "this form was not sent from a page of this server (missing or wrong CSRF "
            "token); reload the page and submit it again"
        )


def _login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login?" + urlencode({"next": target})
    return HTTPException(303, "log in first", headers={"Location": location})


async def ui_access(request: Request) -> Principal:
    """The caller of a web UI request: a bearer token (as for the API), else the browser
    session, else (auth off) the local user. Without one when auth is on: pages redirect
    to ``/login``, posts are a 401. A POST from a browser must carry the CSRF token."""
    if request.headers.get("authorization") is not None:
        return await access(request)
    if request.method == "GET" and request.url.path.startswith("/static/"):
        return LOCAL_READER  # the UI's own CSS and JavaScript: the login page needs them
    gate: Gate = request.app.state.gate
    session = current(request)
    info = await gate.token_by_hash(session.token_hash) if session is not None else None
    if info is None:
        if await gate.auth_required():
            if request.method in ("GET", "HEAD"):
                raise _login_redirect(request)
            raise Unauthorized("log in at /login with an API token first")
        principal = await access(request)  # the local user: auth is off
        session = None
    else:
        request.state.ui_session = session
        _SIGNED_IN.set(info.name)
        principal = Principal(info.name, info.role, info.project)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, csrf_token(request))
    return authorize(request, principal) if session is not None else principal


def can_edit(request: Request) -> bool:
    """Whether the caller may use the page's write controls (editor or admin)."""
    who: Any = getattr(request.state, "principal", None)
    return who is None or tokens.rank(who.role) >= tokens.rank("editor")
