"""Settings of the HTTP API, read from ``HEADWATER_*`` environment variables.

- ``HEADWATER_MAX_EVENT_BYTES`` (default 1 MiB): the largest single-event request body, and
  the largest payload of any one event.
- ``HEADWATER_MAX_BATCH_BYTES`` (default 16 MiB): the largest batch of events.
- ``HEADWATER_MAX_REQUEST_BYTES`` (default: the batch limit): the largest request body of any
  kind, on every route (413 beyond, checked while the body streams in).
- ``HEADWATER_METRICS_PUBLIC=1``: serve ``/metrics`` without a token even when auth is on
  (for Prometheus scrapers); ``/openapi.json``, ``/docs`` and ``/redoc`` stay behind auth.
- ``HEADWATER_WEBHOOK_SECRETS``: JSON ``{"<event source>": "<secret>"}``; events from such a
  source must carry ``X-Headwater-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.
- ``HEADWATER_WEBHOOK_SECRETS_FILE``: a JSON file of the same shape (merged, env wins).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from headwater.errors import UserInputError

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    text = env.get(key)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UserInputError(f"{key}={text!r} is not a whole number of bytes") from None
    if value <= 0:
        raise UserInputError(f"{key} must be positive, got {value}")
    return value


def _flag(env: Mapping[str, str], key: str) -> bool:
    text = env.get(key, "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise UserInputError(f"{key}={env[key]!r}: use 1 (on) or 0 (off)")


def _secrets(text: str, where: str) -> dict[str, str]:
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"{where} is not JSON ({exc})") from None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in found.items()
    ):
        raise UserInputError(f'{where} must be a JSON object {{"<source>": "<secret>", ...}}')
    return found


@dataclass(frozen=True)
class ApiConfig:
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    max_request_bytes: int | None = None  # None: max_batch_bytes
    metrics_public: bool = False

    @property
    def request_limit(self) -> int:
        """The largest request body of any kind."""
        return self.max_batch_bytes if self.max_request_bytes is None else self.max_request_bytes

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiConfig:
        env = os.environ if env is None else env
        secrets: dict[str, str] = {}
        path = env.get("HEADWATER_WEBHOOK_SECRETS_FILE")
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise UserInputError(f"HEADWATER_WEBHOOK_SECRETS_FILE: {exc}") from None
            secrets.update(_secrets(text, path))
        if env.get("HEADWATER_WEBHOOK_SECRETS"):
            secrets.update(_secrets(env["HEADWATER_WEBHOOK_SECRETS"], "HEADWATER_WEBHOOK_SECRETS"))
        max_event = _int(env, "HEADWATER_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES)
        max_batch = _int(env, "HEADWATER_MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES)
        return cls(
            max_event,
            max(max_batch, max_event),
            secrets,
            max_request_bytes=_int(env, "HEADWATER_MAX_REQUEST_BYTES", max(max_batch, max_event)),
            metrics_public=_flag(env, "HEADWATER_METRICS_PUBLIC"),
        )
