"""Warnings at registration about triggers that listen to a name nothing declares.

A typo in an artifact, event or workflow name makes a trigger that never fires and says
nothing. These checks are deliberately simple and only warn (the name may be declared later):

- an artifact: no task or workflow registered anywhere outputs it, it has no version yet, and
  no ``Artifact`` of that name is a variable of the module being registered;
- an event: not a built-in ``headwater.*`` event, and no event of that name was ever received;
- a workflow (``OnFinish``): no workflow of that name is registered in the trigger's scope;
- a named queue (``LaunchPlan.create(..., queue="gpu")``): no worker has served it recently
  (``storage/worker_registry.py``); the ``default`` queue is not checked.

What each kind warns about is its own (``Kind.undeclared``); this module looks the names up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import Artifact
from headwater.engine.kinds import Names, kind_of
from headwater.engine.register.launch_plans import LaunchPlanInfo
from headwater.storage import artifacts as artifact_rows
from headwater.storage import entities, worker_registry
from headwater.storage import events as event_rows

if TYPE_CHECKING:
    from headwater.instance import Instance
    from headwater.storage.db import Tx

SILENCE = "`headwater register --no-warnings` hides these warnings"


def _leaves(specs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for spec in specs:
        if spec.get("kind") in ("any", "all"):
            yield from _leaves(spec.get("parts") or [])
        else:
            yield spec


def _produced_artifacts(tx: Tx) -> set[str]:
    found = set()
    for spec in entities.all_specs(tx):
        for out in json.loads(spec).get("outputs", {}).values():
            if out.get("artifact"):
                found.add(out["artifact"])
    return found


class _Names(Names):
    """Looks names up in the instance (once per registration for what every check needs)."""

    def __init__(self, tx: Tx, in_module: set[str]) -> None:
        self.tx = tx
        self.in_module = in_module
        self.produced: set[str] | None = None

    def artifact_known(self, name: str) -> bool:
        if name in self.in_module:
            return True
        if self.produced is None:
            self.produced = _produced_artifacts(self.tx)
        return name in self.produced or artifact_rows.name_exists(self.tx, name=name)

    def event_seen(self, name: str) -> bool:
        return event_rows.name_seen(self.tx, name)

    def workflow_registered(self, project: str, domain: str, name: str) -> bool:
        return entities.name_exists(self.tx, project=project, domain=domain, name=name)


def undeclared_names(inst: Instance, module: ModuleType, registered: list[Any]) -> list[str]:
    """One warning per (launch plan, name) that nothing declares; [] when all is well."""
    plans = [r for r in registered if isinstance(r, LaunchPlanInfo)]
    in_module = {v.name for v in vars(module).values() if isinstance(v, Artifact)}
    warnings: list[str] = []
    now = time.time()
    with inst.db.read() as tx:
        names = _Names(tx, in_module)
        for lp in plans:
            for leaf in _leaves(lp.spec.get("triggers") or []):
                warning = kind_of(leaf).undeclared(leaf, lp, names)
                if warning:
                    warnings.append(f"{warning} ({SILENCE})")
            queue = lp.spec.get("queue")
            if queue and not worker_registry.is_served(tx, queue, now=now):
                warnings.append(
                    f"launch plan {lp.name!r} queues its executions on {queue!r}, which no "
                    f"worker has served in the last {worker_registry.SERVED_WITHIN:.0f} s; "
                    f"they wait until one runs `headwater worker --queue {queue}` ({SILENCE})"
                )
    return list(dict.fromkeys(warnings))
