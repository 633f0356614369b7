"""``/login`` and ``/logout``: a browser presents an API token once and gets a session
(see ``ui.session``). These routes are outside the UI's auth guard: anyone may log in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from headwater.ui import session as sessions_
from headwater.ui.render import HEADERS, page

router = APIRouter(include_in_schema=False)


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303, headers=HEADERS)


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The form asking for an API token (auth off: nothing to do, back to the pages)."""
    target = sessions_.safe_next(request.query_params.get("next"))
    gate = sessions_.gate(request)
    if not await gate.auth_required():
        return _redirect(target)
    return page("login.html", title="Log in", next=target, error=None, nav="")


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the token; a live one starts a session (cookie) and goes on to ``next``."""
    fields = await sessions_.form_fields(request)
    target = sessions_.safe_next(fields.get("next"))
    gate = sessions_.gate(request)
    secret = fields.get("token", "").strip()
    info = await gate.token(secret) if secret else None
    if info is None:
        error = (
            "unknown or revoked API token; paste a token from `headwater tokens create`"
            if secret
            else "enter an API token"
        )
        return page("login.html", status=401, title="Log in", next=target, error=error, nav="")
    sid = sessions_.start(request, secret)
    response = _redirect(target)
    response.set_cookie(
        sessions_.COOKIE,
        sid,
        max_age=int(sessions_.LIFETIME),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logout")
def logout_form(request: Request) -> Response:
    """A button to end the session (a POST carrying the session's CSRF token)."""
    current = sessions_.current(request)
    csrf = current.csrf if current is not None else None
    return page("logout.html", title="Log out", csrf=csrf, nav="")


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (its CSRF token required) and clear the cookie."""
    current = sessions_.current(request)
    if current is not None:
        await sessions_.check_csrf(request, current.csrf)
        sessions_.sessions(request).drop(request.cookies.get(sessions_.COOKIE))
    response = _redirect("/login")
    response.delete_cookie(
        sessions_.COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
