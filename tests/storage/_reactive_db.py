"""Shared set-up of the contract tests of the reactive tables' storage modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from headwater.storage import events as event_rows
from headwater.storage.db import Database, Tx
from headwater.storage.launch_plans import insert_launch_plan
from headwater.storage.migrate import ensure_schema
from tests import _schema


def migrated(url: str) -> Iterator[Database]:
    """A database at the migrations' head (for a pytest fixture to yield from)."""
    db = Database(_schema.at_head(url))  # a copy of a migrated database (tests/_schema.py)
    try:
        ensure_schema(db)
        yield db
    finally:
        db.close()


def add_plan(
    tx: Tx,
    name: str = "lp",
    version: str = "v1",
    *,
    project: str = "p",
    domain: str = "d",
    spec: dict[str, Any] | None = None,
    now: float = 1000.0,
) -> int:
    """Register a launch plan version; its row id."""
    return insert_launch_plan(
        tx,
        project=project,
        domain=domain,
        name=name,
        version=version,
        workflow="mod.wf",
        workflow_version="w1",
        spec=spec or {"triggers": []},
        now=now,
    )


def add_event(
    tx: Tx,
    event_id: str,
    *,
    name: str = "evt",
    source: str = "test://src",
    time: float = 1000.0,
    payload: dict[str, Any] | None = None,
) -> int:
    """Store an event (and its inbox row); its seq."""
    seq = event_rows.insert_event(
        tx,
        id=event_id,
        name=name,
        source=source,
        project="p",
        domain="d",
        time=time,
        payload=payload or {},
    )
    assert seq is not None
    return seq
