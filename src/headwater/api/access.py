"""Who may call the API: one dependency every router declares.

For now the server listens on loopback only (``headwater up`` refuses other addresses), so
everyone local is allowed. Tokens and roles (``HEADWATER_API_TOKEN``) plug in here: read the
``Authorization`` header, raise ``Unauthorized`` / ``Forbidden`` from ``headwater.api.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request


@dataclass(frozen=True)
class Principal:
    """The caller, as far as the API knows."""

    name: str
    role: str


LOCAL = Principal("local", "admin")


def access(request: Request) -> Principal:
    """Allow every caller (loopback only); the hook for token and role checks."""
    return LOCAL
