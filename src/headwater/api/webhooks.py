"""Webhook signatures on ``POST /api/v1/events``, per the Standard Webhooks scheme.

An event protected by a webhook rule (``api/config.py``: its name matches the rule's
``names`` patterns, or it claims one of the rule's ``sources``) is accepted only in a request
carrying

- ``webhook-id``: the message id, unique per message (a retry sends the same id);
- ``webhook-timestamp``: when it was signed, in unix seconds, within 5 minutes of the
  server's clock either way;
- ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.
  {body}")>``, with a signature by the secret of every rule that protects an event of the
  request.

A verified request's ``webhook-id`` is remembered (per sender) in the transaction that
stores its events; the same id again is a redelivery, answered 202 without storing anything
(``ingest.store``), so a captured request cannot be replayed and an honest retry after a lost
response is not an error. The older ``X-Headwater-Signature`` (no timestamp, no id) is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from headwater.api.config import WebhookRule
from headwater.api.errors import Unauthorized

TOLERANCE = 300  # seconds, either way
MAX_ID_LENGTH = 256
OLD_HEADER = "x-headwater-signature"
HOW = (
    "sign it per Standard Webhooks: send webhook-id (a unique message id), webhook-timestamp "
    "(unix seconds) and webhook-signature: v1,<base64 HMAC-SHA256 of "
    '"{webhook-id}.{webhook-timestamp}.{body}" with the secret>'
)


@dataclass(frozen=True)
class Delivery:
    """A verified webhook request: who signed it (a digest of the keys) and its message id."""

    sender: str
    id: str
    timestamp: int


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of a message (what a sender puts in webhook-signature)."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(
    rules: Sequence[WebhookRule],
    headers: Mapping[str, str],
    body: bytes,
    events: Iterable[tuple[object, object]],
    binary_mode: bool = False,
    now: float | None = None,
) -> Delivery | None:
    """Check a request's signature against the rules protecting its events.

    ``events``: (name, source) of each event. Returns the verified delivery, or None when no
    rule protects any of the events; raises ``Unauthorized`` saying what to send.
    """
    if headers.get(OLD_HEADER) is not None and headers.get("webhook-signature") is None:
        raise Unauthorized(
            "X-Headwater-Signature (an HMAC of the body alone, which can be replayed) is no "
            f"longer accepted; {HOW}"
        )
    if not rules:
        return None
    pairs = list(events)
    needed = [r for r in rules if any(r.covers(n, s) for n, s in pairs)]
    if not needed:
        return None
    what = "; ".join(f"events with {r.describe()}" for r in needed)
    if binary_mode:
        raise Unauthorized(
            f"{what} must be signed, and in binary mode the event's ce-* headers are not "
            "covered by a signature: send it in structured mode (Content-Type: "
            "application/cloudevents+json) and " + HOW
        )
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    given = headers.get("webhook-signature")
    if not msg_id or not stamp or not given:
        missing = [
            h
            for h, v in (
                ("webhook-id", msg_id),
                ("webhook-timestamp", stamp),
                ("webhook-signature", given),
            )
            if not v
        ]
        raise Unauthorized(f"{what} must be signed (missing {', '.join(missing)}); {HOW}")
    if len(msg_id) > MAX_ID_LENGTH:
        raise Unauthorized(f"webhook-id is longer than {MAX_ID_LENGTH} characters")
    if not stamp.isascii() or not stamp.isdigit():
        raise Unauthorized(f"webhook-timestamp {stamp!r} is not a whole number of unix seconds")
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE:
        when = "old" if timestamp < now else "in the future"
        raise Unauthorized(
            f"webhook-timestamp {timestamp} is {abs(now - timestamp):.0f} s {when}; a "
            f"signature is accepted within {TOLERANCE} s of the server's clock (sign with the "
            "current time, and check the sender's clock)"
        )
    signatures = _signatures(given)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    used: list[bytes] = []
    for r in needed:
        key = next(
            (
                k
                for k in r.keys
                if any(
                    hmac.compare_digest(hmac.new(k, signed, hashlib.sha256).digest(), s)
                    for s in signatures
                )
            ),
            None,
        )
        if key is None:
            raise Unauthorized(
                f"webhook-signature has no valid v1 signature for events with {r.describe()}; "
                "sign the exact bytes sent, as "
                '"{webhook-id}.{webhook-timestamp}.{body}", with that rule\'s secret'
            )
        used.append(key)
    return Delivery(_sender(used), msg_id, timestamp)


def _signatures(header: str) -> list[bytes]:
    out = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version != "v1":
            continue  # another scheme (e.g. v1a, asymmetric): not ours to check
        try:
            out.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return out


def _sender(keys: list[bytes]) -> str:
    # Message ids are unique per sender, not across senders: two senders may both send
    # "msg_1". The sender is named by a digest of its keys (never the keys themselves).
    digest = hashlib.sha256()
    for key in sorted(set(keys)):
        digest.update(hmac.new(key, b"headwater webhook sender", hashlib.sha256).digest())
    return digest.hexdigest()[:32]
