"""Relaunch: repeat an execution with its recorded, fully resolved inputs (invariant 5)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import ArtifactQuery
from headwater.definitions.storable import check_strings
from headwater.engine.execute.binding import is_artifact_ref, version_value
from headwater.engine.execute.runner import new_execution_id
from headwater.engine.execute.text_inputs import from_text
from headwater.engine.publish.artifacts import resolve, resolve_query, resolve_uri
from headwater.engine.register.snapshots import load_entity
from headwater.errors import NotFoundError, UserInputError
from headwater.storage import executions as rows
from headwater.storage.execution_links import insert_links
from headwater.storage.executions import ExecutionRow
from headwater.storage.lineage_edges import CONSUMED, insert_edges
from headwater.types import encode

if TYPE_CHECKING:
    from headwater.definitions.entity import Entity
    from headwater.instance import Instance


def original(inst: Instance, execution_id: str) -> tuple[ExecutionRow, Entity]:
    """The execution's row and its registered workflow (from the code snapshot)."""
    with inst.db.read() as tx:
        row = rows.get_execution(tx, execution_id)
    if row is None:
        raise NotFoundError(
            f"no execution {execution_id!r}; list them with `headwater executions list`"
        )
    entity = load_entity(inst, row.project, row.domain, row.workflow, row.workflow_version)
    return row, entity


def relaunch(
    inst: Instance,
    execution_id: str,
    overrides: dict[str, Any] | None = None,
    *,
    text_inputs: dict[str, str] | None = None,
    local_paths: bool = True,
    check_project: Callable[[str], None] | None = None,
) -> str:
    """Queue a new execution of the same workflow version with the same inputs (the exact
    artifact versions the original consumed), except ``overrides`` (values) and
    ``text_inputs`` (command-line text, converted to the declared types; ``local_paths=False``
    when the text came from a client, see :mod:`headwater.engine.execute.text_inputs`).

    An override may name an artifact version instead of a value: an ``ArtifactVersion``, an
    artifact query, or an ``hw://`` URI (exact or query; not for a ``str`` input, where it
    is text). It is resolved now, its stored value must fit the input's type, and the new
    execution records it as consumed (resolved inputs and lineage). ``check_project`` is
    called with each such version's project (the server refuses projects a token may not
    see). Bad input raises before anything is stored. Returns the new execution's id."""
    row, entity = original(inst, execution_id)
    specs = entity.interface.inputs
    overrides = dict(overrides or {})
    if text_inputs:
        both = sorted(set(overrides) & set(text_inputs))
        if both:
            raise UserInputError(
                f"input {both[0]!r} is given twice (as a value and as text); give it once"
            )
        overrides.update(from_text(entity, text_inputs, local_paths=local_paths))
    literals = json.loads(row.inputs)
    resolved = json.loads(row.resolved or "{}")
    for name, value in overrides.items():
        if name not in specs:
            raise UserInputError(
                f"{entity.name} has no input {name!r} (inputs: {', '.join(specs) or 'none'})"
            )
        what = f"{entity.kind} {entity.name!r} input {name!r}"
        if is_artifact_ref(value, specs[name].type):
            version = (
                resolve_query(inst, value, row.project, row.domain)
                if isinstance(value, ArtifactQuery)
                else resolve(inst, value)
            )
            if check_project is not None:
                check_project(version.project)
            version_value(version, specs[name].type, what)
            literals[name] = version.literal
            resolved[name] = {"uri": version.uri, "via": "explicit"}
            continue
        literals[name] = encode(value, specs[name].type, inst.blobs, what=what)
        check_strings(literals[name], what)
        resolved.pop(name, None)
    consumed = [(name, resolve_uri(inst, r["uri"]).id) for name, r in resolved.items()]
    new_id = new_execution_id()
    with inst.db.transaction() as tx:
        rows.insert_execution(
            tx,
            id=new_id,
            project=row.project,
            domain=row.domain,
            workflow=row.workflow,
            workflow_version=row.workflow_version,
            launch_plan=row.launch_plan,
            launch_plan_id=row.launch_plan_id,
            status="queued",
            inputs=literals,
            resolved=resolved,
            trigger={
                "kind": "relaunch",
                "of": execution_id,
                # the inputs given anew (the rest repeat the original's): how each was resolved
                "overrides": sorted(overrides),
                "events": [],
                "artifacts": [],
                "runs": [],
            },
            created_at=time.time(),
            max_attempts=row.max_attempts,
            queue=row.queue,
        )
        insert_links(tx, new_id, [execution_id], "relaunch")
        insert_edges(
            tx,
            [
                {
                    "execution_id": new_id,
                    "version_id": vid,
                    "direction": CONSUMED,
                    "name": name,
                    "node_id": None,
                }
                for name, vid in consumed
            ],
        )
    return new_id
