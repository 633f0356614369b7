"""Lineage graphs: artifact versions and executions, joined by consumed/produced edges."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from headwater.schemas._base import Wire


class LineageNode(Wire):
    model_config = ConfigDict(extra="allow")
    id: str
    kind: str = Field(description="artifact or execution")
    label: str


class LineageEdge(Wire):
    source: str
    target: str
    kind: str = Field(description="consumed (version -> execution) or produced")
    name: str


class Lineage(Wire):
    root: str
    direction: str
    depth: int | None = Field(description="generations each way; null: all")
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    next_cursor: str | None = Field(
        None, description="pass it as `cursor` for the next page; null on the last page"
    )
