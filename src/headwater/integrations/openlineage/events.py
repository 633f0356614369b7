"""Build OpenLineage RunEvents from what the database records about an execution.

The same builder serves the outbox sender (one event per recorded state change) and the
``headwater lineage export`` backfill (the events of every stored execution), so both send
the same thing. Naming:

- job: namespace ``hw://<project>/<domain>``, name the module-qualified workflow;
- run: ``runId`` the execution id when it is a UUID, else a UUID derived from it (uuid5);
- datasets: namespace ``hw://<project>/<domain>``, name the artifact name; the exact version
  (``hw://…@N``) is in the ``version`` facet.

Node executions are not child runs: a node's artifact versions are the workflow run's inputs
and outputs (docs/openlineage.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.base import DatasetFacet, JobFacet, RunFacet
from openlineage.client.generated.dataset_version_dataset import DatasetVersionDatasetFacet
from openlineage.client.generated.documentation_dataset import DocumentationDatasetFacet
from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
from openlineage.client.generated.job_type_job import JobTypeJobFacet
from openlineage.client.generated.parent_run import Job as ParentJob
from openlineage.client.generated.parent_run import ParentRunFacet
from openlineage.client.generated.parent_run import Run as ParentRun
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields

from headwater import __version__
from headwater.integrations.openlineage.facets import (
    HeadwaterExecutionRunFacet,
    HeadwaterPartitionsDatasetFacet,
    HeadwaterTriggerRunFacet,
)
from headwater.storage import artifact_versions, cards, execution_links, lineage_edges
from headwater.storage import executions as execution_rows
from headwater.storage.artifact_versions import ArtifactVersionRow
from headwater.storage.db import Tx
from headwater.storage.executions import ExecutionRow

PRODUCER = f"https://headwater.invalid/headwater/{__version__}"
# uuid5 namespace of run ids derived from execution ids (fixed: the same id, the same runId).
_RUN_NAMESPACE = uuid.UUID("6f1c1f0e-5b7a-4d51-9a8e-1f2d3c4b5a69")
#: The run's end state -> the terminal eventType.
END_TYPES = {"succeeded": "COMPLETE", "failed": "FAIL", "cancelled": "ABORT"}

# Reads a table version's columns [(name, type)] from its literal ({} when not a table).
SchemaReader = Callable[[dict[str, Any]], list[tuple[str, str]]]


def run_id(execution_id: str) -> str:
    """The OpenLineage runId of an execution: its id if that is a UUID, else a UUID derived
    from it (the same every time)."""
    try:
        return str(uuid.UUID(execution_id))
    except ValueError:
        return str(uuid.uuid5(_RUN_NAMESPACE, execution_id))


def namespace(project: str, domain: str) -> str:
    """The namespace of a project/domain's jobs and datasets."""
    return f"hw://{project}/{domain}"


def iso(t: float) -> str:
    """Epoch seconds as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(t, UTC).isoformat()


def version_uri(v: ArtifactVersionRow) -> str:
    return f"hw://{v.project}/{v.domain}/{v.name}@{v.version}"


def card_title(text: str) -> str:
    """A card's title: its first non-empty line without Markdown heading marks."""
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""


