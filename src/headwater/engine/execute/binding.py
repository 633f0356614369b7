"""Binding values to an entity's interface: inputs in (with artifact queries), outputs out.

Everything here validates before anything is written, so a refused input stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import Artifact, ArtifactQuery, InputRef
from headwater.definitions.cards import Card
from headwater.definitions.entity import Entity
from headwater.definitions.interface import OutputSpec
from headwater.definitions.names import is_uri
from headwater.engine.publish import artifacts
from headwater.errors import MissingInputError, TypeMismatchError, UserInputError
from headwater.handles import ArtifactVersion
from headwater.types import check, encode, type_name

if TYPE_CHECKING:
    from headwater.instance import Instance


@dataclass
class OutputMeta:
    """What ``Artifact.create_from`` recorded for a value about to be returned."""

    artifact: Artifact
    value: Any
    cards: list[Card]
    time_partition: Any
    partitions: dict[str, str]


@dataclass
class BoundInputs:
    values: dict[str, Any] = field(default_factory=dict)
    literals: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumed: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class BoundOutput:
    name: str
    value: Any
    literal: dict[str, Any]
    emission: artifacts.Emission | None


_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, datetime, date, timedelta, Enum)


def _immutable(value: Any) -> bool:
    """Only values that cannot change may be remembered by identity: a dict returned by one
    task and changed by the workflow afterwards must be stored again."""
    if isinstance(value, _IMMUTABLE):
        return True
    if isinstance(value, tuple | frozenset):
        return all(_immutable(v) for v in value)
    return type(value).__module__ == "pyarrow.lib" and type(value).__name__ == "Table"


class LiteralMemo:
    """Immutable values already stored in this execution, by identity, so they are not
    encoded twice."""

    def __init__(self) -> None:
        # The value is kept alongside its literal so its id cannot be reused while memoized.
        self._by_id: dict[int, tuple[Any, dict[str, Any]]] = {}

    def encode(self, value: Any, tp: Any, inst: Instance, what: str) -> dict[str, Any]:
        hit = self._by_id.get(id(value))
        if hit is not None and hit[0] is value:
            check(value, tp, what)
            return hit[1]
        literal = encode(value, tp, inst.blobs, what=what)
        self.remember(value, literal)
        return literal

    def remember(self, value: Any, literal: dict[str, Any]) -> None:
        if _immutable(value):
            self._by_id[id(value)] = (value, literal)


def is_artifact_ref(value: Any, tp: Any) -> bool:
    """Whether a value given for an input of type ``tp`` names an artifact version (an
    ``ArtifactVersion``, a query, or an ``hw://`` URI unless the input is a ``str``)."""
    if isinstance(value, ArtifactVersion | ArtifactQuery):
        return True
    return is_uri(value) and tp is not str


def version_value(version: ArtifactVersion, tp: Any, what: str) -> Any:
    """The value of ``version`` read as ``tp``; TypeMismatchError naming ``what``, the expected
    type and the stored type when it does not fit."""
    try:
        value = version.value(tp)
        check(value, tp, what)
    except TypeMismatchError as exc:
        stored = str(version.literal.get("type") or version.literal.get("format"))
        expected = type_name(tp)
        # Same outer type (dict vs dict[str, int]): only the checker's detail says what differs.
        detail = f" ({exc})" if expected.startswith(stored) else ""
        raise TypeMismatchError(
            f"{what} expects {expected}, but {version.uri} holds a {stored}{detail}; "
            f"give a version whose value is a {expected}"
        ) from None
    return value


def bind_inputs(
    inst: Instance,
    entity: Entity,
    given: dict[str, Any],
    project: str,
    domain: str,
    memo: LiteralMemo,
) -> BoundInputs:
    """Given values, artifact references and defaults -> checked values and their literals."""
    iface = entity.interface
    label = f"{entity.kind} {entity.name!r}"
    unknown = [k for k in given if k not in iface.inputs]
    if unknown:
        raise UserInputError(
            f"{label} has no input {', '.join(map(repr, unknown))} (inputs: "
            f"{', '.join(iface.inputs) or 'none'})"
        )
    missing = [
        f"{n} ({type_name(s.type)})"
        for n, s in iface.inputs.items()
        if n not in given and s.required
    ]
    if missing:
        raise MissingInputError(
            f"{label} needs input {', '.join(missing)}; pass it, e.g. "
            f"`-i {missing[0].split(' ')[0]}=...` on the command line"
        )
    out = BoundInputs()
    # Plain inputs first, so query defaults can refer to them (Daily.query(region=Inputs.region)).
    order = sorted(
        iface.inputs.items(), key=lambda kv: kv[0] not in given and kv[1].query is not None
    )
    for name, spec in order:
        what = f"{label} input {name!r}"
        version: ArtifactVersion | None = None
        if name in given and is_artifact_ref(given[name], spec.type):
            version = (
                artifacts.resolve(inst, given[name])
                if not isinstance(given[name], ArtifactQuery)
                else artifacts.resolve_query(inst, given[name], project, domain)
            )
            out.resolved[name] = {"uri": version.uri, "via": "explicit"}
        elif name not in given and spec.query is not None:
            query = _with_inputs(spec.query, out.values, what)
            version = artifacts.resolve_query(inst, query, project, domain)
            out.resolved[name] = {"uri": version.uri, "via": "query", "query": repr(spec.query)}
        if version is not None:
            value = version_value(version, spec.type, what)
            out.consumed.append((name, version.id))
            memo.remember(value, version.literal)
            out.literals[name] = version.literal
        else:
            value = given.get(name, spec.default)
            out.literals[name] = memo.encode(value, spec.type, inst, what)
        out.values[name] = value
    out.values = {n: out.values[n] for n in iface.inputs}
    return out


def _with_inputs(query: ArtifactQuery, values: dict[str, Any], what: str) -> ArtifactQuery:
    """Replace ``Inputs.x`` in a query by the bound value of input ``x``."""

    def sub(v: Any) -> Any:
        if not isinstance(v, InputRef):
            return v
        if v.name not in values or isinstance(values[v.name], ArtifactQuery):
            raise UserInputError(
                f"{what}: its query refers to Inputs.{v.name}, which is not a "
                "plain input of this workflow"
            )
        return values[v.name]

    if query.is_static():
        return query
    return replace(
        query,
        partitions={k: sub(v) for k, v in query.partitions.items()},
        time_partition=sub(query.time_partition),
    )


def split_result(entity: Entity, result: Any) -> dict[str, Any]:
    """The returned value(s) by output name."""
    iface = entity.interface
    if iface.dynamic_outputs:
        if not isinstance(result, Mapping):
            raise TypeMismatchError(
                f"{entity.kind} {entity.name!r} must return a mapping of "
                f"output name -> value, got {type(result).__name__}"
            )
        return dict(result)
    if not iface.outputs:
        return {}
    if iface.named_tuple is not None:
        names = list(iface.outputs)
        if not isinstance(result, tuple) or len(result) != len(names):
            raise TypeMismatchError(
                f"{entity.kind} {entity.name!r} must return {iface.named_tuple.__name__} "
                f"({', '.join(names)}), got {type(result).__name__}"
            )
        return dict(zip(names, result, strict=True))
    return {"o0": result}


def _match_meta(
    pending: list[OutputMeta], artifact: Artifact, value: Any, used: set[int]
) -> OutputMeta | None:
    same = [
        (i, m) for i, m in enumerate(pending) if m.artifact.name == artifact.name and i not in used
    ]
    for i, m in same:
        if m.value is value:
            used.add(i)
            return m
    if len(same) == 1:
        used.add(same[0][0])
        return same[0][1]
    return None


def bind_outputs(
    inst: Instance,
    entity: Entity,
    result: Any,
    inputs: dict[str, Any],
    pending: list[OutputMeta],
    project: str,
    domain: str,
    memo: LiteralMemo,
) -> list[BoundOutput]:
    """Check and encode outputs; work out each artifact output's partitions and cards."""
    label = f"{entity.kind} {entity.name!r}"
    values = split_result(entity, result)
    used: set[int] = set()
    bound = []
    specs = entity.interface.outputs
    if entity.interface.dynamic_outputs:
        specs = {n: OutputSpec(n, Any) for n in values}
    for name, spec in specs.items():
        what = f"{label} output {name!r}"
        value = values[name]
        literal = memo.encode(value, spec.type, inst, what)
        emission = None
        if spec.binding is not None:
            b = spec.binding
            parts = {
                k: inputs[v.name] if isinstance(v, InputRef) else v for k, v in b.partitions.items()
            }
            tp = (
                inputs[b.time_partition.name]
                if isinstance(b.time_partition, InputRef)
                else b.time_partition
            )
            cards: list[Card] = []
            meta = _match_meta(pending, b.artifact, value, used)
            if meta is not None:
                parts.update(meta.partitions)
                tp = meta.time_partition if meta.time_partition is not None else tp
                cards = meta.cards
            emission = artifacts.prepare(b.artifact, parts, tp, cards, project, domain, what)
        bound.append(BoundOutput(name, value, literal, emission))
    stray = [m for i, m in enumerate(pending) if i not in used]
    if stray:
        names = ", ".join(sorted({m.artifact.name for m in stray}))
        raise UserInputError(
            f"{label} called create_from for artifact {names}, but no output of "
            f"{label} is annotated with it; annotate the output, e.g. "
            f"-> Annotated[T, {stray[0].artifact.name}]"
        )
    return bound
