"""Who may call the API: one dependency every router declares.

Auth is required when ``headwater.api.exposure`` says so: a live API token
(``headwater tokens create``), ``HEADWATER_AUTH=required``, or a database that a server has
served beyond loopback (kept until ``headwater tokens allow-open``; an app created for a
non-loopback host requires auth for its whole life). Then every route but ``/healthz`` (and
``/metrics`` with ``HEADWATER_METRICS_PUBLIC=1``) requires ``Authorization: Bearer <token>``:
401 without one or with an unknown or revoked token, 403 when the token's role is too low or
it is for another project. Without auth required everyone is allowed (``headwater up`` then
binds loopback only).

Roles: ``viewer`` reads (GET); ``editor`` also writes (POST: events, replay, artifacts, relaunch,
activate/deactivate, register); ``admin`` may do everything.

Projects: a token for project A gets 403 when a request names project B (a ``project``
parameter, an ``hw://B/...`` URI, or an entity of project B), and lists are filtered to A.

Nothing here blocks the event loop: decisions are cached for ``Gate.TTL`` seconds (a change
made in this process, such as a revocation, clears the cache at once), lookups run in a
thread, and a token's last use is written by a background thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from headwater.api import exposure, tokens
from headwater.api.errors import Forbidden, Unauthorized
from headwater.instance import Instance

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


class Gate:
    """The auth decisions of one app, cached so that requests never wait for the database.

    ``exposed``: the app serves a non-loopback address; auth is then required whatever the
    database says. ``open_paths``: paths anyone may call.
    """

    TTL = 2.0  # seconds a decision read from the database is trusted (other processes' changes)
    MAX_ENTRIES = 4096

    def __init__(self, inst: Instance, *, exposed: bool, open_paths: frozenset[str]) -> None:
        self.inst = inst
        self.exposed = exposed
        self.open_paths = open_paths
        self.last_used = tokens.LastUsed(inst)
        self._required: tuple[float, int, bool] | None = None
        self._secrets: dict[str, tuple[float, int, tokens.TokenInfo | None]] = {}

    async def auth_required(self) -> bool:
        if self.exposed or exposure.required_by_env():
            return True
        now, gen = time.monotonic(), exposure.generation()
        cached = self._required
        if cached is not None and cached[0] > now and cached[1] == gen:
            return cached[2]
        value = await run_in_threadpool(exposure.auth_required, self.inst)
        self._required = (now + self.TTL, gen, value)
        return value

    async def token(self, secret: str) -> tokens.TokenInfo | None:
        """The live token with this secret (its use noted for ``last_used_at``), else None."""
        if not secret.startswith(tokens.PREFIX):
            return None
        return await self.token_by_hash(tokens.hash_secret(secret))  # no secret is kept

    async def token_by_hash(self, key: str) -> tokens.TokenInfo | None:
        """The live token whose secret hashes to ``key`` (a web UI session keeps only the
        hash), its use noted, else None."""
        now, gen = time.monotonic(), exposure.generation()
        cached = self._secrets.get(key)
        if cached is not None and cached[0] > now and cached[1] == gen:
            info = cached[2]
        else:
            info = await run_in_threadpool(tokens.lookup_hash, self.inst, key)
            if len(self._secrets) >= self.MAX_ENTRIES:
                self._secrets.clear()
            self._secrets[key] = (now + self.TTL, gen, info)
        if info is not None:
            self.last_used.record(info.id)
        return info


def required_role(request: Request) -> str:
    # The scope's path is the URL's path (``request.url`` parses a whole URL for it).
    path: str = request.scope["path"]
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
    """The caller of this request, after checking its token, role and named project."""
    gate: Gate = request.app.state.gate
    if request.scope["path"] in gate.open_paths:
        return LOCAL
    cached = request.scope.get("state", {}).get("principal")  # what ``request.state`` holds
    if isinstance(cached, Principal):
        return cached
    header = request.headers.get("authorization")
    if header is None:
        if await gate.auth_required():
            raise Unauthorized(
                "this server requires an API token: send 'Authorization: Bearer <token>' "
                "(set HEADWATER_API_TOKEN for the headwater client and CLI)"
            )
        principal = LOCAL
    else:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        info = await gate.token(secret.strip())
        if info is None:
            raise Unauthorized(
                "unknown or revoked API token; create one with `headwater tokens create` "
                "on the server"
            )
        principal = Principal(info.name, info.role, info.project)
    return authorize(request, principal)


def authorize(request: Request, principal: Principal) -> Principal:
    """Check ``principal``'s role and the project the request names (403 when too low or
    another project's), then leave it on ``request.state.principal`` for the route."""
    need = required_role(request)
    if tokens.rank(principal.role) < tokens.rank(need):
        raise Forbidden(
            f"token {principal.name!r} has role {principal.role!r}; "
            f"{request.method} {request.url.path} needs {need!r} or higher"
        )
    if request.scope.get("query_string"):  # parsed only when there is a query
        query = request.query_params
        for project in (query.get("project"), _uri_project(query.get("uri"))):
            if project:
                principal.check_project(project)
    request.state.principal = principal
    return principal
