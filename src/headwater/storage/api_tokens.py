"""Rows of ``api_tokens``: only SHA-256 hashes of the secrets are stored, never the secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class ApiTokenRow:
    """One API token (its hash; the secret is never stored)."""

    id: int
    name: str
    token_hash: str
    prefix: str
    project: str
    role: str
    created_at: float
    revoked_at: float | None
    last_used_at: float | None

    @classmethod
    def from_db(cls, r: Any) -> ApiTokenRow:
        return cls(
            id=r["id"],
            name=r["name"],
            token_hash=r["token_hash"],
            prefix=r["prefix"],
            project=r["project"],
            role=r["role"],
            created_at=r["created_at"],
            revoked_at=r["revoked_at"],
            last_used_at=r["last_used_at"],
        )


def insert_token(
    tx: Tx, *, name: str, token_hash: str, prefix: str, project: str, role: str, now: float
) -> int:
    """Store a token; its id. A ``token_hash`` stored already is a uniqueness error."""
    tx.execute(
        "INSERT INTO api_tokens (name, token_hash, prefix, project, role, created_at) "
        "VALUES (:n, :h, :p, :pr, :r, :t)",
        {"n": name, "h": token_hash, "p": prefix, "pr": project, "r": role, "t": now},
    )
    return int(tx.scalar("SELECT id FROM api_tokens WHERE token_hash = :h", {"h": token_hash}))


def by_hash(tx: Tx, *, token_hash: str) -> ApiTokenRow | None:
    """The token whose secret hashes to ``token_hash`` (revoked or not), or None."""
    r = tx.one("SELECT * FROM api_tokens WHERE token_hash = :h", {"h": token_hash})
    return None if r is None else ApiTokenRow.from_db(r)


def list_tokens(tx: Tx, *, include_revoked: bool = True) -> list[ApiTokenRow]:
    """Every token (or only those not revoked), oldest first."""
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return [ApiTokenRow.from_db(r) for r in tx.all(f"SELECT * FROM api_tokens{where} ORDER BY id")]


def active_names(tx: Tx, *, name: str) -> list[ApiTokenRow]:
    """The tokens called ``name`` that are not revoked, oldest first."""
    rows = tx.all(
        "SELECT * FROM api_tokens WHERE name = :n AND revoked_at IS NULL ORDER BY id", {"n": name}
    )
    return [ApiTokenRow.from_db(r) for r in rows]


def by_id(tx: Tx, *, token_id: int) -> ApiTokenRow | None:
    """The token ``token_id`` (revoked or not), or None."""
    r = tx.one("SELECT * FROM api_tokens WHERE id = :i", {"i": token_id})
    return None if r is None else ApiTokenRow.from_db(r)


def count_active(tx: Tx) -> int:
    """How many tokens are not revoked."""
    return int(tx.scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL") or 0)


def revoke(tx: Tx, *, token_id: int, now: float) -> None:
    """Mark the token revoked at ``now``; a token revoked already keeps its first time."""
    tx.execute(
        "UPDATE api_tokens SET revoked_at = :t WHERE id = :i AND revoked_at IS NULL",
        {"t": now, "i": token_id},
    )


def touch(tx: Tx, *, token_id: int, now: float) -> None:
    """Record that the token was used at ``now``."""
    tx.execute("UPDATE api_tokens SET last_used_at = :t WHERE id = :i", {"t": now, "i": token_id})
