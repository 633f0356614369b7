"""API tokens: create (the secret is shown once), list, revoke, and check a presented secret.

A token is ``hw_`` + 32 random url-safe bytes. Only its SHA-256 hash is stored, with a short
prefix to recognise it in listings. A token is for one project (or ``*``: every project) and
has one role: ``viewer`` (reads), ``editor`` (+ events, artifacts, relaunch, launch plans,
registration) or ``admin`` (+ everything, token management included).

When callers must present a token is :mod:`headwater.api.exposure`'s decision (a live
token, ``HEADWATER_AUTH=required``, or a server that has listened beyond loopback).

Checking a secret is a read; the last use of a token is recorded by :class:`LastUsed` from a
thread of its own, so a busy database never holds up the caller.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.api import exposure
from headwater.definitions.names import check_name
from headwater.errors import NotFoundError, UserInputError
from headwater.storage import api_tokens as rows
from headwater.storage.api_tokens import ApiTokenRow

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.storage.db import Tx

log = logging.getLogger("headwater.tokens")

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
    def from_row(cls, row: ApiTokenRow) -> TokenInfo:
        created = _ts(row.created_at)
        assert created is not None
        return cls(
            row.id,
            row.name,
            row.prefix,
            row.project,
            row.role,
            created,
            _ts(row.revoked_at),
            _ts(row.last_used_at),
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


def _stored(tx: Tx, token_id: int) -> TokenInfo:
    row = rows.by_id(tx, token_id=token_id)
    assert row is not None  # written in this same transaction
    return TokenInfo.from_row(row)


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
        info = _stored(tx, token_id)
    exposure.changed()
    return secret, info


def list_tokens(inst: Instance, include_revoked: bool = True) -> list[TokenInfo]:
    with inst.db.read() as tx:
        return [
            TokenInfo.from_row(r) for r in rows.list_tokens(tx, include_revoked=include_revoked)
        ]


def revoke(inst: Instance, name_or_id: str) -> list[TokenInfo]:
    """Revoke the token with this id, or every live token with this name."""
    now = time.time()
    with inst.db.transaction() as tx:
        found = rows.active_names(tx, name=name_or_id)
        if not found and str(name_or_id).isdigit():
            row = rows.by_id(tx, token_id=int(name_or_id))
            found = [row] if row is not None and row.revoked_at is None else []
        if not found:
            raise NotFoundError(
                f"no live token named or numbered {name_or_id!r}; "
                "list them with `headwater tokens list`"
            )
        for row in found:
            rows.revoke(tx, token_id=row.id, now=now)
        done = [_stored(tx, r.id) for r in found]
    exposure.changed()
    return done


def auth_required(inst: Instance) -> bool:
    """True when callers must present a token (see :func:`exposure.auth_required`)."""
    return exposure.auth_required(inst)


def lookup(inst: Instance, secret: str) -> TokenInfo | None:
    """The live token with this secret, else None. A read only: nothing is written."""
    if not secret.startswith(PREFIX):
        return None
    return lookup_hash(inst, hash_secret(secret))


def lookup_hash(inst: Instance, token_hash: str) -> TokenInfo | None:
    """The live token whose secret has this hash (:func:`hash_secret`), else None."""
    with inst.db.read() as tx:
        row = rows.by_hash(tx, token_hash=token_hash)
    if row is None or row.revoked_at is not None:
        return None
    return TokenInfo.from_row(row)


class LastUsed:
    """Records when tokens were last used, from a background thread.

    ``record(token_id)`` never waits for the database: it notes the use (at most once per
    ``every`` seconds per token) and a daemon thread writes the notes in one transaction.
    """

    def __init__(self, inst: Instance, every: float = TOUCH_EVERY) -> None:
        self._inst = inst
        self._every = every
        self._noted: dict[int, float] = {}
        self._pending: dict[int, float] = {}
        self._writing = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def record(self, token_id: int) -> None:
        now = time.time()
        if now - self._noted.get(token_id, float("-inf")) < self._every:
            return
        self._noted[token_id] = now
        with self._cond:  # held by the writer only between writes, never during one
            self._pending[token_id] = now
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="headwater-token-last-used", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending))
                batch, self._pending = self._pending, {}
                self._writing = True
            try:
                with self._inst.db.transaction() as tx:
                    for token_id, when in sorted(batch.items()):
                        rows.touch(tx, token_id=token_id, now=when)
            except Exception as exc:  # bookkeeping only: never worth failing a request
                log.warning("could not record the last use of API tokens: %s", exc)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every noted use is written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._writing, timeout)
