"""``OnEvent(name, ...)``: a custom event by exact name (the registry's fallback: every event
no other kind listens to reaches it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.engine.kinds.base import Key, Kind, Names, NotBindable, scope

if TYPE_CHECKING:
    from headwater.definitions.triggers import Trigger
    from headwater.engine.react.matching import Listener
    from headwater.engine.react.trigger_inputs import Binder


def _eq(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, int | float) and isinstance(b, str) and str(a) == b)


class CustomEvent(Kind):
    """Payload fields map to inputs; ``filter`` requires payload equality."""

    spec_kinds = ("event",)

    def leaf_key(self, leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> Key:
        return ("event", *scope(leaf, project, domain), leaf["name"])

    def event_key(self, name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
        return ("event", project, domain, name)

    def match(self, listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
        for field, want in (listener.leaf.get("filter") or {}).items():
            if field not in payload:
                return f"filter failed: payload has no field {field!r} (wants {want!r})"
            if not _eq(payload[field], want):
                return f"filter failed: {field}={payload[field]!r}, trigger wants {want!r}"
        return None

    def bind(
        self,
        binder: Binder,
        leaf: dict[str, Any],
        row: Any,
        payload: dict[str, Any],
        inputs: dict[str, Any],
    ) -> dict[str, Any]:

        out: dict[str, Any] = {}
        mapping = leaf.get("parameters")
        if mapping is None:
            mapping = {n: n for n in inputs if n in payload}
        for param, fld in mapping.items():
            if fld not in payload:
                if inputs.get(param, {}).get("required"):
                    raise NotBindable(
                        f"missing field {fld!r} (for required input {param!r}) in the event payload"
                    )
                continue
            out[param] = binder.convert(param, fld, payload[fld], inputs.get(param, {}))
        return out

    def provided(self, trigger: Trigger, inputs: dict[str, Any]) -> set[str]:
        parameters = trigger.spec()["parameters"]
        return set(inputs) if parameters is None else set(parameters)

    def undeclared(self, leaf: dict[str, Any], lp: Any, names: Names) -> str | None:
        name = str(leaf["name"])
        if name.startswith("headwater.") or names.event_seen(name):
            return None
        return (
            f"launch plan {lp.name!r} listens to event {name!r}, which has never "
            "been received; check the name. If such events will come from outside, "
            "ignore this: it is not shown once one has arrived"
        )

    def describe(self, leaf: dict[str, Any]) -> str:
        return f"OnEvent({leaf['name']!r})"

    def summary(self, spec: dict[str, Any]) -> str:
        return f"event {spec['name']}"
