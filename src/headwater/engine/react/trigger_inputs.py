"""Inputs of a triggered execution, from the firing event(s) and the launch plan.

Precedence: fixed inputs, then trigger bindings, then launch-plan defaults; inputs left unset
fall back to the workflow's own defaults when the execution starts. Artifact references are
resolved here, at firing time, to exact versions, which are recorded as consumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from headwater.definitions.names import parse_time_text
from headwater.engine.kinds import kind_of
from headwater.engine.kinds.base import NotBindable
from headwater.engine.publish import artifacts
from headwater.engine.react.matching import Listener
from headwater.errors import HeadwaterError
from headwater.handles import ArtifactVersion
from headwater.storage import entities
from headwater.types import encode

if TYPE_CHECKING:
    from headwater.instance import Instance

_SHARED_STR = 256  # longest str whose literal a batch computes once (far below inlining's limit)
_JSON_KINDS = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


@dataclass(slots=True)
class Fired:
    """A firing's events, as stored on the execution for ``current.trigger``."""

    events: list[tuple[Any, dict[str, Any]]]
    literals: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    consumed: list[tuple[str, int]] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    # where each input set here came from (the rest take the workflow's defaults)
    sources: dict[str, str] = field(default_factory=dict)

    def trigger_info(self, listener: Listener) -> dict[str, Any]:
        return {
            "launch_plan": listener.lp_name,
            "launch_plan_version": listener.lp_version,
            "trigger": listener.path,
            "kind": listener.leaf["kind"],
            "events": [
                {
                    "id": r.id,
                    "name": r.name,
                    "source": r.source,
                    "subject": r.subject,
                    "time": r.time,
                    "payload": p,
                }
                for r, p in self.events
            ],
            "artifacts": self.artifacts,
            "runs": self.runs,
            "input_sources": self.sources,
        }


def _literal_value(value: Any) -> Any:
    if isinstance(value, dict) and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    return value


