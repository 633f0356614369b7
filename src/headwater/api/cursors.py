"""Opaque page cursors that a client hands back but cannot forge.

A lineage cursor names the nodes a walk goes on from; were it editable, a caller allowed to
walk from one version could walk from any node. So a cursor is signed with a key of this
process: it stays valid while the server runs, and after a restart the client starts again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import zlib
from typing import Any

from headwater.errors import UserInputError

_KEY = secrets.token_bytes(32)
_MAC_BYTES = 16


def _mac(raw: bytes) -> bytes:
    return hmac.new(_KEY, raw, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(body: dict[str, Any]) -> str:
    """A URL-safe cursor holding ``body`` (JSON), compressed and signed."""
    raw = zlib.compress(json.dumps(body, separators=(",", ":")).encode())
    return base64.urlsafe_b64encode(_mac(raw) + raw).decode().rstrip("=")


def decode(text: str) -> dict[str, Any]:
    """The body of a cursor made by :func:`encode` in this process; UserInputError otherwise."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        data = b""
    mac, raw = data[:_MAC_BYTES], data[_MAC_BYTES:]
    if not raw or not hmac.compare_digest(mac, _mac(raw)):
        raise UserInputError(
            "cursor is not one this server issued (or the server restarted since): "
            "start again without a cursor"
        )
    body = json.loads(zlib.decompress(raw))
    if not isinstance(body, dict):
        raise UserInputError("cursor is malformed; start again without a cursor")
    return body
