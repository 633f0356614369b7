"""``OnArtifact(..., on="card_added")``: a Model/Data card attached to a matching version.

Everything but the event it listens to is ``OnArtifact``'s: the same query, the same input
bindings (from the version the card was added to).
"""

from __future__ import annotations

from typing import Any

from headwater.engine import event_names
from headwater.engine.kinds.artifact import ArtifactCreated


class CardAdded(ArtifactCreated):
    """Fires once per card added to a matching version."""

    spec_kinds = ("card_added",)
    events = (event_names.ARTIFACT_CARD_ADDED,)
    key_name = "card_added"

    def describe(self, leaf: dict[str, Any]) -> str:
        return f"OnArtifact({leaf['artifact']!r}, on='card_added')"

    def summary(self, spec: dict[str, Any]) -> str:
        return f"card added to {spec['artifact']}"
