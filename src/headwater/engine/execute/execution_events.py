"""The ``headwater.execution.*`` events, written in the transaction of the change they report."""

from __future__ import annotations

import uuid
from typing import Any

from headwater.engine import event_names
from headwater.storage import openlineage_outbox
from headwater.storage.db import Tx
from headwater.storage.events import insert_event


def emit(
    tx: Tx,
    name: str,
    now: float,
    *,
    execution_id: str,
    workflow: str,
    launch_plan: str | None,
    project: str,
    domain: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Insert one execution event (the outbox: the reactor reads it after COMMIT)."""
    insert_event(
        tx,
        id=uuid.uuid4().hex,
        name=name,
        source=event_names.SOURCE,
        project=project,
        domain=domain,
        time=now,
        subject=execution_id,
        payload={
            "execution_id": execution_id,
            "workflow": workflow,
            "launch_plan": launch_plan,
            "project": project,
            "domain": domain,
            **(extra or {}),
        },
    )
    if openlineage_outbox.enabled():  # the OpenLineage RunEvent, sent later by `up`
        kind = _lineage_type(name, extra or {})
        if kind is not None:
            openlineage_outbox.enqueue(
                tx, execution_id=execution_id, event_type=kind, event_time=now
            )


def _lineage_type(name: str, extra: dict[str, Any]) -> str | None:
    """The OpenLineage eventType of an execution event (None: a retry, not a state of the run)."""
    if name == event_names.EXECUTION_STARTED:
        return "START" if int(extra.get("attempt") or 1) <= 1 else "RUNNING"
    if name == event_names.EXECUTION_SUCCEEDED:
        return "COMPLETE"
    if name == event_names.EXECUTION_FAILED:
        return "ABORT" if extra.get("status") == "cancelled" else "FAIL"
    return None