class Binder:
    """Binds inputs for one reactor batch (caches workflow interfaces by version).

    ``interfaces``: a cache to share across batches (a registered version's interface does
    not change), saving a read per batch."""

    def __init__(
        self, inst: Instance, interfaces: dict[tuple[str, ...], dict[str, Any]] | None = None
    ) -> None:
        self.inst = inst
        self._interfaces: dict[tuple[str, ...], dict[str, Any]] = (
            {} if interfaces is None else interfaces
        )
        # Literals of scalar payload values seen in this batch: a burst often binds the
        # same value (a table name, a region) to many executions.
        self._literals: dict[tuple[type, Any], Any] = {}
        # By interface (its id; the interfaces are kept while the binder lives): the names of
        # the required inputs without a query, which every firing must bind.
        self._required: dict[int, list[str]] = {}
        # Versions read with the batch's events (PostgreSQL), by URI: ``version`` looks
        # there before it asks the database.
        self.versions: dict[str, tuple[Any, Any]] = {}

    def _literal(self, name: str, value: Any) -> Any:
        """``encode(value)`` (type Any); a short str, int or bool's literal is computed once
        per batch: it depends on the value alone and is small enough to be inlined."""
        kind = type(value)
        if kind is int or kind is bool or (kind is str and len(value) <= _SHARED_STR):
            key = (kind, value)
            literal = self._literals.get(key)
            if literal is None:
                literal = self._literals[key] = encode(
                    value, None, self.inst.blobs, what=f"trigger input {name!r}"
                )
            return literal
        return encode(value, None, self.inst.blobs, what=f"trigger input {name!r}")

    def interface(self, tx: Any, listener: Listener) -> dict[str, Any]:
        key = (listener.project, listener.domain, listener.workflow, listener.workflow_version)
        if key not in self._interfaces:
            spec = entities.get_spec(
                tx,
                project=listener.project,
                domain=listener.domain,
                name=listener.workflow,
                version=listener.workflow_version,
            )
            self._interfaces[key] = json.loads(spec)["inputs"] if spec is not None else {}
        return self._interfaces[key]

    def bind(self, tx: Any, listener: Listener, events: list[tuple[Any, dict[str, Any]]]) -> Fired:
        fired = Fired(events)
        spec = listener.spec
        inputs = self.interface(tx, listener)
        if listener.all_of is None:
            pairs = [(listener.kind, listener.leaf, events[0])]
        else:
            pairs = [(kind_of(leaf), leaf, event) for leaf, event in self._pair(listener, events)]
        for kind, _, (_, payload) in pairs:
            kind.note(fired, payload)
        bound: dict[str, Any] = {}
        for kind, leaf, (row, payload) in pairs:
            bound.update(kind.bind(self, leaf, row, payload, inputs))
        for name, query in spec.get("query_inputs", {}).items():
            if name not in bound and name not in spec.get("fixed_inputs", {}):
                version = self.find(query, None, listener.project, listener.domain)
                fired.literals[name] = version.literal
                fired.resolved[name] = {"uri": version.uri, "via": "launch plan query"}
                fired.consumed.append((name, version.id))
                fired.sources[name] = "launch plan query"
        for name, value in bound.items():
            fired.sources[name] = "trigger"
            if isinstance(value, ArtifactVersion):
                fired.literals[name] = value.literal
                fired.resolved[name] = {"uri": value.uri, "via": "trigger"}
                fired.consumed.append((name, value.id))
            else:
                fired.literals[name] = self._literal(name, value)
        for name, literal in spec.get("default_inputs", {}).items():
            if name not in fired.literals:
                fired.literals[name] = literal
                fired.sources[name] = "launch plan default"
        for name, literal in spec.get("fixed_inputs", {}).items():
            fired.literals[name] = literal
            fired.sources[name] = "launch plan fixed"
        required = self._required.get(id(inputs))
        if required is None:
            required = self._required[id(inputs)] = [
                n for n, s in inputs.items() if s.get("required") and not s.get("query")
            ]
        missing = [n for n in required if n not in fired.literals]
        if missing:
            raise NotBindable(f"no value for required input {', '.join(missing)}")
        return fired

    @staticmethod
    def _pair(
        listener: Listener, events: list[tuple[Any, dict[str, Any]]]
    ) -> list[tuple[dict[str, Any], Any]]:
        """Each event with the leaf it fired (an AllOf's parts in order)."""
        if listener.all_of is None:
            return [(listener.leaf, events[0])]
        return list(zip(listener.all_of["parts"], events, strict=True))

    # -- what kinds bind inputs with ----------------------------------------------------------
    def version(self, uri: str) -> ArtifactVersion:
        """The artifact version a URI names."""
        found = self.versions.get(uri)
        if found is not None and found[1] is None:  # read already, and not purged
            return ArtifactVersion(self.inst, found[0])
        return artifacts.resolve_uri(self.inst, uri)

    @staticmethod
    def literal(value: Any) -> Any:
        """A literal as stored in a spec, as a Python value."""
        return _literal_value(value)

    @staticmethod
    def convert(param: str, field: str, value: Any, spec: dict[str, Any]) -> Any:
        """A payload field's value for input ``param`` of interface spec ``spec``."""
        want = spec.get("type", "Any")
        if want.startswith("Optional[") and value is None:
            return None
        want = want[9:-1] if want.startswith("Optional[") else want
        if set(want.replace(" ", "").split("|")) <= {"int", "float", "None"} and "|" in want:
            # A number whose type is only known from a default: any number keeps its JSON
            # type (never truncated); a numeric string becomes a number.
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                for convert in (int, float):
                    try:
                        return convert(value)
                    except ValueError:
                        pass
            raise NotBindable(
                f"payload field {field!r} = {value!r} for input {param!r} is not a number"
            )
        kinds = _JSON_KINDS.get(want)
        if kinds is None:
            return value
        if want == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, kinds) and not (want != "bool" and isinstance(value, bool)):
            return value
        if isinstance(value, str) and want in ("int", "float"):
            try:
                return int(value) if want == "int" else float(value)
            except ValueError:
                pass
        raise NotBindable(
            f"payload field {field!r} = {value!r} for input {param!r} cannot be converted to {want}"
        )

    @staticmethod
    def time_partition(payload: dict[str, Any], offset: float) -> datetime:
        """The triggering version's time partition moved by ``offset`` seconds."""
        text = payload.get("time_partition")
        if not text:
            raise NotBindable("the triggering version has no time partition")
        return parse_time_text(text) + timedelta(seconds=offset)

    def find(
        self, b: dict[str, Any], payload: dict[str, Any] | None, project: str, domain: str
    ) -> ArtifactVersion:
        """The latest version a query binding names (its values may refer to ``payload``)."""
        parts: dict[str, Any] = {}
        for key, ref in b.get("partitions", {}).items():
            if ref["kind"] == "partition":
                parts[key] = ((payload or {}).get("partitions") or {}).get(ref["key"])
            else:
                parts[key] = ref["value"]
        tp = b.get("time_partition")
        tp_value = None
        if tp is not None:
            tp_value = (
                self.time_partition(payload or {}, tp["offset"])
                if tp["kind"] == "time_partition"
                else _literal_value(tp["value"])
            )
        try:
            return artifacts.find(
                self.inst,
                b.get("project") or project,
                b.get("domain") or domain,
                b["artifact"],
                parts,
                tp_value,
            )
        except HeadwaterError as exc:
            raise NotBindable(str(exc)) from None
