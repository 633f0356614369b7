"""Settings of the HTTP API, read from ``HEADWATER_*`` environment variables.

- ``HEADWATER_MAX_EVENT_BYTES`` (default 1 MiB): the largest single-event request body, and
  the largest payload of any one event.
- ``HEADWATER_MAX_BATCH_BYTES`` (default 16 MiB): the largest batch of events.
- ``HEADWATER_MAX_REQUEST_BYTES`` (default: the batch limit): the largest request body of any
  kind, on every route (413 beyond, checked while the body streams in).
- ``HEADWATER_METRICS_PUBLIC=1``: serve ``/metrics`` without a token even when auth is on
  (for Prometheus scrapers); ``/openapi.json``, ``/docs`` and ``/redoc`` stay behind auth.
- ``HEADWATER_WEBHOOK_SECRETS``: the webhook secrets, a JSON list of rules
  ``[{"secret": "whsec_...", "names": ["deploy.*"], "sources": ["https://ci.example"]}]``.
  A rule protects every event whose name matches one of its ``names`` (shell-style patterns)
  from any source, and every event sent with one of its ``sources`` (exact); a protected
  event is accepted only in a request signed per Standard Webhooks with the secret of every
  rule that protects it (``secret`` may be a list: any one of them, for rotation). The older
  object form ``{"<source>": "<secret>"}`` still works and means one rule per source (with
  no names: it protects what claims that source, not event names).
- ``HEADWATER_WEBHOOK_SECRETS_FILE``: a JSON file of the same shape (merged: rules of both
  apply; in the object form the environment wins per source).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class WebhookRule:
    """Events that need a webhook signature: names matching ``names`` (from any source) and
    events claiming one of ``sources``. ``keys``: the secrets, as HMAC keys (any one signs)."""

    keys: tuple[bytes, ...]
    names: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def covers(self, name: object, source: object) -> bool:
        if source in self.sources:
            return True
        return isinstance(name, str) and any(fnmatchcase(name, p) for p in self.names)

    def describe(self) -> str:
        parts = [f"names {', '.join(self.names)}"] if self.names else []
        parts += [f"source {', '.join(self.sources)}"] if self.sources else []
        return " and ".join(parts)


def secret_key(secret: str, where: str = "a webhook secret") -> bytes:
    """The HMAC key of a secret: ``whsec_<base64>`` (Standard Webhooks) is decoded, any other
    text is used as its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except ValueError:
            raise UserInputError(
                f"{where}: a secret starting with 'whsec_' must continue in base64"
            ) from None
    return secret.encode()


def _strings(value: object, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UserInputError(f"{where}: {what} is a list of non-empty strings")
    return tuple(value)


def rule(spec: object, where: str) -> WebhookRule:
    """A ``WebhookRule`` from its JSON form (``secret``, ``names``, ``sources``)."""
    if isinstance(spec, WebhookRule):
        return spec
    if not isinstance(spec, Mapping) or not set(spec) <= {"secret", "names", "sources"}:
        raise UserInputError(
            f'{where}: a rule is {{"secret": ..., "names": [...], "sources": [...]}}'
        )
    if "secret" not in spec:
        raise UserInputError(f"{where}: the rule has no 'secret'")
    keys = tuple(secret_key(s, where) for s in _strings(spec["secret"], "secret", where))
    names = _strings(spec.get("names", []), "names", where)
    sources = _strings(spec.get("sources", []), "sources", where)
    if not names and not sources:
        raise UserInputError(
            f"{where}: the rule protects nothing; give it 'names' (event name patterns such "
            "as 'deploy.*') and/or 'sources'"
        )
    return WebhookRule(keys, names, sources)


def _secrets(text: str, where: str) -> tuple[dict[str, str], list[WebhookRule]]:
    """The old per-source object form, and rules in the list form."""
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"{where} is not JSON ({exc})") from None
    if isinstance(found, list):
        return {}, [rule(spec, f"{where} rule {i}") for i, spec in enumerate(found)]
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in found.items()
    ):
        raise UserInputError(
            f'{where} must be a JSON list of rules [{{"secret": ..., "names": [...], '
            f'"sources": [...]}}] or an object {{"<source>": "<secret>", ...}}'
        )
    return found, []


def rules_of(secrets: Any) -> tuple[WebhookRule, ...]:
    """Rules from either form: ``{"<source>": "<secret>"}`` or a list of rules."""
    if isinstance(secrets, Mapping):
        return tuple(
            WebhookRule((secret_key(v, f"the secret of {k!r}"),), sources=(k,))
            for k, v in secrets.items()
        )
    return tuple(rule(spec, f"webhook rule {i}") for i, spec in enumerate(secrets or ()))


@dataclass(frozen=True)
class ApiConfig:
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    # ``{"<source>": "<secret>"}`` or a list of rules (``WebhookRule`` or their JSON form).
    webhook_secrets: Any = field(default_factory=tuple)
    max_request_bytes: int | None = None  # None: max_batch_bytes
    metrics_public: bool = False
    webhook_rules: tuple[WebhookRule, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "webhook_rules", rules_of(self.webhook_secrets))

    @property
    def request_limit(self) -> int:
        """The largest request body of any kind."""
        return self.max_batch_bytes if self.max_request_bytes is None else self.max_request_bytes

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiConfig:
        env = os.environ if env is None else env
        by_source: dict[str, str] = {}
        rules: list[WebhookRule] = []
        path = env.get("HEADWATER_WEBHOOK_SECRETS_FILE")
        texts = []
        if path:
            try:
                texts.append((Path(path).read_text(encoding="utf-8"), path))
            except OSError as exc:
                raise UserInputError(f"HEADWATER_WEBHOOK_SECRETS_FILE: {exc}") from None
        if env.get("HEADWATER_WEBHOOK_SECRETS"):
            texts.append((env["HEADWATER_WEBHOOK_SECRETS"], "HEADWATER_WEBHOOK_SECRETS"))
        for text, where in texts:
            old_form, listed = _secrets(text, where)
            by_source.update(old_form)
            rules += listed
        secrets = (*rules_of(by_source), *rules)
        max_event = _int(env, "HEADWATER_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES)
        max_batch = _int(env, "HEADWATER_MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES)
        return cls(
            max_event,
            max(max_batch, max_event),
            secrets,
            max_request_bytes=_int(env, "HEADWATER_MAX_REQUEST_BYTES", max(max_batch, max_event)),
            metrics_public=_flag(env, "HEADWATER_METRICS_PUBLIC"),
        )
