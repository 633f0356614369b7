"""What the client hands back: executions, artifact versions and events.

Embedded, a handle reads its storage row in one function per resource (``_execution_fields``
& co.); client mode builds the same classes from the wire models of ``headwater.schemas``
(``from_model`` / ``_set_model``). ``to_model()`` is the only serialized form.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.definitions.cards import Card
from headwater.definitions.names import parse_time_text
from headwater.definitions.storable import readable, utc_or_none
from headwater.errors import ExecutionFailedError
from headwater.storage import artifact_versions as version_rows
from headwater.storage import cards as card_rows
from headwater.storage import executions as execution_rows
from headwater.storage import node_executions as node_rows
from headwater.storage import worker_registry
from headwater.types import decode, download_suffix

if TYPE_CHECKING:
    from headwater import schemas
    from headwater.instance import Instance
    from headwater.storage.artifact_versions import ArtifactVersionRow
    from headwater.storage.blobs import BlobStore
    from headwater.storage.cards import CardRow


class ExecutionStatus(StrEnum):
    """The state of an execution."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)

    def __str__(self) -> str:
        return self.value


def known_type(literal: dict[str, Any]) -> Any:
    """The class a JSON literal was stored as, if its module is already imported (never imports:
    reading a value must not run code)."""
    name = literal.get("type", "")
    if literal.get("format") != "json" or "." not in name or "[" in name:
        return None
    module, _, attr = name.rpartition(".")
    found = getattr(sys.modules.get(module), attr, None)
    return found if isinstance(found, type) else None


def _ts(value: float | None) -> datetime | None:
    return utc_or_none(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _time_partition(text: str | None) -> datetime | None:
    try:
        return parse_time_text(text) if text else None
    except ValueError:  # not written by this version: shown as no time partition
        return None


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# -- stored row -> handle fields: the one place each handle reads a storage row ---------------
def _node_fields(row: Any) -> dict[str, Any]:
    return {
        "node_id": row.node_id,
        "name": row.name,
        "kind": row.kind,
        "status": row.status,
        "input_literals": _loads(row.inputs) or {},
        "output_literals": _loads(row.outputs) or {},
        "error": _loads(row.error),
        "attempts": row.attempts,
        "cached_from": row.cached_from,
        "started_at": _ts(row.started_at),
        "finished_at": _ts(row.finished_at),
        "retry_log": _loads(getattr(row, "retry_log", None)) or [],
    }


def _execution_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "project": row.project,
        "domain": row.domain,
        "workflow": row.workflow,
        "workflow_version": row.workflow_version,
        "launch_plan": row.launch_plan,
        "status": row.status,
        "input_literals": _loads(row.inputs) or {},
        "resolved_inputs": _loads(row.resolved) or {},
        "output_literals": _loads(row.outputs) or {},
        "error": _loads(row.error),
        "trigger": _loads(row.trigger),
        "created_at": _ts(row.created_at),
        "started_at": _ts(row.started_at),
        "finished_at": _ts(row.finished_at),
        "queue": getattr(row, "queue", "default"),
    }


def _version_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "project": row.project,
        "domain": row.domain,
        "name": row.name,
        "version": row.version,
        "partitions": json.loads(row.partitions),
        "time_partition": _time_partition(row.time_partition),
        "literal": json.loads(row.value),
        "execution_id": row.execution_id,
        "node_id": row.node_id,
        "output_name": row.output_name,
        "created_at": utc_or_none(row.created_at) or datetime.fromtimestamp(0, UTC),
    }


def _card(row: CardRow) -> Card:
    return Card.from_dict({"kind": row.kind, "text": row.text})


def _event_fields(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "id": row.id,
        "name": row.name,
        "source": row.source,
        "subject": row.subject,
        "project": row.project,
        "domain": row.domain,
        # None for a time no datetime can hold (stored before times were checked)
        "timestamp": utc_or_none(row.time),
        "payload": json.loads(row.payload),
        "attributes": json.loads(row.attributes),
    }


