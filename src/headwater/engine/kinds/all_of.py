"""``AllOf(t1, t2, ..., within=, key=)``: a join of its parts.

Each part is indexed as a leaf that knows its AllOf and its part number; the reactor keeps the
parts seen so far (``trigger_state``) per correlation value and fires once all have occurred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from headwater.engine.kinds.base import Kind, Leaf

if TYPE_CHECKING:
    from headwater.definitions.triggers import Trigger


class AllOfKind(Kind):
    """Parts are OnArtifact, OnEvent or OnFinish (the definitions refuse nesting)."""

    spec_kinds = ("all",)

    def leaves(self, spec: dict[str, Any], path: str) -> Iterator[Leaf]:
        for j, part in enumerate(spec["parts"]):
            yield f"{path}.{j}", part, spec, j

    def check(
        self,
        trigger: Trigger,
        inputs: dict[str, Any],
        artifact_types: Callable[[str], set[str]],
    ) -> list[str]:
        """``key`` must be a partition of every artifact part (an event part's payload is
        only known when it arrives)."""
        from headwater.definitions.triggers import AllOf, OnArtifact

        assert isinstance(trigger, AllOf)
        if trigger.key is None:
            return []
        return [
            f"AllOf(key={trigger.key!r}): artifact {part.artifact.name!r} has no partition "
            f"{trigger.key!r}; correlate on one of its partition keys "
            f"({', '.join(part.artifact.partition_keys) or 'none'}) or drop key="
            for part in trigger.parts
            if isinstance(part, OnArtifact) and trigger.key not in part.artifact.partition_keys
        ]

    def summary(self, spec: dict[str, Any]) -> str:
        return f"allof({len(spec['parts'])})"
