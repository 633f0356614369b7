"""``OnArtifact``: fire on a new version of an artifact, or on a card added to one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headwater.definitions.artifact import (
    Artifact,
    ArtifactQuery,
    PartitionRef,
    TimePartitionRef,
)
from headwater.definitions.triggers.base import Trigger, binding_spec, jsonable
from headwater.errors import DefinitionError

# ``on=`` -> the kind of the spec (the engine kind that evaluates it).
ON = {"created": "artifact", "card_added": "card_added"}


@dataclass(frozen=True, eq=False)
class OnArtifact(Trigger):
    """Fire once per new version of an artifact matching a query (unset keys match anything)::

        OnArtifact(trigger_on=Daily.query(region="EU"),
                   inputs={"df": Daily, "day": Daily.time_partition})

    With ``on="card_added"`` it fires once per ``ModelCard``/``DataCard`` attached to a
    matching version instead (a version published with two cards fires it twice); the inputs
    bind from that version the same way.
    """

    trigger_on: Artifact | ArtifactQuery
    inputs: dict[str, Any] = field(default_factory=dict)
    on: str = "created"

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
        if self.on not in ON:
            raise DefinitionError(
                f"OnArtifact on {query.artifact.name!r}: on={self.on!r} is not known; use "
                + " or ".join(repr(k) for k in ON)
            )

    @property
    def kind(self) -> str:
        return ON[self.on]

    @property
    def query(self) -> ArtifactQuery:
        t = self.trigger_on
        return t if isinstance(t, ArtifactQuery) else t.query()

    @property
    def artifact(self) -> Artifact:
        return self.query.artifact

    def problems(self, inputs: dict[str, Any], fixed_inputs: set[str]) -> list[str]:
        known = ", ".join(inputs) or "none"
        out = []
        for k in self.inputs:
            if k not in inputs:
                out.append(
                    f"OnArtifact({self.artifact.name!r}) binds {k!r}, which "
                    f"is not an input (inputs: {known})"
                )
            elif k in fixed_inputs:
                out.append(
                    f"OnArtifact({self.artifact.name!r}) binds fixed input "
                    f"{k!r}; fixed inputs cannot be overridden"
                )
        return out

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
            "kind": self.kind,
            "artifact": q.artifact.name,
            "project": q.project,
            "domain": q.domain,
            "partitions": dict(q.partitions),
            "time_partition": None if tp is None else jsonable(tp, where),
            "inputs": {k: binding_spec(v, f"{where} input {k!r}") for k, v in self.inputs.items()},
        }