class NodeExecution:
    """One recorded task call inside an execution."""

    def __init__(self, row: Any) -> None:
        self._set(**_node_fields(row))

    def _set(
        self,
        *,
        node_id: str,
        name: str,
        kind: str,
        status: str,
        input_literals: dict[str, Any],
        output_literals: dict[str, Any],
        error: dict[str, Any] | None,
        attempts: int,
        cached_from: str | None,
        started_at: datetime | None,
        finished_at: datetime | None,
        retry_log: list[dict[str, Any]] | None = None,
    ) -> None:
        self.node_id = node_id
        self.name = name
        self.kind = kind
        self.status = ExecutionStatus(status)
        self.input_literals = input_literals
        self.output_literals = output_literals
        self.error = error
        self.attempts = attempts
        self.cached_from = cached_from
        self.started_at = started_at
        self.finished_at = finished_at
        #: One entry per retry: ``{"attempt": 2, "wait": 1.0, "error": "ValueError: ..."}``
        #: (the seconds waited before that attempt, and what failed the one before).
        self.retry_log = list(retry_log or [])

    @classmethod
    def from_model(cls, model: schemas.NodeExecution) -> NodeExecution:
        """The node execution a wire model describes."""
        node = cls.__new__(cls)
        node._set(
            node_id=model.node_id,
            name=model.name,
            kind=model.kind,
            status=model.status,
            input_literals=model.inputs,
            output_literals=model.outputs,
            error=model.error,
            attempts=model.attempts,
            cached_from=model.cached_from,
            started_at=_from_iso(model.started_at),
            finished_at=_from_iso(model.finished_at),
            retry_log=model.retry_log,
        )
        return node

    def to_model(self) -> schemas.NodeExecution:
        """The wire form (what the API returns and ``--json`` prints)."""
        from headwater import schemas

        return schemas.NodeExecution(
            node_id=self.node_id,
            name=self.name,
            kind=self.kind,
            status=self.status.value,
            inputs=readable(self.input_literals),
            outputs=readable(self.output_literals),
            error=readable(self.error),
            attempts=self.attempts,
            cached_from=self.cached_from,
            started_at=_iso(self.started_at),
            finished_at=_iso(self.finished_at),
            retry_log=self.retry_log,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")


class Execution:
    """A recorded run of a workflow: ``.id .status .inputs .outputs .wait()`` and more."""

    def __init__(self, inst: Instance, row: Any, entity: Any = None) -> None:
        self._inst = inst
        # With the entity at hand, values decode to their declared types (dataclasses, ...);
        # an execution read back by id decodes by stored format alone.
        self._entity = entity
        self._load(row)

    def _type(self, kind: str, name: str) -> Any:
        if self._entity is None:
            return None
        specs = getattr(self._entity.interface, kind)
        return specs[name].type if name in specs else None

    def _blobs(self) -> BlobStore:
        """Where blob-backed values are read from."""
        return self._inst.blobs

    def _load(self, row: Any) -> None:
        self._set(**_execution_fields(row))

    def _set(
        self,
        *,
        id: str,
        project: str,
        domain: str,
        workflow: str,
        workflow_version: str,
        launch_plan: str | None,
        status: str,
        input_literals: dict[str, Any],
        resolved_inputs: dict[str, Any],
        output_literals: dict[str, Any],
        error: dict[str, Any] | None,
        trigger: dict[str, Any] | None,
        created_at: datetime | None,
        started_at: datetime | None,
        finished_at: datetime | None,
        queue: str = "default",
    ) -> None:
        self.id = id
        self.queue = queue
        self._waiting: str | None = None
        self._waiting_known = False
        self.project = project
        self.domain = domain
        self.workflow = workflow
        self.workflow_version = workflow_version
        self.launch_plan = launch_plan
        self.status = ExecutionStatus(status)
        self.input_literals = input_literals
        self.resolved_inputs = resolved_inputs
        self.output_literals = output_literals
        self.error = error
        self.trigger = trigger
        self.created_at = created_at
        self.started_at = started_at
        self.finished_at = finished_at
        self.__dict__.pop("inputs", None)
        self.__dict__.pop("outputs", None)

    def _set_model(self, model: schemas.Execution) -> None:
        self._set(
            id=model.id,
            project=model.project,
            domain=model.domain,
            workflow=model.workflow,
            workflow_version=model.workflow_version,
            launch_plan=model.launch_plan,
            status=model.status,
            input_literals=model.inputs,
            resolved_inputs=model.resolved_inputs,
            output_literals=model.outputs,
            error=model.error,
            trigger=model.trigger,
            created_at=_from_iso(model.created_at),
            started_at=_from_iso(model.started_at),
            finished_at=_from_iso(model.finished_at),
            queue=model.queue,
        )
        self._waiting, self._waiting_known = model.waiting, True

    @property
    def waiting(self) -> str | None:
        """While queued on a queue that no worker has served lately, why it waits
        (``"queued on 'gpu': no worker serves it ..."``); else None."""
        if not self._waiting_known:
            self._waiting_known = True
            if self.status is ExecutionStatus.QUEUED:
                with self._inst.db.read() as tx:
                    if not worker_registry.is_served(tx, self.queue, now=time.time()):
                        self._waiting = worker_registry.waiting_reason(self.queue)
        return self._waiting

    @cached_property
    def inputs(self) -> dict[str, Any]:
        """The fully resolved inputs, as Python values."""
        return {
            k: decode(v, self._type("inputs", k) or known_type(v), self._blobs())
            for k, v in self.input_literals.items()
        }

    @cached_property
    def outputs(self) -> dict[str, Any]:
        """Outputs by name (``o0`` for a single unnamed output), as Python values."""
        return {
            k: decode(v, self._type("outputs", k) or known_type(v), self._blobs())
            for k, v in self.output_literals.items()
        }

    @property
    def output(self) -> Any:
        """The single output of a workflow with one output."""
        if len(self.output_literals) != 1:
            raise AttributeError(
                f"execution {self.id} has {len(self.output_literals)} outputs; "
                f"use .outputs[name] ({', '.join(self.output_literals)})"
            )
        return next(iter(self.outputs.values()))

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def nodes(self) -> list[NodeExecution]:
        with self._inst.db.read() as tx:
            return [NodeExecution(r) for r in node_rows.list_nodes(tx, self.id)]

    @property
    def produced(self) -> list[ArtifactVersion]:
        """The artifact versions this execution produced, oldest first."""
        with self._inst.db.read() as tx:
            rows = version_rows.versions_of_execution(tx, self.id)
        return [ArtifactVersion(self._inst, r) for r in rows]

    def refresh(self) -> Execution:
        with self._inst.db.read() as tx:
            self._load(execution_rows.get_execution(tx, self.id))
        return self

    def wait(
        self, timeout: float | None = None, poll: float = 0.05, raise_on_failure: bool = False
    ) -> Execution:
        """Block until the execution ends (or ``timeout`` seconds pass: TimeoutError)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.status.terminal:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"execution {self.id} is still {self.status.value} after {timeout} s"
                )
            time.sleep(poll)
            self.refresh()
        if raise_on_failure and self.status is ExecutionStatus.FAILED:
            err = self.error or {}
            raise ExecutionFailedError(
                f"execution {self.id} failed: {err.get('message')}",
                self.id,
                err.get("traceback", ""),
            )
        return self

    def to_model(self, nodes: bool = False) -> schemas.Execution:
        """The wire form (what the API returns and ``--json`` prints); ``nodes``: with the
        task calls."""
        from headwater import schemas

        return schemas.Execution(
            id=self.id,
            project=self.project,
            domain=self.domain,
            workflow=self.workflow,
            workflow_version=self.workflow_version,
            launch_plan=self.launch_plan,
            status=self.status.value,
            inputs=readable(self.input_literals),
            resolved_inputs=readable(self.resolved_inputs),
            outputs=readable(self.output_literals),
            error=readable(self.error),
            trigger=readable(self.trigger),
            created_at=_iso(self.created_at),
            started_at=_iso(self.started_at),
            finished_at=_iso(self.finished_at),
            duration=self.duration,
            nodes=[n.to_model() for n in self.nodes] if nodes else None,
            queue=self.queue,
            waiting=self.waiting,
        )

    def to_dict(self, nodes: bool = False) -> dict[str, Any]:
        return self.to_model(nodes).model_dump(mode="json", exclude=None if nodes else {"nodes"})

    def __repr__(self) -> str:
        return f"<Execution {self.id} {self.workflow} {self.status.value}>"


class ArtifactVersion:
    """One immutable version of an artifact."""

    def __init__(self, inst: Instance, row: ArtifactVersionRow) -> None:
        self._inst = inst
        self._set(**_version_fields(row))

    def _set(
        self,
        *,
        id: int,
        project: str,
        domain: str,
        name: str,
        version: str,
        partitions: dict[str, str],
        time_partition: datetime | None,
        literal: dict[str, Any],
        execution_id: str | None,
        node_id: str | None,
        output_name: str | None,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.project = project
        self.domain = domain
        self.name = name
        self.version = version
        self.partitions = partitions
        self.time_partition = time_partition
        self.literal = literal
        self.execution_id = execution_id
        self.node_id = node_id
        self.output_name = output_name
        self.created_at = created_at

    def _set_model(self, model: schemas.ArtifactVersion) -> None:
        """Fields from the wire form (``.id``, the row id, is not on the wire: 0)."""
        created = _from_iso(model.created_at)
        assert created is not None
        self._set(
            id=0,
            project=model.project,
            domain=model.domain,
            name=model.name,
            version=model.version,
            partitions=dict(model.partitions),
            time_partition=_from_iso(model.time_partition),
            literal=dict(model.value),
            execution_id=model.execution_id,
            node_id=model.node_id,
            output_name=model.output,
            created_at=created,
        )

    def _blobs(self) -> BlobStore:
        """Where blob-backed values are read from."""
        return self._inst.blobs

    @property
    def uri(self) -> str:
        return f"hw://{self.project}/{self.domain}/{self.name}@{self.version}"

    @cached_property
    def cards(self) -> list[Card]:
        with self._inst.db.read() as tx:
            return [_card(r) for r in card_rows.list_cards(tx, self.id)]

    @property
    def producer(self) -> Execution | None:
        """The execution that produced this version (None when published from outside)."""
        if self.execution_id is None:
            return None
        with self._inst.db.read() as tx:
            row = execution_rows.get_execution(tx, self.execution_id)
        return Execution(self._inst, row) if row else None

    def value(self, as_type: Any = None) -> Any:
        """The stored Python object (a dataclass or pydantic model comes back as its class when
        that class is imported in this process; pass ``as_type`` to choose)."""
        return decode(self.literal, as_type or known_type(self.literal), self._blobs())

    def download(self, path: str | Path) -> Path:
        """Write the stored bytes (a file, a directory, or the serialized value) under ``path``."""
        dest = Path(path)
        fmt = self.literal.get("format")
        if fmt == "directory":
            return self._blobs().get_tree(self.literal["blob"], dest)
        if fmt == "none":
            raise ValueError(f"{self.uri} holds None; there is nothing to download")
        if "blob" not in self.literal:  # small JSON held inline in the literal
            dest = dest / f"{self.name}-{self.version}.json" if dest.is_dir() else dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(self.literal["value"], sort_keys=True))
            return dest
        if dest.is_dir():
            ext = download_suffix(fmt or "")
            dest = dest / (self.literal.get("name") or f"{self.name}-{self.version}{ext}")
        return self._blobs().get_file(self.literal["blob"], dest)

    def to_model(self, cards: bool = True) -> schemas.ArtifactVersion:
        """The wire form (what the API returns and ``--json`` prints)."""
        from headwater import schemas

        return schemas.ArtifactVersion(
            uri=self.uri,
            project=self.project,
            domain=self.domain,
            name=self.name,
            version=self.version,
            partitions=readable(self.partitions),
            time_partition=_iso(self.time_partition),
            value=readable(self.literal),
            execution_id=self.execution_id,
            node_id=self.node_id,
            output=self.output_name,
            created_at=self.created_at.isoformat(),
            cards=[schemas.Card(**c.to_dict()) for c in self.cards] if cards else [],
        )

    def to_dict(self, cards: bool = True) -> dict[str, Any]:
        return self.to_model(cards).model_dump(mode="json", exclude=None if cards else {"cards"})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactVersion) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __repr__(self) -> str:
        return f"<ArtifactVersion {self.uri}>"


class EventRecord:
    """A stored event: name, id, source, payload and when it happened."""

    def __init__(self, row: Any) -> None:
        self._set(**_event_fields(row))

    def _set(
        self,
        *,
        seq: int,
        id: str,
        name: str,
        source: str,
        subject: str | None,
        project: str,
        domain: str,
        timestamp: datetime | None,
        payload: dict[str, Any],
        attributes: dict[str, Any],
        decisions: list[Any] | None = None,
        decided: bool | None = None,
    ) -> None:
        self.seq = seq
        self.id = id
        self.name = name
        self.source = source
        self.subject = subject
        self.project = project
        self.domain = domain
        self.timestamp = timestamp
        self.payload = payload
        self.attributes = attributes
        # Filled by get_event(): the reactor's decisions, and whether it has decided yet.
        self.decisions: list[Any] = decisions or []
        self.decided = decided

    @classmethod
    def from_model(cls, model: schemas.Event) -> EventRecord:
        """The event a wire model describes, with its decisions."""
        record = cls.__new__(cls)
        record._set(
            seq=model.seq,
            id=model.id,
            name=model.name,
            source=model.source,
            subject=model.subject,
            project=model.project,
            domain=model.domain,
            timestamp=_from_iso(model.time),
            payload=model.payload,
            attributes=model.attributes,
            decisions=[DecisionRecord.from_model(d) for d in model.decisions],
            decided=model.decided,
        )
        return record

    def to_model(self) -> schemas.Event:
        """The wire form (what the API returns and ``--json`` prints)."""
        from headwater import schemas

        return schemas.Event(
            seq=self.seq,
            id=self.id,
            name=self.name,
            source=self.source,
            subject=self.subject,
            project=self.project,
            domain=self.domain,
            time=_iso(self.timestamp),
            payload=readable(self.payload),
            attributes=readable(self.attributes),
            decided=self.decided,
            decisions=[d.to_model() for d in self.decisions],
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.id}>"


@dataclass(frozen=True)
class DecisionRecord:
    """What the reactor decided for one launch plan trigger about one event."""

    launch_plan: str
    launch_plan_version: str
    trigger: str
    outcome: str
    reason: str
    execution_id: str | None

    @property
    def fired(self) -> bool:
        return self.outcome == "fired"

    @classmethod
    def from_model(cls, model: schemas.Decision) -> DecisionRecord:
        """The decision a wire model describes."""
        return cls(
            model.launch_plan,
            model.launch_plan_version,
            model.trigger,
            model.outcome,
            model.reason,
            model.execution_id,
        )

    def to_model(self) -> schemas.Decision:
        """The wire form (what the API returns and ``--json`` prints)."""
        from headwater import schemas

        return schemas.Decision(
            launch_plan=self.launch_plan,
            launch_plan_version=self.launch_plan_version,
            trigger=self.trigger,
            outcome=self.outcome,
            reason=self.reason,
            execution_id=self.execution_id,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")
