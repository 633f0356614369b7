"""Warnings at registration about triggers that listen to a name nothing declares.

A typo in an artifact, event or workflow name makes a trigger that never fires and says
nothing. These checks are deliberately simple and only warn (the name may be declared later):

- an artifact: no task or workflow registered anywhere outputs it, it has no version yet, and
  no ``Artifact`` of that name is a variable of the module being registered;
- an event: not a built-in ``headwater.*`` event, and no event of that name was ever received;
- a workflow (``OnFinish``): no workflow of that name is registered in the trigger's scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import Artifact
from headwater.engine.launch_plans import LaunchPlanInfo
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
    for row in tx.all("SELECT spec FROM entities"):
        for out in json.loads(row["spec"]).get("outputs", {}).values():
            if out.get("artifact"):
                found.add(out["artifact"])
    return found


def undeclared_names(inst: Instance, module: ModuleType, registered: list[Any]) -> list[str]:
    """One warning per (launch plan, name) that nothing declares; [] when all is well."""
    plans = [r for r in registered if isinstance(r, LaunchPlanInfo)]
    in_module = {v.name for v in vars(module).values() if isinstance(v, Artifact)}
    warnings: list[str] = []
    produced: set[str] | None = None
    with inst.db.read() as tx:
        for lp in plans:
            for leaf in _leaves(lp.spec.get("triggers") or []):
                kind = leaf.get("kind")
                if kind == "artifact":
                    name = str(leaf["artifact"])
                    if name in in_module:
                        continue
                    if produced is None:
                        produced = _produced_artifacts(tx)
                    if name in produced or tx.one(
                        "SELECT 1 FROM artifacts WHERE name = :n LIMIT 1", {"n": name}
                    ):
                        continue
                    warnings.append(
                        f"launch plan {lp.name!r} listens to artifact {name!r}, which no "
                        "registered task or workflow outputs and which has no version yet; it "
                        f"fires once a version of {name!r} exists. Check the name; register the "
                        "module that produces it first and this warning goes away "
                        f"({SILENCE})"
                    )
                elif kind == "event":
                    name = str(leaf["name"])
                    if name.startswith("headwater.") or event_rows.name_seen(tx, name):
                        continue
                    warnings.append(
                        f"launch plan {lp.name!r} listens to event {name!r}, which has never "
                        "been received; check the name. If such events will come from outside, "
                        f"ignore this: it is not shown once one has arrived ({SILENCE})"
                    )
                elif kind == "finish":
                    name = str(leaf["workflow"])
                    project = leaf.get("project") or lp.project
                    domain = leaf.get("domain") or lp.domain
                    if tx.one(
                        "SELECT 1 FROM entities WHERE project = :p AND domain = :d AND name = :n "
                        "LIMIT 1",
                        {"p": project, "d": domain, "n": name},
                    ):
                        continue
                    warnings.append(
                        f"launch plan {lp.name!r} waits for workflow {name!r} to finish, but no "
                        f"workflow of that name is registered in {project}/{domain}; check the "
                        "name, or register that workflow and this warning goes away "
                        f"({SILENCE})"
                    )
    return list(dict.fromkeys(warnings))
