"""``OnFinish(workflow, status=...)``: an execution of another workflow ended."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.engine import event_names
from headwater.engine.kinds.base import Key, Kind, Names, scope

if TYPE_CHECKING:
    from headwater.engine.react.matching import Listener
    from headwater.engine.react.trigger_inputs import Fired

# status= -> the events that satisfy it
WANTED = {
    "succeeded": (event_names.EXECUTION_SUCCEEDED,),
    "failed": (event_names.EXECUTION_FAILED,),
    "any": (event_names.EXECUTION_SUCCEEDED, event_names.EXECUTION_FAILED),
}


class Finish(Kind):
    """Listens to both ends of every execution of the workflow; ``status`` filters."""

    spec_kinds = ("finish",)
    events = (event_names.EXECUTION_SUCCEEDED, event_names.EXECUTION_FAILED)

    def leaf_key(self, leaf: dict[str, Any], project: str, domain: str, lp_id: int) -> Key:
        return ("finish", *scope(leaf, project, domain), leaf["workflow"])

    def event_key(self, name: str, project: str, domain: str, payload: dict[str, Any]) -> Key:
        return ("finish", project, domain, payload.get("workflow"))

    def match(self, listener: Listener, name: str, payload: dict[str, Any]) -> str | None:
        status = listener.leaf["status"]
        if name not in WANTED[status]:
            return f"status mismatch: the run {name.rsplit('.', 1)[1]}, trigger wants {status}"
        return None

    def note(self, fired: Fired, payload: dict[str, Any]) -> None:
        fired.runs.append(payload["execution_id"])

    def undeclared(self, leaf: dict[str, Any], lp: Any, names: Names) -> str | None:
        name = str(leaf["workflow"])
        project, domain = scope(leaf, lp.project, lp.domain)
        if names.workflow_registered(project, domain, name):
            return None
        return (
            f"launch plan {lp.name!r} waits for workflow {name!r} to finish, but no "
            f"workflow of that name is registered in {project}/{domain}; check the "
            "name, or register that workflow and this warning goes away"
        )

    def describe(self, leaf: dict[str, Any]) -> str:
        return f"OnFinish({leaf['workflow']!r}, status={leaf['status']!r})"

    def summary(self, spec: dict[str, Any]) -> str:
        return f"finish {spec['workflow'].rsplit('.', 1)[-1]} ({spec['status']})"
