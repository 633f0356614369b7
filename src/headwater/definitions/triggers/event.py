"""``OnEvent``: fire on a custom event by exact name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.definitions.triggers.base import Trigger, check_scope, declared_name, jsonable
from headwater.errors import DefinitionError


def parameters_spec(parameters: Any, where: str) -> dict[str, str] | None:
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
        declared_name(self.name, "event name")
        parameters_spec(self.parameters, f"OnEvent({self.name!r})")
        if self.filter is not None and not isinstance(self.filter, dict):
            raise DefinitionError(
                f"OnEvent({self.name!r}): filter must be a dict of payload field -> required value"
            )
        check_scope(self.project, self.domain)

    @property
    def kind(self) -> str:
        return "event"

    def spec(self) -> dict[str, Any]:
        where = f"OnEvent({self.name!r})"
        return {
            "kind": "event",
            "name": self.name,
            "parameters": parameters_spec(self.parameters, where),
            "filter": {k: jsonable(v, where) for k, v in (self.filter or {}).items()},
            "project": self.project,
            "domain": self.domain,
        }
