"""Headwater's own OpenLineage facets, with JSON schemas shipped next to this module.

Each is a facet class of the ``openlineage-python`` client, so it serialises with the
standard ones (``_producer`` and ``_schemaURL`` included). The schemas live in ``schemas/``
under :data:`SCHEMA_BASE`; a consumer that validates facets can load them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attr
from openlineage.client.generated.base import DatasetFacet, RunFacet

#: Where the custom facets' schemas are named (their ``$id``); the files are in SCHEMA_DIR.
SCHEMA_BASE = "https://headwater.invalid/spec/facets/1-0-0/"
SCHEMA_DIR = Path(__file__).with_name("schemas")


def _url(name: str) -> str:
    return f"{SCHEMA_BASE}{name}.json#/$defs/{name}"


@attr.define
class HeadwaterPartitionsDatasetFacet(DatasetFacet):
    """The partition values (and time partition) of an artifact version."""

    partitions: dict[str, str] = attr.field(factory=dict)
    timePartition: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return _url("HeadwaterPartitionsDatasetFacet")


@attr.define
class HeadwaterTriggerRunFacet(RunFacet):
    """The launch plan that started the run, its trigger kind and the events it fired on."""

    launchPlan: str
    kind: str
    events: list[dict[str, Any]] = attr.field(factory=list)
    launchPlanVersion: str | None = attr.field(default=None)
    artifacts: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return _url("HeadwaterTriggerRunFacet")


@attr.define
class HeadwaterExecutionRunFacet(RunFacet):
    """The Headwater execution behind a run (the runId is derived from its id)."""

    executionId: str
    workflowVersion: str
    status: str | None = attr.field(default=None)
    attempts: int | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return _url("HeadwaterExecutionRunFacet")
