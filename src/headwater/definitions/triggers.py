"""Triggers and schedules: when a launch plan starts its workflow by itself.

Every trigger turns into a JSON ``spec`` (what the reactor evaluates and what the launch
plan's version hashes) and declares the ``listens`` keys the reactor indexes it under, so an
event only reaches the triggers that listen to it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from headwater.definitions.artifact import (
    Artifact,
    ArtifactQuery,
    PartitionRef,
    TimePartitionRef,
)
from headwater.definitions.names import check_name
from headwater.errors import DefinitionError

ARTIFACT_EVENT = "headwater.artifact.created"
FINISH_EVENTS = {
    "succeeded": ("headwater.execution.succeeded",),
    "failed": ("headwater.execution.failed",),
    "any": ("headwater.execution.succeeded", "headwater.execution.failed"),
}
MAX_WINDOW = timedelta(days=366)


class Trigger(ABC):
    """Base class of everything a launch plan's ``trigger=`` accepts."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The JSON form the reactor evaluates."""

    def leaves(self) -> list[Trigger]:
        return [self]


def _binding_spec(value: Any, where: str) -> dict[str, Any]:
    """How one launch-plan input gets its value when a trigger fires."""
    if isinstance(value, Artifact):
        return {"kind": "artifact", "artifact": value.name}
    if isinstance(value, PartitionRef):
        return {"kind": "partition", "artifact": value.artifact.name, "key": value.key}
    if isinstance(value, TimePartitionRef):
        return {
            "kind": "time_partition",
            "artifact": value.artifact.name,
            "offset": value.offset.total_seconds(),
        }
    if isinstance(value, ArtifactQuery):
        parts = {
            k: _binding_spec(v, where)
            if isinstance(v, PartitionRef | TimePartitionRef)
            else {"kind": "literal", "value": v}
            for k, v in value.partitions.items()
        }
        tp = value.time_partition
        return {
            "kind": "query",
            "artifact": value.artifact.name,
            "project": value.project,
            "domain": value.domain,
            "partitions": parts,
            "time_partition": None
            if tp is None
            else _binding_spec(tp, where)
            if isinstance(tp, TimePartitionRef | PartitionRef)
            else {"kind": "literal", "value": _jsonable(tp, where)},
        }
    return {"kind": "literal", "value": _jsonable(value, where)}


def _jsonable(value: Any, where: str) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v, where) for k, v in value.items()}
    raise DefinitionError(
        f"{where}: literal {value!r} is not JSON-like; bind a str, number, "
        "bool, datetime, list or dict, or move the value to default_inputs"
    )


def _scope(project: str | None, domain: str | None) -> tuple[str | None, str | None]:
    return (
        check_name(project, "project") if project else None,
        check_name(domain, "domain") if domain else None,
    )


@dataclass(frozen=True, eq=False)
class OnArtifact(Trigger):
    """Fire once per new version of an artifact matching a query (unset keys match anything)::

    OnArtifact(trigger_on=Daily.query(region="EU"),
               inputs={"df": Daily, "day": Daily.time_partition})
    """

    trigger_on: Artifact | ArtifactQuery
    inputs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.trigger_on, Artifact | ArtifactQuery):
            raise DefinitionError(
                f"OnArtifact(trigger_on=...) takes an Artifact or a query, got "
                f"{type(self.trigger_on).__name__}"
            )
        query = self.query
        for key, value in query.partitions.items():
            if not isinstance(value, str):
                raise DefinitionError(
                    f"OnArtifact on {query.artifact.name!r}: partition {key!r}"
                    " must be a literal string to match on"
                )

    @property
    def query(self) -> ArtifactQuery:
        t = self.trigger_on
        return t if isinstance(t, ArtifactQuery) else t.query()

    @property
    def artifact(self) -> Artifact:
        return self.query.artifact

    def spec(self) -> dict[str, Any]:
        q = self.query
        where = f"OnArtifact({q.artifact.name!r})"
        for value in self.inputs.values():
            ref = getattr(value, "artifact", None) if not isinstance(value, Artifact) else value
            if (
                isinstance(value, Artifact | PartitionRef | TimePartitionRef)
                and ref is not None
                and ref.name != q.artifact.name
            ):
                raise DefinitionError(
                    f"{where}: input binding {value!r} refers to artifact "
                    f"{ref.name!r}, but the trigger fires on "
                    f"{q.artifact.name!r}; use {ref.name}.query(...) instead"
                )
        tp = q.time_partition
        return {
            "kind": "artifact",
            "artifact": q.artifact.name,
            "project": q.project,
            "domain": q.domain,
            "partitions": dict(q.partitions),
            "time_partition": None if tp is None else _jsonable(tp, where),
            "inputs": {k: _binding_spec(v, f"{where} input {k!r}") for k, v in self.inputs.items()},
        }


