"""Trigger kinds, one module each, and the registry that finds them.

Adding a kind is adding a module with a ``Kind`` subclass (``base.py`` says what it provides)
and one line in ``KINDS``; its definitions-side class (``headwater.definitions.triggers``)
writes specs whose ``"kind"`` is one of the kind's ``spec_kinds``.
"""

from __future__ import annotations

from typing import Any

from headwater.engine.kinds.all_of import AllOfKind
from headwater.engine.kinds.any_of import AnyOfKind
from headwater.engine.kinds.artifact import ArtifactCreated
from headwater.engine.kinds.base import Key, Kind, Names
from headwater.engine.kinds.card_added import CardAdded
from headwater.engine.kinds.event import CustomEvent
from headwater.engine.kinds.finish import Finish
from headwater.engine.kinds.schedule import Cron, Rate, Schedule

CUSTOM_EVENTS = CustomEvent()
KINDS: tuple[Kind, ...] = (
    ArtifactCreated(),
    CardAdded(),
    CUSTOM_EVENTS,
    Finish(),
    Cron(),
    Rate(),
    AnyOfKind(),
    AllOfKind(),
)

_BY_SPEC = {name: kind for kind in KINDS for name in kind.spec_kinds}
_BY_EVENT = {name: kind for kind in KINDS for name in kind.events}


def kind_of(spec: dict[str, Any]) -> Kind:
    """The kind that evaluates a trigger or schedule spec."""
    try:
        return _BY_SPEC[spec["kind"]]
    except KeyError:
        raise ValueError(
            f"unknown trigger kind {spec.get('kind')!r}; known: {', '.join(_BY_SPEC)}"
        ) from None


def kind_named(name: str) -> Kind:
    """The kind of a definitions-side trigger's ``kind``."""
    return kind_of({"kind": name})


def event_key(name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
    """The index key an event reaches: its kind's, or a custom event's by name."""
    return _BY_EVENT.get(name, CUSTOM_EVENTS).event_key(name, project, domain, payload)


def schedule_kind(spec: dict[str, Any]) -> Schedule:
    """The kind of a launch plan's ``schedule`` spec (cron or fixed rate)."""
    kind = kind_of(spec)
    assert isinstance(kind, Schedule), spec
    return kind


def summary(spec: dict[str, Any]) -> str:
    """A trigger or schedule spec in a few words (``headwater launchplans list``)."""
    kind = _BY_SPEC.get(spec.get("kind", ""))
    return kind.summary(spec) if kind else str(spec.get("kind"))


__all__ = [
    "KINDS",
    "Key",
    "Kind",
    "Names",
    "event_key",
    "kind_named",
    "kind_of",
    "schedule_kind",
    "summary",
]