@dataclass
class Builder:
    """Builds RunEvents inside a read transaction; ``schema_of`` reads a table's columns."""

    tx: Tx
    schema_of: SchemaReader | None = None

    def event(self, row: ExecutionRow, event_type: str, event_time: float) -> RunEvent:
        """The ``event_type`` RunEvent of execution ``row`` at ``event_time``."""
        ended = event_type in ("COMPLETE", "FAIL", "ABORT")
        inputs, outputs = self._datasets(row.id, with_outputs=ended)
        return RunEvent(
            eventType=RunState(event_type),
            eventTime=iso(event_time),
            run=Run(runId=run_id(row.id), facets=self._run_facets(row, event_type)),
            job=Job(
                namespace=namespace(row.project, row.domain),
                name=row.workflow,
                facets=self._job_facets(),
            ),
            inputs=inputs,
            outputs=outputs,
            producer=PRODUCER,
        )

    def history(self, row: ExecutionRow) -> list[RunEvent]:
        """The events of a stored execution: START, and its end event once it ended."""
        if row.status in ("queued", "skipped"):  # never ran
            return []
        start = row.started_at if row.started_at is not None else row.created_at
        found = [self.event(row, "START", start)]
        end = END_TYPES.get(row.status)
        if end is not None:
            found.append(self.event(row, end, row.finished_at or start))
        return found

    # -- run and job ---------------------------------------------------------------------
    def _job_facets(self) -> dict[str, JobFacet]:
        return {
            "jobType": JobTypeJobFacet(
                processingType="BATCH",
                integration="HEADWATER",
                jobType="WORKFLOW",
                producer=PRODUCER,
            )
        }

    def _run_facets(self, row: ExecutionRow, event_type: str) -> dict[str, RunFacet]:
        facets: dict[str, RunFacet] = {
            "headwater_execution": HeadwaterExecutionRunFacet(
                executionId=row.id,
                workflowVersion=row.workflow_version,
                status=row.status,
                attempts=row.attempts,
                producer=PRODUCER,
            )
        }
        trigger = json.loads(row.trigger) if row.trigger else None
        parent = self._parent(row, trigger)
        if parent is not None:
            facets["parent"] = parent
        if trigger:
            facets["headwater_trigger"] = HeadwaterTriggerRunFacet(
                launchPlan=str(trigger.get("launch_plan") or row.launch_plan or ""),
                launchPlanVersion=trigger.get("launch_plan_version"),
                kind=str(trigger.get("kind") or ""),
                events=[_event_ref(e) for e in trigger.get("events") or []],
                artifacts=[str(a) for a in trigger.get("artifacts") or []],
                producer=PRODUCER,
            )
        if event_type in ("FAIL", "ABORT") and row.error:
            error = json.loads(row.error)
            facets["errorMessage"] = ErrorMessageRunFacet(
                message=f"{error.get('type', 'Error')}: {error.get('message', '')}",
                programmingLanguage="python",
                stackTrace=error.get("traceback") or None,
                producer=PRODUCER,
            )
        return facets

    def _parent(self, row: ExecutionRow, trigger: dict[str, Any] | None) -> ParentRunFacet | None:
        """The upstream execution: the one relaunched, else the run whose end or whose
        artifact version fired the trigger, else any recorded link."""
        links = execution_links.links_of(self.tx, [row.id], upstream=True)
        relaunched = [link.upstream_id for link in links if link.kind == "relaunch"]
        candidates = relaunched + [str(r) for r in (trigger or {}).get("runs") or []]
        for e in (trigger or {}).get("events") or []:
            payload = e.get("payload") if isinstance(e, dict) else None
            if isinstance(payload, dict) and payload.get("execution_id"):
                candidates.append(str(payload["execution_id"]))
        candidates += sorted(link.upstream_id for link in links)
        candidates = [c for c in candidates if c != row.id]
        if not candidates:
            return None
        found = {s.id: s for s in execution_rows.summaries(self.tx, candidates[:20])}
        for c in candidates:
            up = found.get(c)
            if up is not None:
                return ParentRunFacet(
                    run=ParentRun(runId=run_id(up.id)),
                    job=ParentJob(namespace=namespace(up.project, up.domain), name=up.workflow),
                    producer=PRODUCER,
                )
        return None

    # -- datasets ------------------------------------------------------------------------
    def _datasets(
        self, execution_id: str, *, with_outputs: bool
    ) -> tuple[list[InputDataset], list[OutputDataset]]:
        consumed = lineage_edges.edges_of_executions(
            self.tx, [execution_id], lineage_edges.CONSUMED
        )
        produced = (
            lineage_edges.edges_of_executions(self.tx, [execution_id], lineage_edges.PRODUCED)
            if with_outputs
            else []
        )
        ids = sorted({e.version_id for e in consumed} | {e.version_id for e in produced})
        versions = {v.id: v for v in artifact_versions.get_versions_by_id(self.tx, ids)}
        ins = [versions[i] for i in sorted({e.version_id for e in consumed}) if i in versions]
        outs = [versions[i] for i in sorted({e.version_id for e in produced}) if i in versions]
        inputs = [
            InputDataset(
                namespace=namespace(v.project, v.domain), name=v.name, facets=self._facets(v)
            )
            for v in ins
        ]
        outputs = [
            OutputDataset(
                namespace=namespace(v.project, v.domain), name=v.name, facets=self._facets(v)
            )
            for v in outs
        ]
        return inputs, outputs

    def _facets(self, v: ArtifactVersionRow) -> dict[str, DatasetFacet]:
        facets: dict[str, DatasetFacet] = {
            "version": DatasetVersionDatasetFacet(datasetVersion=version_uri(v), producer=PRODUCER),
            "headwater_partitions": HeadwaterPartitionsDatasetFacet(
                partitions={str(k): str(x) for k, x in json.loads(v.partitions).items()},
                timePartition=v.time_partition,
                producer=PRODUCER,
            ),
        }
        columns = self._columns(v)
        if columns:
            facets["schema"] = SchemaDatasetFacet(
                fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in columns],
                producer=PRODUCER,
            )
        found = cards.list_cards(self.tx, v.id)
        title = card_title(found[0].text) if found else ""
        if title:
            facets["documentation"] = DocumentationDatasetFacet(
                description=title, producer=PRODUCER
            )
        return facets

    def _columns(self, v: ArtifactVersionRow) -> list[tuple[str, str]]:
        if self.schema_of is None:
            return []
        literal = json.loads(v.value)
        if not str(literal.get("format", "")).startswith("parquet-"):
            return []
        return self.schema_of(literal)


def _event_ref(e: Any) -> dict[str, Any]:
    """What the trigger facet says of an event: name, id, source, subject."""
    if not isinstance(e, dict):
        return {"name": str(e), "id": ""}
    ref = {"name": str(e.get("name", "")), "id": str(e.get("id", ""))}
    for key in ("source", "subject"):
        if e.get(key):
            ref[key] = str(e[key])
    return ref


def to_dict(event: RunEvent) -> dict[str, Any]:
    """The event as the JSON object the client sends."""
    from openlineage.client.serde import Serde

    return Serde.to_dict(event)


def to_json(event: RunEvent) -> str:
    """The event as one line of JSON (NDJSON)."""
    return json.dumps(to_dict(event), sort_keys=True, separators=(",", ":"))


def table_columns(blobs: Any, keep: int = 256) -> SchemaReader:
    """A :data:`SchemaReader` over ``blobs``: a table's columns from its Parquet footer (as the
    UI's Object tab shows them), remembered per blob; [] when the value cannot be read."""
    from headwater.types import families

    seen: dict[str, list[tuple[str, str]]] = {}

    def read(literal: dict[str, Any]) -> list[tuple[str, str]]:
        key = str(literal.get("blob"))
        if key in seen:
            return seen[key]
        try:
            summary = families.summarize(literal, blobs)
        except Exception:  # a missing or damaged blob: the event goes without a schema
            return []
        columns = list(summary.columns) if summary.kind == "table" else []
        if len(seen) >= keep:
            seen.clear()
        seen[key] = columns
        return columns

    return read
