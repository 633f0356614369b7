"""Retention policies: what ``headwater gc`` may purge, read from settings and checked.

The ``retention`` setting (JSON text in ``HEADWATER_RETENTION``, or a ``[retention]`` table in
``config.toml``)::

    {"keep_last": 10, "keep_days": 30,            # every artifact without its own entry
     "events_days": 90, "executions_days": 180, "blobs_days": 1,
     "artifacts": {"daily_sales": {"keep_last": 3},  # by name, or "project/domain/name"
                   "raw_dump": {"keep_days": 7}}}

A version is kept when any rule keeps it: one of the last ``keep_last`` of its series (its
partitions and time partition), created within ``keep_days``, the newest of its series (always:
what every query default resolves to), or consumed by a kept execution / an ancestor of a kept
version through lineage. An artifact with neither ``keep_last`` nor ``keep_days`` keeps every
version. ``executions_days``, ``events_days`` and ``blobs_days`` are the ages after which
finished executions (with their node records), events with their decisions, and unreferenced
blobs may go; unset, they stay (blobs: one day, when any other age or rule is set).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from headwater.errors import UserInputError

DAY = 86_400.0
VERSION_KEYS = ("keep_last", "keep_days")
AGE_KEYS = ("events_days", "executions_days", "blobs_days")
DEFAULT_BLOBS_DAYS = 1.0


# A refused policy: the message names the policy and why (a UserInputError).
PolicyError = UserInputError


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions of an artifact may go; ``name`` is what tombstones record."""

    name: str
    keep_last: int | None = None
    keep_days: float | None = None

    @property
    def purges(self) -> bool:
        return self.keep_last is not None or self.keep_days is not None

    def describe(self) -> str:
        rules = []
        if self.keep_last is not None:
            rules.append(f"keep_last={self.keep_last}")
        if self.keep_days is not None:
            rules.append(f"keep_days={self.keep_days:g}")
        return f"{self.name} ({', '.join(rules)})" if rules else self.name


@dataclass(frozen=True)
class Retention:
    """Every policy: the default one, the per-artifact ones, and the ages."""

    default: VersionPolicy = field(default_factory=lambda: VersionPolicy("retention"))
    artifacts: dict[str, VersionPolicy] = field(default_factory=dict)
    events_days: float | None = None
    executions_days: float | None = None
    blobs_days: float | None = None

    def for_artifact(self, project: str, domain: str, name: str) -> VersionPolicy:
        """The policy of one artifact: its full name's entry, its name's, or the default."""
        return (
            self.artifacts.get(f"{project}/{domain}/{name}")
            or self.artifacts.get(name)
            or self.default
        )

    @property
    def configured(self) -> bool:
        return (
            self.default.purges
            or any(p.purges for p in self.artifacts.values())
            or any(getattr(self, k) is not None for k in AGE_KEYS)
        )

    def blob_age_days(self) -> float | None:
        """How old an unreferenced blob must be to go (None: blobs are not swept)."""
        if self.blobs_days is not None:
            return self.blobs_days
        return DEFAULT_BLOBS_DAYS if self.configured else None


def _number(where: str, key: str, value: Any, *, whole: bool, least: float) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and whole and not float(value).is_integer():
        ok = False
    if not ok or not math.isfinite(float(value)):
        kind = "a whole number" if whole else "a number of days"
        raise PolicyError(f"retention policy {where}: {key} must be {kind}, got {value!r}")
    if value < least:
        if key == "keep_last":
            raise PolicyError(
                f"retention policy {where}: keep_last={value} would delete the latest version "
                "of every partition, which is always kept (what queries resolve to); use "
                "keep_last >= 1"
            )
        raise PolicyError(f"retention policy {where}: {key} must be >= {least:g}, got {value!r}")
    return int(value) if whole else float(value)


def _version_policy(where: str, body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise PolicyError(f"retention policy {where} must be a table of settings, got {body!r}")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise PolicyError(
            f"retention policy {where}: unknown setting(s) {unknown}; known: {sorted(allowed)}"
        )
    out: dict[str, Any] = {}
    if body.get("keep_last") is not None:
        out["keep_last"] = _number(where, "keep_last", body["keep_last"], whole=True, least=1)
    if body.get("keep_days") is not None:
        out["keep_days"] = _number(where, "keep_days", body["keep_days"], whole=False, least=0)
    return out


def parse(raw: Any) -> Retention:
    """The policies of the ``retention`` setting (None/empty: keep everything)."""
    if raw is None or raw == "":
        return Retention()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise PolicyError(
                f"the retention setting is not valid JSON: {exc} (e.g. "
                "HEADWATER_RETENTION='{\"keep_last\": 10}')"
            ) from None
    top = ("artifacts", *VERSION_KEYS, *AGE_KEYS)
    default = _version_policy(
        "retention",
        {k: v for k, v in raw.items() if k in VERSION_KEYS} if isinstance(raw, dict) else raw,
        VERSION_KEYS,
    )
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - set(top))
        if unknown:
            raise PolicyError(
                f"retention policy retention: unknown setting(s) {unknown}; known: {sorted(top)}"
            )
    ages = {
        k: _number("retention", k, raw[k], whole=False, least=0)
        for k in AGE_KEYS
        if raw.get(k) is not None
    }
    per: dict[str, VersionPolicy] = {}
    arts = raw.get("artifacts") or {}
    if not isinstance(arts, dict):
        raise PolicyError(
            "retention policy retention.artifacts must map artifact names to policies, "
            f"got {arts!r}"
        )
    for name, body in arts.items():
        where = f"retention.artifacts.{name}"
        per[name] = VersionPolicy(where, **_version_policy(where, body, VERSION_KEYS))
    return Retention(VersionPolicy("retention", **default), per, **ages)


def check_triggers(retention: Retention, windows: list[tuple[str, float]]) -> None:
    """Refuse an ``events_days`` shorter than an active trigger's window: the events an
    ``AllOf(within=...)`` still waits to join would go. ``windows``: (launch plan, seconds)."""
    if retention.events_days is None:
        return
    for plan, seconds in windows:
        if retention.events_days * DAY < seconds:
            raise PolicyError(
                f"retention policy retention: events_days={retention.events_days:g} would "
                f"delete events the active launch plan {plan!r} still needs (its trigger "
                f"waits up to {seconds / DAY:g} days for all its events); set events_days "
                f">= {math.ceil(seconds / DAY)}"
            )
