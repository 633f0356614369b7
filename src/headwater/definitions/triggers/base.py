"""What every trigger kind shares: the ``Trigger`` base class and the JSON helpers its specs
are built with.

A trigger turns into a JSON ``spec`` (what the reactor evaluates and what the launch plan's
version hashes); its ``"kind"`` names the engine module that evaluates it
(``headwater.engine.kinds``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from headwater.definitions.artifact import (
    Artifact,
    ArtifactQuery,
    PartitionRef,
    TimePartitionRef,
)
from headwater.definitions.names import check_name
from headwater.errors import DefinitionError, UserInputError


class Trigger(ABC):
    """Base class of everything a launch plan's ``trigger=`` accepts."""

    @property
    @abstractmethod
    def kind(self) -> str:
        """The ``"kind"`` of its spec: which engine kind evaluates it."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The JSON form the reactor evaluates."""

    def leaves(self) -> list[Trigger]:
        """The triggers that listen to events themselves (the parts of an AnyOf/AllOf)."""
        return [self]

    def problems(self, inputs: dict[str, Any], fixed_inputs: set[str]) -> list[str]:
        """What is wrong with this trigger in a launch plan of a workflow taking ``inputs``
        (input name -> spec) with ``fixed_inputs`` fixed; [] when nothing is."""
        return []


def binding_spec(value: Any, where: str) -> dict[str, Any]:
    """How one launch-plan input gets its value when a trigger fires (or, for a query, at
    launch)."""
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
            k: binding_spec(v, where)
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
            else binding_spec(tp, where)
            if isinstance(tp, TimePartitionRef | PartitionRef)
            else {"kind": "literal", "value": jsonable(tp, where)},
        }
    return {"kind": "literal", "value": jsonable(value, where)}


def jsonable(value: Any, where: str) -> Any:
    """A literal as JSON (datetimes as ``{"$datetime": iso}``), or a DefinitionError."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v, where) for k, v in value.items()}
    raise DefinitionError(
        f"{where}: literal {value!r} is not JSON-like; bind a str, number, "
        "bool, datetime, list or dict, or move the value to default_inputs"
    )


def declared_name(name: object, what: str) -> str:
    """``check_name`` for a name written in a definition: a bad one is a DefinitionError."""
    try:
        return check_name(name, what)
    except UserInputError as exc:
        raise DefinitionError(str(exc)) from None


def check_scope(project: str | None, domain: str | None) -> tuple[str | None, str | None]:
    """A trigger's own project/domain (None: the launch plan's)."""
    return (
        declared_name(project, "project") if project else None,
        declared_name(domain, "domain") if domain else None,
    )
