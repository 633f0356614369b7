"""``AnyOf`` and ``AllOf``: triggers made of other triggers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from headwater.definitions.triggers.base import Trigger
from headwater.errors import DefinitionError

MAX_WINDOW = timedelta(days=366)


def _parts(parts: tuple[Any, ...], what: str) -> tuple[Trigger, ...]:
    if len(parts) < 2:
        raise DefinitionError(f"{what} needs at least two triggers")
    for part in parts:
        if not isinstance(part, Trigger):
            raise DefinitionError(
                f"{what} takes triggers (OnArtifact, OnEvent, OnFinish, ...), "
                f"got {type(part).__name__}"
            )
    return parts


class AnyOf(Trigger):
    """Fire when any of the parts fires."""

    def __init__(self, *parts: Trigger) -> None:
        self.parts = _parts(parts, "AnyOf")

    @property
    def kind(self) -> str:
        return "any"

    def spec(self) -> dict[str, Any]:
        return {"kind": "any", "parts": [p.spec() for p in self.parts]}

    def leaves(self) -> list[Trigger]:
        return [leaf for p in self.parts for leaf in p.leaves()]


class AllOf(Trigger):
    """Fire once every part has occurred (within ``within``, when given); with ``key`` the parts
    must agree on that partition or payload value (a correlated join)."""

    def __init__(
        self, *parts: Trigger, within: timedelta | None = None, key: str | None = None
    ) -> None:
        self.parts = _parts(parts, "AllOf")
        for p in self.parts:
            if isinstance(p, AnyOf | AllOf):
                raise DefinitionError(
                    "AllOf parts must be OnArtifact, OnEvent or OnFinish "
                    "triggers (nesting is not supported)"
                )
        if within is not None and (
            not isinstance(within, timedelta) or not timedelta(0) < within <= MAX_WINDOW
        ):
            raise DefinitionError(
                f"AllOf(within=...) must be a positive timedelta up to "
                f"{MAX_WINDOW.days} days, got {within!r}"
            )
        if key is not None and not isinstance(key, str):
            raise DefinitionError("AllOf(key=...) names a partition key or payload field")
        self.within = within
        self.key = key

    @property
    def kind(self) -> str:
        return "all"

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "all",
            "parts": [p.spec() for p in self.parts],
            "within": self.within.total_seconds() if self.within else None,
            "key": self.key,
        }

    def leaves(self) -> list[Trigger]:
        return list(self.parts)
