"""Rows of ``api_tokens``: only SHA-256 hashes of the secrets are stored, never the secrets."""

from __future__ import annotations

from typing import Any

from headwater.storage.db import Tx


def insert_token(
    tx: Tx, *, name: str, token_hash: str, prefix: str, project: str, role: str, now: float
) -> int:
    tx.execute(
        "INSERT INTO api_tokens (name, token_hash, prefix, project, role, created_at) "
        "VALUES (:n, :h, :p, :pr, :r, :t)",
        {"n": name, "h": token_hash, "p": prefix, "pr": project, "r": role, "t": now},
    )
    return int(tx.scalar("SELECT id FROM api_tokens WHERE token_hash = :h", {"h": token_hash}))


def by_hash(tx: Tx, token_hash: str) -> Any:
    return tx.one("SELECT * FROM api_tokens WHERE token_hash = :h", {"h": token_hash})


def list_tokens(tx: Tx, include_revoked: bool = True) -> list[Any]:
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return tx.all(f"SELECT * FROM api_tokens{where} ORDER BY id")


def active_names(tx: Tx, name: str) -> list[Any]:
    return tx.all(
        "SELECT * FROM api_tokens WHERE name = :n AND revoked_at IS NULL ORDER BY id", {"n": name}
    )


def by_id(tx: Tx, token_id: int) -> Any:
    return tx.one("SELECT * FROM api_tokens WHERE id = :i", {"i": token_id})


def count_active(tx: Tx) -> int:
    return int(tx.scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL") or 0)


def revoke(tx: Tx, token_id: int, now: float) -> None:
    tx.execute(
        "UPDATE api_tokens SET revoked_at = :t WHERE id = :i AND revoked_at IS NULL",
        {"t": now, "i": token_id},
    )


def touch(tx: Tx, token_id: int, now: float) -> None:
    tx.execute("UPDATE api_tokens SET last_used_at = :t WHERE id = :i", {"t": now, "i": token_id})
