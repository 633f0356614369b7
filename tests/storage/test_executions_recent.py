"""storage/executions.py ``recent_runs`` on both backends: the newest runs of one workflow in
one project/domain (optionally of one launch plan), what the meta-workflow graph counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from headwater.storage import executions as ex
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def row(eid: str, created_at: float, **fields: Any) -> dict[str, Any]:
    """An execution's row: a run of ``wf`` in p/d that succeeded, unless ``fields`` say."""
    out: dict[str, Any] = {
        "id": eid,
        "project": "p",
        "domain": "d",
        "workflow": "wf",
        "workflow_version": "v1",
        "status": "succeeded",
        "inputs": {},
        "resolved": {},
        "created_at": created_at,
    }
    out.update(fields)
    return out


def add(db: Database, eid: str, created_at: float, **fields: Any) -> None:
    with db.transaction() as tx:
        ex.insert_execution(tx, **row(eid, created_at, **fields))


def test_recent_runs_are_the_newest_of_that_workflow_and_scope(db: Database) -> None:
    add(db, "old", 1.0)
    add(db, "mid", 2.0, status="failed", launch_plan="nightly")
    add(db, "new", 3.0, launch_plan="nightly")
    add(db, "other-wf", 4.0, workflow="wf2")
    add(db, "other-project", 5.0, project="q")
    add(db, "other-domain", 6.0, domain="prod")
    with db.read() as tx:
        runs = ex.recent_runs(tx, project="p", domain="d", workflow="wf")
        two = ex.recent_runs(tx, project="p", domain="d", workflow="wf", limit=2)
        plan = ex.recent_runs(tx, project="p", domain="d", workflow="wf", launch_plan="nightly")
        none = ex.recent_runs(tx, project="p", domain="d", workflow="missing")
    assert [r.id for r in runs] == ["new", "mid", "old"]
    assert [(r.status, r.created_at) for r in runs][1] == ("failed", 2.0)
    assert [r.id for r in two] == ["new", "mid"]
    assert [r.id for r in plan] == ["new", "mid"]
    assert none == []
