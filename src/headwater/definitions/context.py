"""The hook between user code and the engine: which execution frame is running right now.

Definitions call into the active frame (a workflow execution or a task node) when one is set,
and behave as plain Python otherwise. The engine sets and resets it; nothing else does.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from headwater.definitions.artifact import Artifact
    from headwater.definitions.cards import Card
    from headwater.definitions.entity import Entity


class Frame(Protocol):
    """What the engine provides while user code runs."""

    def call(self, entity: Entity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    def add_output_metadata(
        self,
        artifact: Artifact,
        value: Any,
        cards: list[Card],
        time_partition: Any,
        partitions: dict[str, str],
    ) -> None: ...


ACTIVE: ContextVar[Frame | None] = ContextVar("headwater_active_frame", default=None)
