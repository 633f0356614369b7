"""``ConcurrencyPolicy``: how many executions of a launch plan may run at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.errors import DefinitionError


@dataclass(frozen=True)
class ConcurrencyPolicy:
    """At most ``max_concurrency`` executions at once; extra firings ``queue`` or ``skip``."""

    max_concurrency: int
    behavior: str = "queue"

    def __post_init__(self) -> None:
        if not isinstance(self.max_concurrency, int) or self.max_concurrency < 1:
            raise DefinitionError(
                f"max_concurrency must be a whole number >= 1, got {self.max_concurrency!r}"
            )
        if self.behavior not in ("queue", "skip"):
            raise DefinitionError(
                f"ConcurrencyPolicy behavior must be 'queue' or 'skip', got {self.behavior!r}"
            )

    def spec(self) -> dict[str, Any]:
        return {"max_concurrency": self.max_concurrency, "behavior": self.behavior}
