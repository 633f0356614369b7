"""Who may call the API: one dependency every router declares.

Auth is configured when at least one API token is live (``headwater tokens create``) or
``HEADWATER_AUTH=required``. Then every ``/api/v1`` route and ``/metrics`` require
``Authorization: Bearer <token>``: 401 without one or with an unknown or revoked token, 403
when the token's role is too low or it is for another project. ``/healthz`` stays open.
Without auth configured everyone is allowed (``headwater up`` then binds loopback only).

Roles: ``viewer`` reads (GET); ``editor`` also writes (POST: events, replay, artifacts, relaunch,
activate/deactivate, register); ``admin`` may do everything.

Projects: a token for project A gets 403 when a request names project B (a ``project``
parameter, an ``hw://B/...`` URI, or an entity of project B), and lists are filtered to A.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from headwater.api.errors import Forbidden, Unauthorized
from headwater.engine import tokens

OPEN_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class Principal:
    """The caller, as far as the API knows: a role, for one project or ``*`` (all)."""

    name: str
    role: str
    project: str = tokens.ALL_PROJECTS

    @property
    def all_projects(self) -> bool:
        return self.project == tokens.ALL_PROJECTS

    def may_see(self, project: str) -> bool:
        return self.all_projects or project == self.project

    def check_project(self, project: str) -> None:
        """Raise Forbidden when this caller may not touch ``project``."""
        if not self.may_see(project):
            raise Forbidden(
                f"token {self.name!r} is for project {self.project!r}, "
                f"not {project!r}; use a token for {project!r}"
            )


LOCAL = Principal("local", "admin")


def required_role(request: Request) -> str:
    path = request.url.path
    if path.startswith("/api/v1/tokens"):
        return "admin"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return "viewer"
    return "editor"


def _uri_project(uri: str | None) -> str | None:
    if uri and uri.startswith("hw://"):
        project = uri[len("hw://") :].split("/", 1)[0]
        return project or None
    return None


async def access(request: Request) -> Principal:
    """The caller of this request, after checking its token, role and named project.

    Runs on the event loop (no thread-pool hop): its token lookups are single indexed reads.
    """
    if request.url.path in OPEN_PATHS:
        return LOCAL
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    inst = request.app.state.instance
    header = request.headers.get("authorization")
    if header is None:
        if tokens.auth_required(inst):
            raise Unauthorized(
                "this server requires an API token: send 'Authorization: Bearer <token>' "
                "(set HEADWATER_API_TOKEN for the headwater client and CLI)"
            )
        principal = LOCAL
    else:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        info = tokens.authenticate(inst, secret.strip())
        if info is None:
            raise Unauthorized(
                "unknown or revoked API token; create one with `headwater tokens create` "
                "on the server"
            )
        principal = Principal(info.name, info.role, info.project)
    need = required_role(request)
    if tokens.rank(principal.role) < tokens.rank(need):
        raise Forbidden(
            f"token {principal.name!r} has role {principal.role!r}; "
            f"{request.method} {request.url.path} needs {need!r} or higher"
        )
    for project in (
        request.query_params.get("project"),
        _uri_project(request.query_params.get("uri")),
    ):
        if project:
            principal.check_project(project)
    request.state.principal = principal
    return principal
