"""What the client hands back: executions and artifact versions, read from stored rows."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.definitions.cards import Card
from headwater.definitions.names import parse_time_text
from headwater.definitions.storable import readable, utc_or_none
from headwater.errors import ExecutionFailedError
from headwater.storage import artifacts as artifact_rows
from headwater.storage import executions as execution_rows
from headwater.types import decode

if TYPE_CHECKING:
    from headwater.instance import Instance


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


def _time_partition(text: str | None) -> datetime | None:
    try:
        return parse_time_text(text) if text else None
    except ValueError:  # not written by this version: shown as no time partition
        return None


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class NodeExecution:
    """One recorded task call inside an execution."""

    def __init__(self, row: Any) -> None:
        self.node_id: str = row["node_id"]
        self.name: str = row["name"]
        self.kind: str = row["kind"]
        self.status = ExecutionStatus(row["status"])
        self.input_literals: dict[str, Any] = _loads(row["inputs"]) or {}
        self.output_literals: dict[str, Any] = _loads(row["outputs"]) or {}
        self.error: dict[str, Any] | None = _loads(row["error"])
        self.attempts: int = row["attempts"]
        self.cached_from: str | None = row["cached_from"]
        self.started_at = _ts(row["started_at"])
        self.finished_at = _ts(row["finished_at"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "inputs": readable(self.input_literals),
            "outputs": readable(self.output_literals),
            "error": readable(self.error),
            "attempts": self.attempts,
            "cached_from": self.cached_from,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


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

    def _load(self, row: Any) -> None:
        self.id: str = row["id"]
        self.project: str = row["project"]
        self.domain: str = row["domain"]
        self.workflow: str = row["workflow"]
        self.workflow_version: str = row["workflow_version"]
        self.launch_plan: str | None = row["launch_plan"]
        self.status = ExecutionStatus(row["status"])
        self.input_literals: dict[str, Any] = _loads(row["inputs"]) or {}
        self.resolved_inputs: dict[str, Any] = _loads(row["resolved"]) or {}
        self.output_literals: dict[str, Any] = _loads(row["outputs"]) or {}
        self.error: dict[str, Any] | None = _loads(row["error"])
        self.trigger: dict[str, Any] | None = _loads(row["trigger"])
        self.created_at = _ts(row["created_at"])
        self.started_at = _ts(row["started_at"])
        self.finished_at = _ts(row["finished_at"])
        self.__dict__.pop("inputs", None)
        self.__dict__.pop("outputs", None)

    @cached_property
    def inputs(self) -> dict[str, Any]:
        """The fully resolved inputs, as Python values."""
        return {
            k: decode(v, self._type("inputs", k) or known_type(v), self._inst.blobs)
            for k, v in self.input_literals.items()
        }

    @cached_property
    def outputs(self) -> dict[str, Any]:
        """Outputs by name (``o0`` for a single unnamed output), as Python values."""
        return {
            k: decode(v, self._type("outputs", k) or known_type(v), self._inst.blobs)
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
            return [NodeExecution(r) for r in execution_rows.list_nodes(tx, self.id)]

    @property
    def produced(self) -> list[ArtifactVersion]:
        """The artifact versions this execution produced, oldest first."""
        with self._inst.db.read() as tx:
            rows = artifact_rows.versions_of_execution(tx, self.id)
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

    def to_dict(self, nodes: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "project": self.project,
            "domain": self.domain,
            "workflow": self.workflow,
            "workflow_version": self.workflow_version,
            "launch_plan": self.launch_plan,
            "status": self.status.value,
            "inputs": readable(self.input_literals),
            "resolved_inputs": readable(self.resolved_inputs),
            "outputs": readable(self.output_literals),
            "error": readable(self.error),
            "trigger": readable(self.trigger),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration": self.duration,
        }
        if nodes:
            body["nodes"] = [n.to_dict() for n in self.nodes]
        return body

    def __repr__(self) -> str:
        return f"<Execution {self.id} {self.workflow} {self.status.value}>"


class ArtifactVersion:
    """One immutable version of an artifact."""

    def __init__(self, inst: Instance, row: Any) -> None:
        self._inst = inst
        self.id: int = row["id"]
        self.project: str = row["project"]
        self.domain: str = row["domain"]
        self.name: str = row["name"]
        self.version: str = row["version"]
        self.partitions: dict[str, str] = json.loads(row["partitions"])
        self.time_partition: datetime | None = _time_partition(row["time_partition"])
        self.literal: dict[str, Any] = json.loads(row["value"])
        self.execution_id: str | None = row["execution_id"]
        self.node_id: str | None = row["node_id"]
        self.output_name: str | None = row["output_name"]
        self.created_at = utc_or_none(row["created_at"]) or datetime.fromtimestamp(0, UTC)

    @property
    def uri(self) -> str:
        return f"hw://{self.project}/{self.domain}/{self.name}@{self.version}"

    @cached_property
    def cards(self) -> list[Card]:
        with self._inst.db.read() as tx:
            return [Card.from_dict(dict(r)) for r in artifact_rows.list_cards(tx, self.id)]

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
        return decode(self.literal, as_type or known_type(self.literal), self._inst.blobs)

    def download(self, path: str | Path) -> Path:
        """Write the stored bytes (a file, a directory, or the serialized value) under ``path``."""
        dest = Path(path)
        fmt = self.literal.get("format")
        if fmt == "directory":
            return self._inst.blobs.get_tree(self.literal["blob"], dest)
        if fmt == "none":
            raise ValueError(f"{self.uri} holds None; there is nothing to download")
        if "blob" not in self.literal:  # small JSON held inline in the literal
            dest = dest / f"{self.name}-{self.version}.json" if dest.is_dir() else dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(self.literal["value"], sort_keys=True))
            return dest
        if dest.is_dir():
            ext = {
                "parquet-pandas": ".parquet",
                "parquet-arrow": ".parquet",
                "npy": ".npy",
                "json": ".json",
                "pickle": ".pkl",
                "bytes": ".bin",
            }.get(fmt or "", "")
            dest = dest / (self.literal.get("name") or f"{self.name}-{self.version}{ext}")
        return self._inst.blobs.get_file(self.literal["blob"], dest)

    def to_dict(self, cards: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uri": self.uri,
            "project": self.project,
            "domain": self.domain,
            "name": self.name,
            "version": self.version,
            "partitions": readable(self.partitions),
            "time_partition": self.time_partition.isoformat() if self.time_partition else None,
            "value": readable(self.literal),
            "execution_id": self.execution_id,
            "node_id": self.node_id,
            "output": self.output_name,
            "created_at": self.created_at.isoformat(),
        }
        if cards:
            body["cards"] = [c.to_dict() for c in self.cards]
        return body

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactVersion) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __repr__(self) -> str:
        return f"<ArtifactVersion {self.uri}>"


class EventRecord:
    """A stored event: name, id, source, payload and when it happened."""

    def __init__(self, row: Any) -> None:
        self.seq: int = row.seq
        self.id: str = row.id
        self.name: str = row.name
        self.source: str = row.source
        self.subject: str | None = row.subject
        self.project: str = row.project
        self.domain: str = row.domain
        # None for a time no datetime can hold (stored before times were checked)
        self.timestamp: datetime | None = utc_or_none(row.time)
        self.payload: dict[str, Any] = json.loads(row.payload)
        self.attributes: dict[str, Any] = json.loads(row.attributes)
        # Filled by get_event(): the reactor's decisions, and whether it has decided yet.
        self.decisions: list[Any] = []
        self.decided: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "subject": self.subject,
            "project": self.project,
            "domain": self.domain,
            "time": self.timestamp.isoformat() if self.timestamp else None,
            "payload": readable(self.payload),
            "attributes": readable(self.attributes),
            "decided": self.decided,
            "decisions": [d.to_dict() for d in self.decisions],
        }

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.id}>"
