"""The engine side of a trigger kind: what one kind of trigger means for the reactor.

A kind works on the JSON specs the definitions write (``headwater.definitions.triggers``): it
says which index key its leaves listen under and which key an event reaches, whether an event
matches a leaf, what an AllOf correlates on, how the inputs of a firing bind, what it checks at
registration, and how it is described. Every method but the keys has a default that suits a
kind without that concern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from headwater.definitions.triggers import Trigger
    from headwater.engine.react.matching import Listener
    from headwater.engine.react.trigger_inputs import Binder, Fired

Key = tuple[Any, ...]
# (path, leaf spec, the AllOf spec it is a part of or None, its part number or None)
Leaf = tuple[str, dict[str, Any], "dict[str, Any] | None", "int | None"]


class NotBindable(Exception):
    """The trigger matched but its execution cannot get valid inputs (recorded as not fired)."""


class Names:
    """What registration warnings look up about names (``trigger_warnings`` implements it)."""

    def artifact_known(self, name: str) -> bool:
        raise NotImplementedError

    def event_seen(self, name: str) -> bool:
        raise NotImplementedError

    def workflow_registered(self, project: str, domain: str, name: str) -> bool:
        raise NotImplementedError


class Kind:
    """One trigger kind. Subclasses set ``spec_kinds`` (the ``"kind"`` values of the specs it
    evaluates) and ``events`` (the names of the engine events it listens to; a kind listening
    to custom events by name is the registry's fallback)."""

    spec_kinds: ClassVar[tuple[str, ...]] = ()
    events: ClassVar[tuple[str, ...]] = ()

    # -- indexing ----------------------------------------------------------------------------------
    def leaves(self, spec: dict[str, Any], path: str) -> Iterator[Leaf]:
        """The leaves a trigger spec at ``path`` is indexed as (composites yield their parts)."""
        yield path, spec, None, None

    def leaf_key(self, leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> Key:
        """The index key a leaf of a launch plan in ``project``/``domain`` listens under."""
        raise NotImplementedError(f"{type(self).__name__} has no leaves of its own")

    def event_key(self, name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
        """The index key an event this kind listens to reaches."""
        raise NotImplementedError(f"{type(self).__name__} listens to no events")

    # -- deciding ----------------------------------------------------------------------------------
    def match(self, listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
        """None when the leaf's conditions hold for the event, else why not."""
        return None

    def correlation_value(self, leaf: dict[str, Any], payload: dict[str, Any], key: str) -> Any:
        """The value an event carries for an AllOf ``key`` (None: it has none)."""
        return payload.get(key)

    def note(self, fired: Fired, payload: dict[str, Any]) -> None:
        """Record on the firing what ``current.trigger`` lists for this event (versions, runs)."""

    def bind(
        self,
        binder: Binder,
        leaf: dict[str, Any],
        row: Any,
        payload: dict[str, Any],
        inputs: dict[str, Any],
    ) -> dict[str, Any]:
        """Input values of the fired execution that this leaf's event provides."""
        return {}

    # -- registration ------------------------------------------------------------------------------
    def provided(self, trigger: Trigger, inputs: dict[str, Any]) -> set[str]:
        """The workflow inputs (name -> interface spec) a firing of ``trigger`` gives a value."""
        return set()

    def check(
        self,
        trigger: Trigger,
        inputs: dict[str, Any],
        artifact_types: Callable[[str], set[str]],
    ) -> list[str]:
        """Problems that refuse the launch plan at registration ([] when none).
        ``artifact_types(name)``: the type names an artifact is known to hold."""
        return []

    def undeclared(self, leaf: dict[str, Any], lp: Any, names: Names) -> str | None:
        """A warning when the leaf listens to a name nothing declares (``lp``: the plan)."""
        return None

    # -- text ----------------------------------------------------------------------------------------
    def describe(self, leaf: dict[str, Any]) -> str:
        """The leaf as written in Python, e.g. ``OnEvent('data.updated')``."""
        return str(leaf.get("kind"))

    def summary(self, spec: dict[str, Any]) -> str:
        """The short form in ``headwater launchplans list``."""
        return str(spec.get("kind"))


def scope(leaf: dict[str, Any], project: str, domain: str) -> tuple[str, str]:
    """A leaf's own project/domain, else the launch plan's."""
    return leaf.get("project") or project, leaf.get("domain") or domain
