"""``OnArtifact(...)``: a new version of an artifact matching a query."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.engine.kinds.base import Key, Kind, Names, scope

if TYPE_CHECKING:
    from headwater.definitions.triggers import Trigger
    from headwater.engine.react.matching import Listener
    from headwater.engine.react.trigger_inputs import Binder, Fired

DATETIME_TYPES = {"datetime", "date", "str", "Any", "Optional[datetime]", "Optional[str]"}
STRING_TYPES = {"str", "Any", "Optional[str]"}


def _strip_optional(t: str) -> str:
    return t[9:-1] if t.startswith("Optional[") else t


class ArtifactCreated(Kind):
    """Fires once per new version; its inputs bind from that version."""

    spec_kinds = ("artifact",)
    events = (event_names.ARTIFACT_CREATED,)
    key_name = "artifact"  # the first item of its index keys

    def leaf_key(self, leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> Key:
        return (self.key_name, *scope(leaf, project, domain), leaf["artifact"])

    def event_key(self, name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
        return (self.key_name, project, domain, payload.get("artifact"))

    def match(self, listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
        leaf = listener.leaf
        have = payload.get("partitions") or {}
        for key, want in (leaf.get("partitions") or {}).items():
            if have.get(key) != want:
                return f"partition mismatch: {key}={have.get(key)!r}, trigger wants {want!r}"
        want_tp = leaf.get("time_partition")
        if want_tp is not None:
            from headwater.definitions.names import normalize_time, time_text

            want_text = time_text(
                normalize_time(want_tp["$datetime"] if isinstance(want_tp, dict) else want_tp, None)
            )
            if payload.get("time_partition") != want_text:
                return (
                    f"time partition mismatch: {payload.get('time_partition')}, trigger "
                    f"wants {want_text}"
                )
        return None

    def correlation_value(self, leaf: dict[str, Any], payload: dict[str, Any], key: str) -> Any:
        return (payload.get("partitions") or {}).get(key)

    def note(self, fired: Fired, payload: dict[str, Any]) -> None:
        fired.artifacts.append(payload["uri"])

    def bind(
        self,
        binder: Binder,
        leaf: dict[str, Any],
        row: Any,
        payload: dict[str, Any],
        inputs: dict[str, Any],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        version = None
        for name, b in leaf.get("inputs", {}).items():
            if b["kind"] == "artifact":
                version = version or binder.version(payload["uri"])
                out[name] = version
            elif b["kind"] == "partition":
                out[name] = (payload.get("partitions") or {}).get(b["key"])
            elif b["kind"] == "time_partition":
                out[name] = binder.time_partition(payload, b["offset"])
            elif b["kind"] == "query":
                out[name] = binder.find(b, payload, row.project, row.domain)
            else:
                out[name] = binder.literal(b["value"])
        return out

    def provided(self, trigger: Trigger, inputs: dict[str, Any]) -> set[str]:
        return set(getattr(trigger, "inputs", {}))

    def check(
        self,
        trigger: Trigger,
        inputs: dict[str, Any],
        artifact_types: Callable[[str], set[str]],
    ) -> list[str]:
        from headwater.definitions.triggers import OnArtifact, binding_spec
        from headwater.types import check, type_name

        assert isinstance(trigger, OnArtifact)
        problems = []
        for name, binding in trigger.inputs.items():
            if name not in inputs:
                continue
            want = type_name(inputs[name].type)
            spec = binding_spec(binding, name)
            kind = spec["kind"]
            where = f"OnArtifact({trigger.artifact.name!r}) input {name!r}"
            if kind in ("artifact", "query"):
                art = spec["artifact"]
                have = artifact_types(art)
                if want != "Any" and have and _strip_optional(want) not in have:
                    problems.append(
                        f"{where}: artifact {art!r} holds "
                        f"{' / '.join(sorted(have))}, but input {name!r} is "
                        f"{want}"
                    )
            elif kind == "partition" and want not in STRING_TYPES:
                problems.append(
                    f"{where}: a partition value is a str, but input {name!r} is {want}"
                )
            elif kind == "time_partition" and want not in DATETIME_TYPES:
                problems.append(
                    f"{where}: a time partition is a datetime, but input {name!r} is {want}"
                )
            elif kind == "literal":
                try:
                    check(binding, inputs[name].type, where)
                except Exception as exc:
                    problems.append(str(exc))
        return problems

    def undeclared(self, leaf: dict[str, Any], lp: Any, names: Names) -> str | None:
        name = str(leaf["artifact"])
        if names.artifact_known(name):
            return None
        return (
            f"launch plan {lp.name!r} listens to artifact {name!r}, which no "
            "registered task or workflow outputs and which has no version yet; it "
            f"fires once a version of {name!r} exists. Check the name; register the "
            "module that produces it first and this warning goes away"
        )

    def describe(self, leaf: dict[str, Any]) -> str:
        return f"OnArtifact({leaf['artifact']!r})"

    def summary(self, spec: dict[str, Any]) -> str:
        return f"artifact {spec['artifact']}"
