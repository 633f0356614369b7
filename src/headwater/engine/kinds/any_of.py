"""``AnyOf(t1, t2, ...)``: each part is indexed as a trigger of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from headwater.engine.kinds.base import Kind, Leaf


class AnyOfKind(Kind):
    """Fires whenever any part fires; its parts' kinds do the rest."""

    spec_kinds = ("any",)

    def leaves(self, spec: dict[str, Any], path: str) -> Iterator[Leaf]:
        from headwater.engine.kinds import kind_of

        for j, part in enumerate(spec["parts"]):
            yield from kind_of(part).leaves(part, f"{path}.{j}")

    def summary(self, spec: dict[str, Any]) -> str:
        return f"anyof({len(spec['parts'])})"