def _parameters(parameters: Any, where: str) -> dict[str, str] | None:
    """``{"param": "field"}`` or a list of ``"name"`` / ``("param", "field")``; None: same names."""
    if parameters is None:
        return None
    if isinstance(parameters, dict):
        out = dict(parameters)
    elif isinstance(parameters, list | tuple):
        out = {}
        for item in parameters:
            if isinstance(item, str):
                out[item] = item
            elif isinstance(item, list | tuple) and len(item) == 2:
                out[str(item[0])] = str(item[1])
            else:
                raise DefinitionError(
                    f"{where}: parameters entries are 'name' or "
                    f"('param', 'payloadField'), got {item!r}"
                )
    else:
        raise DefinitionError(
            f"{where}: parameters must be a dict or a list, got {type(parameters).__name__}"
        )
    for k, v in out.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k or not v:
            raise DefinitionError(
                f"{where}: parameter mapping {k!r} -> {v!r} must map names to payload field names"
            )
    return out


@dataclass(frozen=True, eq=False)
class OnEvent(Trigger):
    """Fire on a custom event by exact name; payload fields map to inputs::

    OnEvent("data.updated", parameters={"table": "table_name"}, filter={"env": "prod"})
    """

    name: str
    parameters: Any = None
    filter: dict[str, Any] | None = None
    project: str | None = None
    domain: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "event name")
        _parameters(self.parameters, f"OnEvent({self.name!r})")
        if self.filter is not None and not isinstance(self.filter, dict):
            raise DefinitionError(
                f"OnEvent({self.name!r}): filter must be a dict of payload field -> required value"
            )
        _scope(self.project, self.domain)

    def spec(self) -> dict[str, Any]:
        where = f"OnEvent({self.name!r})"
        return {
            "kind": "event",
            "name": self.name,
            "parameters": _parameters(self.parameters, where),
            "filter": {k: _jsonable(v, where) for k, v in (self.filter or {}).items()},
            "project": self.project,
            "domain": self.domain,
        }


@dataclass(frozen=True, eq=False)
class OnFinish(Trigger):
    """Fire when an execution of another workflow ends with ``status``."""

    workflow: Any
    status: str = "succeeded"
    project: str | None = None
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.status not in FINISH_EVENTS:
            raise DefinitionError(
                f"OnFinish status must be 'succeeded', 'failed' or 'any', got {self.status!r}"
            )
        if not isinstance(self.workflow_name, str) or not self.workflow_name:
            raise DefinitionError("OnFinish takes a @workflow or its registered name")
        _scope(self.project, self.domain)

    @property
    def workflow_name(self) -> str:
        name = getattr(self.workflow, "name", self.workflow)
        return name if isinstance(name, str) else ""

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "finish",
            "workflow": self.workflow_name,
            "status": self.status,
            "project": self.project,
            "domain": self.domain,
        }


def _parts(parts: tuple[Any, ...], what: str) -> tuple[Trigger, ...]:
    if len(parts) < 2:
        raise DefinitionError(f"{what} needs at least two triggers")
    for part in parts:
        if not isinstance(part, Trigger):
            raise DefinitionError(
                f"{what} takes triggers (OnArtifact, OnEvent, OnFinish, ...), "
                f"got {type(part).__name__}"
            )
    return parts


class AnyOf(Trigger):
    """Fire when any of the parts fires."""

    def __init__(self, *parts: Trigger) -> None:
        self.parts = _parts(parts, "AnyOf")

    def spec(self) -> dict[str, Any]:
        return {"kind": "any", "parts": [p.spec() for p in self.parts]}

    def leaves(self) -> list[Trigger]:
        return [leaf for p in self.parts for leaf in p.leaves()]


class AllOf(Trigger):
    """Fire once every part has occurred (within ``within``, when given); with ``key`` the parts
    must agree on that partition or payload value (a correlated join)."""

    def __init__(
        self, *parts: Trigger, within: timedelta | None = None, key: str | None = None
    ) -> None:
        self.parts = _parts(parts, "AllOf")
        for p in self.parts:
            if isinstance(p, AnyOf | AllOf):
                raise DefinitionError(
                    "AllOf parts must be OnArtifact, OnEvent or OnFinish "
                    "triggers (nesting is not supported)"
                )
        if within is not None and (
            not isinstance(within, timedelta) or not timedelta(0) < within <= MAX_WINDOW
        ):
            raise DefinitionError(
                f"AllOf(within=...) must be a positive timedelta up to "
                f"{MAX_WINDOW.days} days, got {within!r}"
            )
        if key is not None and not isinstance(key, str):
            raise DefinitionError("AllOf(key=...) names a partition key or payload field")
        self.within = within
        self.key = key

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "all",
            "parts": [p.spec() for p in self.parts],
            "within": self.within.total_seconds() if self.within else None,
            "key": self.key,
        }

    def leaves(self) -> list[Trigger]:
        return list(self.parts)


@dataclass(frozen=True)
class CronSchedule:
    """Run on a cron schedule (``"0 * * * *"`` or ``@hourly``/``@daily``/``@weekly``/...)."""

    schedule: str
    kickoff_time_input_arg: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        from headwater.definitions.cron import get_zone, parse_cron

        parse_cron(self.schedule)
        if self.timezone is not None:
            get_zone(self.timezone)

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "cron",
            "schedule": self.schedule,
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class FixedRate:
    """Run every ``duration``."""

    duration: timedelta
    kickoff_time_input_arg: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.duration, timedelta) or self.duration < timedelta(seconds=1):
            raise DefinitionError(
                f"FixedRate duration must be a timedelta of at least 1 s, got {self.duration!r}"
            )

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "rate",
            "seconds": self.duration.total_seconds(),
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
        }


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
