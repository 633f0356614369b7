"""Artifact versions and their cards."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from headwater.schemas._base import Wire


class Card(Wire):
    model_config = ConfigDict(extra="allow")
    kind: str
    text: str


class ArtifactVersion(Wire):
    uri: str
    project: str
    domain: str
    name: str
    version: str
    partitions: dict[str, str]
    time_partition: str | None
    value: dict[str, Any] = Field(description="the stored literal (format, type, blob or value)")
    execution_id: str | None
    node_id: str | None
    output: str | None
    created_at: str
    cards: list[Card] = []
