"""API tokens: create (the secret is shown once), list, revoke, and check a presented secret.

A token is ``hw_`` + 32 random url-safe bytes. Only its SHA-256 hash is stored, with a short
prefix to recognise it in listings. A token is for one project (or ``*``: every project) and
has one role: ``viewer`` (reads), ``editor`` (+ events, artifacts, relaunch, launch plans,
registration) or ``admin`` (+ everything, token management included).

Auth is *configured* when at least one token is not revoked, or ``HEADWATER_AUTH=required``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.definitions.names import check_name
from headwater.errors import NotFoundError, UserInputError
from headwater.storage import tokens as rows

if TYPE_CHECKING:
    from headwater.instance import Instance

ROLES = ("viewer", "editor", "admin")
ALL_PROJECTS = "*"
PREFIX = "hw_"
TOUCH_EVERY = 60.0  # seconds between last_used_at updates of one token


def rank(role: str) -> int:
    return ROLES.index(role)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    id: int
    name: str
    prefix: str
    project: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> TokenInfo:
        created = _ts(row["created_at"])
        assert created is not None
        return cls(
            int(row["id"]),
            row["name"],
            row["prefix"],
            row["project"],
            row["role"],
            created,
            _ts(row["revoked_at"]),
            _ts(row["last_used_at"]),
        )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows_project(self, project: str) -> bool:
        return self.project in (ALL_PROJECTS, project)

    def allows_role(self, role: str) -> bool:
        return rank(self.role) >= rank(role)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "project": self.project,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def create(inst: Instance, name: str, project: str, role: str) -> tuple[str, TokenInfo]:
    """A new token: (the secret — shown once, never stored — and its stored info)."""
    check_name(name, "token name")
    if project != ALL_PROJECTS:
        check_name(project, "project")
    if role not in ROLES:
        raise UserInputError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    with inst.db.transaction() as tx:
        token_id = rows.insert_token(
            tx,
            name=name,
            token_hash=hash_secret(secret),
            prefix=secret[: len(PREFIX) + 6],
            project=project,
            role=role,
            now=time.time(),
        )
        info = TokenInfo.from_row(rows.by_id(tx, token_id))
    return secret, info


def list_tokens(inst: Instance, include_revoked: bool = True) -> list[TokenInfo]:
    with inst.db.read() as tx:
        return [TokenInfo.from_row(r) for r in rows.list_tokens(tx, include_revoked)]


def revoke(inst: Instance, name_or_id: str) -> list[TokenInfo]:
    """Revoke the token with this id, or every live token with this name."""
    now = time.time()
    with inst.db.transaction() as tx:
        found = rows.active_names(tx, name_or_id)
        if not found and str(name_or_id).isdigit():
            row = rows.by_id(tx, int(name_or_id))
            found = [row] if row is not None and row["revoked_at"] is None else []
        if not found:
            raise NotFoundError(
                f"no live token named or numbered {name_or_id!r}; "
                "list them with `headwater tokens list`"
            )
        for row in found:
            rows.revoke(tx, int(row["id"]), now)
        return [TokenInfo.from_row(rows.by_id(tx, int(r["id"]))) for r in found]


def auth_required(inst: Instance) -> bool:
    """True when callers must present a token: a live token exists or HEADWATER_AUTH=required."""
    if os.environ.get("HEADWATER_AUTH", "").strip().lower() == "required":
        return True
    with inst.db.read() as tx:
        return rows.count_active(tx) > 0


def authenticate(inst: Instance, secret: str) -> TokenInfo | None:
    """The live token with this secret (its last use recorded), else None."""
    if not secret.startswith(PREFIX):
        return None
    with inst.db.read() as tx:
        row = rows.by_hash(tx, hash_secret(secret))
    if row is None or row["revoked_at"] is not None:
        return None
    now = time.time()
    if row["last_used_at"] is None or now - row["last_used_at"] > TOUCH_EVERY:
        try:
            with inst.db.transaction() as tx:
                rows.touch(tx, int(row["id"]), now)
        except Exception:  # a busy database must not refuse the request
            pass
    return TokenInfo.from_row(row)
